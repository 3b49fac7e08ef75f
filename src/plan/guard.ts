/**
 * The guard: safety rules turn some of a pool's actions into held actions, each with the rule
 * that held it and why. Pure. `force` bypasses every rule but ownership.
 */
import { memberHealthAddress, type Action, type HealthView, type HeldAction, type PoolSpec } from "../model.js";
import { markerName, markerOwner } from "../ownership.js";
import { changeWindowHold } from "./change-window.js";
import { applyAction } from "./materialize.js";
import { everyProbedDown } from "./plan-ip-takeover.js";
import type { CurrentRRsets } from "./plan-pool.js";

export interface GuardContext {
  readonly controllerId: string;
  readonly force: boolean;
  /** Set by the controller when most members of all pools failed at once. */
  readonly proberIsolation?: string;
  /** The instant the plan is made (the changeWindow rule); absent: no window is checked. */
  readonly now?: Date;
}

export interface Guarded {
  readonly allowed: Action[];
  readonly held: HeldAction[];
  readonly alarms: string[];
}

/** Actions driven by a failed probe (what the prober's own failure would cause). */
const isFailureDriven = (a: Action): boolean => a.kind === "remove" || a.kind === "takeover";

export function guardPool(
  pool: PoolSpec,
  current: CurrentRRsets,
  actions: readonly Action[],
  health: HealthView,
  ctx: GuardContext,
): Guarded {
  const held: HeldAction[] = [];
  const alarms: string[] = [];
  const hold = (action: Action, rule: HeldAction["rule"], why: string) => held.push({ action, rule, why });

  // ownership — never bypassed.
  const owner = markerOwner(current.marker);
  if (owner !== ctx.controllerId) {
    const why =
      owner === undefined
        ? `no ownership marker at ${markerName(pool.name)} TXT; run \`mailpool adopt\` to let this controller (${ctx.controllerId}) manage it`
        : `${markerName(pool.name)} names controller ${owner}, not ${ctx.controllerId}`;
    for (const a of actions) hold(a, "ownership", why);
    if (actions.length > 0 || owner !== undefined) alarms.push(`not managed by this controller: ${why}`);
    return { allowed: [], held, alarms };
  }

  // all down → fail open: every probed address of the pool failed; the prober is the likelier culprit.
  const allDown = everyProbedDown(pool, health);
  if (allDown && pool.safety.failOpen) {
    alarms.push(`every member of ${pool.name} is down; changing nothing (fail open): the prober may be the one cut off`);
  }

  const pending: Action[] = [];
  for (const a of actions) {
    const outsideWindow = ctx.force ? undefined : changeWindowHold(a, pool.safety.changeWindow, ctx.now);
    if (ctx.force) pending.push(a);
    else if (outsideWindow !== undefined) hold(a, "changeWindow", outsideWindow);
    else if (allDown && pool.safety.failOpen && isFailureDriven(a)) {
      hold(a, "failOpen", "every member and standby of the pool failed its probes; the prober may be the one cut off");
    } else if (ctx.proberIsolation !== undefined && isFailureDriven(a)) {
      hold(a, "proberIsolation", ctx.proberIsolation);
    } else pending.push(a);
  }
  if (ctx.force) return { allowed: pending, held, alarms };

  // Size rules, per RRset type, on what each action really does to the set: a takeover whose
  // standby is already in the pool, or a restore whose member is already back, shrinks it too.
  // Growing actions count first; the rest are weighed in address order.
  for (const type of ["A", "AAAA"] as const) {
    const live = current[type]?.values ?? [];
    let set = new Set(live);
    const budget = maxRemovals(live.length, pool.safety.maxRemovePercent);
    let left = 0;
    const mine = pending.filter((a) => a.type === type);
    const ordered = [
      ...mine.filter((a) => a.kind === "reinstate"),
      ...mine.filter((a) => a.kind !== "reinstate").sort((x, y) => compare(leaving(x), leaving(y))),
    ];
    for (const a of ordered) {
      const next = applyAction(new Set(set), a);
      const shrink = set.size - next.size;
      if (shrink <= 0) {
        set = next;
        continue;
      }
      const what = describeShrink(a);
      if (pool.safety.neverEmpty && next.size < 1) {
        hold(a, "neverEmpty", `${what} would empty ${pool.name} ${type}; a pool never loses its last address`);
      } else if (next.size < pool.safety.minHealthy) {
        hold(a, "minHealthy", `${what} would leave ${next.size} address(es), fewer than minHealthy ${pool.safety.minHealthy}`);
      } else if (left + shrink > budget) {
        hold(a, "maxRemovePercent", `at most ${budget} of ${live.length} address(es) (${pool.safety.maxRemovePercent} %) leave ${pool.name} ${type} in one cycle; ${what} waits for the next`);
      } else {
        set = next;
        left += shrink;
      }
    }
  }
  const heldSet = new Set(held.map((h) => h.action));
  return { allowed: pending.filter((a) => !heldSet.has(a)), held, alarms };
}

/** The address an action takes out of the pool (for ordering and messages). */
const leaving = (a: Action): string => (a.kind === "restore" ? a.standby : (a.address ?? ""));

const describeShrink = (a: Action): string =>
  a.kind === "takeover"
    ? `takeover of ${a.address} by ${a.standby} (already in the pool)`
    : a.kind === "restore"
      ? `standby ${a.standby} stepping aside for ${a.address} (already in the pool)`
      : `removing ${a.address}`;

const compare = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** How many addresses may leave an RRset of `size` in one cycle. */
export function maxRemovals(size: number, percent: number): number {
  if (percent <= 0) return 0;
  return Math.max(1, Math.floor((size * percent) / 100));
}

/**
 * Prober isolation: when more than `threshold` of all judged members across at least two pools
 * (pools with at least one judged member) are down
 * at once, the likelier story is that the prober lost its network. Returns the reason, or
 * undefined.
 */
export function detectProberIsolation(
  pools: readonly PoolSpec[],
  health: HealthView,
  threshold: number,
): string | undefined {
  let total = 0;
  let down = 0;
  let judgedPools = 0;
  for (const p of pools) {
    const verdicts = p.members.map((m) => health(p.name, memberHealthAddress(m)).health).filter((h) => h !== "unknown");
    if (verdicts.length > 0) judgedPools += 1;
    total += verdicts.length;
    down += verdicts.filter((h) => h === "down").length;
  }
  if (judgedPools < 2 || down / total <= threshold) return undefined;
  return `${down} of ${total} members across ${judgedPools} pools failed at once (more than ${Math.round(threshold * 100)} %); the prober may be the one cut off, so no address is removed`;
}
