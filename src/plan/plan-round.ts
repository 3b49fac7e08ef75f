/**
 * One provider's round, pure: what was read × health → each pool's plan (actions, held
 * actions, alarms) and the compare-and-swap changes that carry it out. The controller
 * (src/controller/reconcile.ts) reads, calls this, and applies; a saved plan re-derives with it.
 */
import type { RRset, RRsetChange, RRsetKey } from "../../providers/types.js";
import { keyOf } from "../../providers/types.js";
import type { Action, HealthView, HeldAction, PoolPlan, PoolSpec } from "../model.js";
import { markerName } from "../ownership.js";
import { planAdoption } from "./adopt.js";
import { guardPool } from "./guard.js";
import { materialize } from "./materialize.js";
import { planPool, strangerHarm, strangers, type CurrentRRsets } from "./plan-pool.js";

export interface PlanRoundOptions {
  readonly providerName: string;
  readonly pools: readonly PoolSpec[];
  readonly health: HealthView;
  readonly controllerId: string;
  readonly force?: boolean;
  /** Set when the controller judged the prober cut off (guard rule proberIsolation). */
  readonly proberIsolation?: string | undefined;
  /** Write the ownership marker of these pools (the `adopt` command). */
  readonly adopt?: boolean;
  /** The clock of the changeWindow rule (injected; absent: no window is checked). */
  readonly now?: () => Date;
}

/** The RRsets mailpool reads for a pool: A, AAAA and the marker TXT. */
export const poolKeys = (pool: PoolSpec): RRsetKey[] => [
  { name: pool.name, type: "A" },
  { name: pool.name, type: "AAAA" },
  { name: markerName(pool.name), type: "TXT" },
];

export interface PlannedRound {
  readonly plans: PoolPlan[];
  readonly changes: RRsetChange[];
}

/** Plan every pool of one provider from what was read. Pure. */
export function planRound(opts: PlanRoundOptions, rrsets: readonly RRset[]): PlannedRound {
  const byKey = new Map(rrsets.map((r) => [keyOf(r), r]));
  const plans: PoolPlan[] = [];
  const changes: RRsetChange[] = [];
  for (const pool of opts.pools) {
    const current: CurrentRRsets = {
      A: byKey.get(`${pool.name} A`),
      AAAA: byKey.get(`${pool.name} AAAA`),
      marker: byKey.get(`${markerName(pool.name)} TXT`),
    };
    const actions = planPool(pool, current, opts.health);
    let marker = current.marker;
    const adoptActions: Action[] = [];
    /** An adoption the ownership rule refused: held like any other action, so it is printed and fails `adopt`. */
    const refused: HeldAction[] = [];
    if (opts.adopt) {
      const adoption = planAdoption(pool, marker, opts.controllerId, opts.force ?? false);
      if (adoption.kind === "refused") refused.push(adoption.held);
      else if (adoption.kind === "adopt") {
        changes.push(adoption.change);
        adoptActions.push(adoption.action);
        // Plan the rest as if adopted: the marker is written in the same batch.
        marker = adoption.marker;
      }
    }
    const guarded = guardPool(pool, { ...current, marker }, actions, opts.health, {
      controllerId: opts.controllerId,
      force: opts.force ?? false,
      proberIsolation: opts.proberIsolation,
      ...(opts.now ? { now: opts.now() } : {}),
    });
    const alarms = [...guarded.alarms];
    for (const s of strangers(pool, current)) {
      const harm = strangerHarm(current, s);
      alarms.push(
        harm === ""
          ? `${s} is in ${pool.name} but is not a configured member or standby; left alone`
          : `${s} is in ${pool.name} but is not a configured member or standby, and ${harm}; mailpool leaves records it does not manage alone: fix it by hand`,
      );
    }
    changes.push(...materialize(pool, current, guarded.allowed));
    plans.push({
      pool: pool.name,
      provider: opts.providerName,
      current,
      actions: [...adoptActions, ...guarded.allowed],
      held: [...refused, ...guarded.held],
      alarms,
    });
  }
  return { plans, changes };
}
