/**
 * The guard: the safety rules of the registry (./rules/index.ts) turn some of a pool's actions
 * into held actions, each with the rule that held it and why. Pure. The rules run in list
 * order, which is their precedence: an action is held by the first rule that holds it.
 * `force` bypasses every rule but ownership.
 */
import type { Action, HealthView, HeldAction, PoolSpec } from "../model.js";
import { applyAction } from "./materialize.js";
import type { CurrentRRsets } from "./plan-pool.js";
import { RULES, type SafetyRule } from "./rules/index.js";
import type { ActionRule, ActionRuleInput, ActionSubject, GuardContext, PoolRule, RRsetRule, SafetyRuleDef } from "./rules/rule.js";

export type { GuardContext };

export interface Guarded {
  readonly allowed: Action[];
  readonly held: HeldAction[];
  readonly alarms: string[];
}

const POOL_RULES = RULES.filter((r): r is Extract<(typeof RULES)[number], PoolRule> => r.judges === "pool");
const ACTION_RULES = RULES.filter((r): r is Extract<(typeof RULES)[number], ActionRule<never>> => r.judges === "action");
const RRSET_RULES = RULES.filter((r): r is Extract<(typeof RULES)[number], RRsetRule<never>> => r.judges === "rrset");

const active = (r: SafetyRuleDef, force: boolean): boolean => !force || r.bypass === "never";

/**
 * The pool's value of a rule's `safety` key (undefined for rules without one). Typed `never`
 * because the registry mixes rules of different config types: each rule's own `satisfies`
 * checks its check against its schema's type.
 */
const configOf = (r: SafetyRuleDef, pool: PoolSpec): never =>
  ("config" in r && r.config?.scope === "pool" ? (pool.safety as Record<string, unknown>)[r.config.key] : undefined) as never;

const actionInput = (r: SafetyRuleDef, pool: PoolSpec, health: HealthView, ctx: Omit<GuardContext, "controllerId">): ActionRuleInput<never> => ({
  pool,
  health,
  config: configOf(r, pool),
  ctx,
});

/**
 * The first action rule that holds this action (a DNS action, or an IP move as its DNS
 * counterpart), with its words; undefined when every action rule lets it pass.
 */
export function actionHold(
  subject: ActionSubject,
  pool: PoolSpec,
  health: HealthView,
  ctx: Omit<GuardContext, "controllerId">,
): { rule: SafetyRule; why: string } | undefined {
  for (const rule of ACTION_RULES) {
    if (!active(rule, ctx.force)) continue;
    const why = rule.check(subject, actionInput(rule, pool, health, ctx));
    if (why !== undefined) return { rule: rule.name, why };
  }
  return undefined;
}

export function guardPool(
  pool: PoolSpec,
  current: CurrentRRsets,
  actions: readonly Action[],
  health: HealthView,
  ctx: GuardContext,
): Guarded {
  const held: HeldAction[] = [];
  const alarms: string[] = [];

  // Pool rules: one that holds, holds every action and ends the guard.
  for (const rule of POOL_RULES) {
    if (!active(rule, ctx.force)) continue;
    const hold = rule.check({ pool, current, actions, ctx });
    if (hold === undefined) continue;
    for (const action of actions) held.push({ action, rule: rule.name, why: hold.why });
    if (hold.alarm !== undefined) alarms.push(hold.alarm);
    return { allowed: [], held, alarms };
  }

  // The action rules' pool alarms (fail open), reported even under --force.
  for (const rule of ACTION_RULES) {
    if (!("alarm" in rule)) continue;
    const alarm = rule.alarm(actionInput(rule, pool, health, ctx));
    if (alarm !== undefined) alarms.push(alarm);
  }

  // Action rules, each action on its own, in plan order.
  const pending: Action[] = [];
  for (const action of actions) {
    const hold = actionHold(action, pool, health, ctx);
    if (hold) held.push({ action, rule: hold.rule, why: hold.why });
    else pending.push(action);
  }

  // RRset rules, per RRset type, on what each action really does to the set: a takeover whose
  // standby is already in the pool, or a restore whose member is already back, shrinks it too.
  // Growing actions count first; the rest are weighed in address order, each against the set as
  // the actions allowed before it left it.
  const rrsetRules = RRSET_RULES.filter((r) => active(r, ctx.force));
  const heldHere = new Set<Action>();
  for (const type of ["A", "AAAA"] as const) {
    const live = current[type]?.values ?? [];
    let set = new Set(live);
    let shrunk = 0;
    const mine = pending.filter((a) => a.type === type);
    const ordered = [
      ...mine.filter((a) => a.kind === "reinstate"),
      ...mine.filter((a) => a.kind !== "reinstate").sort((x, y) => compare(leaving(x), leaving(y))),
    ];
    for (const action of ordered) {
      const next = applyAction(new Set(set), action);
      const shrink = set.size - next.size;
      if (shrink > 0) {
        const step = { action, type, liveSize: live.length, sizeAfter: next.size, shrink, shrunk, what: describeShrink(action) };
        const hold = firstRRsetHold(rrsetRules, step, pool);
        if (hold) {
          held.push({ action, rule: hold.rule, why: hold.why });
          heldHere.add(action);
          continue;
        }
        shrunk += shrink;
      }
      set = next;
    }
  }
  return { allowed: pending.filter((a) => !heldHere.has(a)), held, alarms };
}

function firstRRsetHold(rules: readonly RRsetRule<never>[], step: Parameters<RRsetRule["check"]>[0], pool: PoolSpec): { rule: SafetyRule; why: string } | undefined {
  for (const rule of rules) {
    const why = rule.check(step, { pool, config: configOf(rule, pool) });
    if (why !== undefined) return { rule: rule.name as SafetyRule, why };
  }
  return undefined;
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
