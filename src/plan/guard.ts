/**
 * The guard: safety rules turn some of a pool's actions into held actions, each with the rule
 * that held it and why. Pure. `force` bypasses every rule but ownership.
 */
import type { Action, HealthView, HeldAction, PoolSpec } from "../model.js";
import { markerName, markerOwner } from "../ownership.js";
import type { CurrentRRsets } from "./plan-pool.js";

export interface GuardContext {
  readonly controllerId: string;
  readonly force: boolean;
  /** Set by the controller when most members of all pools failed at once. */
  readonly proberIsolation?: string;
}

export interface Guarded {
  readonly allowed: Action[];
  readonly held: HeldAction[];
  readonly alarms: string[];
}

/** Actions that take an address out of service without putting another in its place. */
const isRemoval = (a: Action): boolean => a.kind === "remove";
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
  const probed = new Set<string>();
  for (const m of pool.members) {
    probed.add(m.address);
    if (m.standby !== undefined) probed.add(m.standby);
  }
  const verdicts = [...probed].map((a) => health(pool.name, a));
  const allDown = verdicts.length > 0 && verdicts.every((v) => v.health === "down");
  if (allDown && pool.safety.failOpen) {
    alarms.push(`every member of ${pool.name} is down; changing nothing (fail open): the prober may be the one cut off`);
  }

  const pending: Action[] = [];
  for (const a of actions) {
    if (ctx.force) pending.push(a);
    else if (allDown && pool.safety.failOpen && isFailureDriven(a)) {
      hold(a, "failOpen", "every member and standby of the pool failed its probes; the prober may be the one cut off");
    } else if (ctx.proberIsolation !== undefined && isFailureDriven(a)) {
      hold(a, "proberIsolation", ctx.proberIsolation);
    } else pending.push(a);
  }
  if (ctx.force) return { allowed: pending, held, alarms };

  // Size rules, per RRset type: count what would remain after each removal, in order.
  const allowed: Action[] = [];
  for (const type of ["A", "AAAA"] as const) {
    const live = current[type]?.values.length ?? 0;
    let size = live + pending.filter((a) => a.type === type && a.kind === "reinstate").length;
    const budget = maxRemovals(live, pool.safety.maxRemovePercent);
    let removed = 0;
    for (const a of pending.filter((p) => p.type === type && isRemoval(p))) {
      if (pool.safety.neverEmpty && size - 1 < 1) {
        hold(a, "neverEmpty", `${a.address} is the last address of ${pool.name} ${type}; a pool never loses its last address`);
      } else if (size - 1 < pool.safety.minHealthy) {
        hold(a, "minHealthy", `removing ${a.address} would leave ${size - 1} address(es), fewer than minHealthy ${pool.safety.minHealthy}`);
      } else if (removed + 1 > budget) {
        hold(a, "maxRemovePercent", `at most ${budget} of ${live} address(es) (${pool.safety.maxRemovePercent} %) leave ${pool.name} ${type} in one cycle; ${a.address} waits for the next`);
      } else {
        removed += 1;
        size -= 1;
      }
    }
  }
  const heldSet = new Set(held.map((h) => h.action));
  for (const a of pending) if (!heldSet.has(a)) allowed.push(a);
  return { allowed, held, alarms };
}

/** How many addresses may leave an RRset of `size` in one cycle. */
export function maxRemovals(size: number, percent: number): number {
  if (percent <= 0) return 0;
  return Math.max(1, Math.floor((size * percent) / 100));
}

/**
 * Prober isolation: when more than `threshold` of all members across at least two pools are down
 * at once, the likelier story is that the prober lost its network. Returns the reason, or
 * undefined.
 */
export function detectProberIsolation(
  pools: readonly PoolSpec[],
  health: HealthView,
  threshold: number,
): string | undefined {
  if (pools.length < 2) return undefined;
  let total = 0;
  let down = 0;
  for (const p of pools) {
    for (const m of p.members) {
      const v = health(p.name, m.address);
      if (v.health === "unknown") continue;
      total += 1;
      if (v.health === "down") down += 1;
    }
  }
  if (total === 0 || down / total <= threshold) return undefined;
  return `${down} of ${total} members across ${pools.length} pools failed at once (more than ${Math.round(threshold * 100)} %); the prober may be the one cut off, so no address is removed`;
}
