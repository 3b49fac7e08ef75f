/**
 * One provider's read → plan → guard → apply, retried as a whole: when the provider reports a
 * conflict (someone changed an RRset between our read and our write) or a transient failure, we
 * re-read and re-plan rather than overwrite. Dry-run is decided here, once: the provider's apply
 * is never called.
 */
import type { ApplyResult, MinimalLogger, Provider, RRset, RRsetChange } from "../../providers/types.js";
import { isConflict, isTransient, keyOf, writtenBefore } from "../../providers/types.js";
import { addressKey } from "../health/probe-round.js";
import type { HealthView, PoolPlan } from "../model.js";
import { planRound, poolKeys, type PlannedRound, type PlanRoundOptions } from "../plan/plan-round.js";
import type { ReconcileResult } from "../plan/report.js";
import { retrying, type RetryOptions } from "./retry.js";


export interface ReconcileOptions extends PlanRoundOptions {
  readonly provider: Provider;
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  readonly retry?: RetryOptions;
  readonly logger?: MinimalLogger;
  /**
   * One-shot runs: health judged against DNS as it was read before probing. Each round re-judges
   * against what it read (an address someone re-added or removed since needs `fall` failures or
   * `rise` passes for that state, not the one it was probed in). Absent: `health` as it is.
   */
  readonly healthFor?: (inDns: (pool: string, address: string) => boolean) => HealthView;
  /** A read already made this cycle (one-shot: before probing), used by the first round. */
  readonly initial?: { readonly rrsets: readonly RRset[]; readonly attempts: number };
}

export async function reconcileProvider(opts: ReconcileOptions): Promise<ReconcileResult> {
  const keys = opts.pools.flatMap(poolKeys);
  let attempts = opts.initial?.attempts ?? 0;
  let initial = opts.initial?.rrsets;
  let last: PlannedRound = { plans: [], changes: [] };
  /** Set as soon as a write succeeded: an abort after it must not report the write as failed. */
  let written: ApplyResult | null | undefined;
  /** Leftover work that failed (a reload): reported, but it does not stop this cycle's changes. */
  let pendingError: Error | undefined;
  /** Writes of attempts that failed part-way (earlier batches of a split apply) and were retried. */
  const earlier: ApplyResult[] = [];
  /**
   * The round whose apply failed transiently (a 502, a timeout): its write may have landed with
   * only the reply lost. The next read tells, and what landed is reported as applied.
   */
  let uncertain: { round: PlannedRound; attempt: number; error: Error; partial: number } | undefined;
  /** Pools whose plan and count come from an earlier attempt whose write the re-read confirmed. */
  let confirmed: { plans: Map<string, PoolPlan>; applied: number; notes: string[] } | undefined;
  try {
    await retrying(
      async () => {
        // The first round may reuse a read made just before (a one-shot run reads before
        // probing); compare-and-swap makes a stale one safe: the write is refused and re-planned.
        const reuse = initial;
        initial = undefined;
        if (!reuse) attempts += 1;
        pendingError = undefined;
        const pending = opts.dryRun ? [] : await finishPending(opts, (e) => (pendingError = e));
        const rrsets = reuse ?? (await opts.provider.read(keys, opts.signal));
        if (uncertain) {
          confirmed = landedWrites(uncertain, rrsets);
          uncertain = undefined;
        }
        last = planRound(opts.healthFor ? { ...opts, health: opts.healthFor(presenceIn(rrsets)) } : opts, rrsets);
        if (opts.dryRun || last.changes.length === 0) {
          written = pending.length > 0 ? { applied: 0, notes: pending } : null;
          return;
        }
        const round = last;
        try {
          const result = await opts.provider.apply(round.changes, opts.signal);
          written = pending.length > 0 ? { ...result, notes: [...pending, ...result.notes] } : result;
        } catch (err) {
          // A transient failure (a 502, a timeout) may hide a write that landed. (Providers never
          // let their SDK retry a write, so a conflict really is someone else's edit.)
          if (isTransient(err)) uncertain = { round, attempt: attempts, error: err as Error, partial: writtenBefore(err)?.applied ?? 0 };
          throw err;
        }
      },
      {
        retry: opts.retry,
        signal: opts.signal,
        logger: opts.logger,
        providerName: opts.providerName,
        onRetryableFailure: (error, retriesLeft) => {
          const partial = writtenBefore(error);
          if (partial && retriesLeft > 0) earlier.push(partial);
        },
      },
    );
  } catch (err) {
    if (written === undefined) {
      const error = err instanceof Error ? err : new Error(String(err));
      // A failure after part of the plan was written (a zone written whose reload failed, the
      // first batches of a split apply) still reports what was written.
      return { provider: opts.providerName, plans: withConfirmed(last.plans, confirmed), applied: merged(earlier, writtenBefore(err) ?? null, confirmed), attempts, error };
    }
    // The round completed; only the signal fired afterwards.
  }
  return {
    provider: opts.providerName,
    plans: withConfirmed(last.plans, confirmed),
    applied: merged(earlier, written ?? null, confirmed),
    attempts,
    ...(pendingError ? { error: pendingError } : {}),
    changes: last.changes,
  };
}

/** Whether an address is in its pool's live A/AAAA RRset, by what a round read. */
export function presenceIn(rrsets: readonly RRset[]): (pool: string, address: string) => boolean {
  const live = new Set<string>();
  for (const r of rrsets) if (r.type === "A" || r.type === "AAAA") for (const v of r.values) live.add(addressKey(r.name, v));
  return (pool, address) => live.has(addressKey(pool, address));
}

/**
 * Which pools' changes of a round whose apply failed transiently are live now: every change of
 * the pool shows its `after` in the re-read (providers keep one pool's changes in one batch).
 */
function landedWrites(
  uncertain: { round: PlannedRound; attempt: number; error: Error; partial: number },
  rrsets: readonly RRset[],
): { plans: Map<string, PoolPlan>; applied: number; notes: string[] } | undefined {
  const live = new Map(rrsets.map((r) => [keyOf(r), r]));
  const byPool = new Map<string, RRsetChange[]>();
  for (const c of uncertain.round.changes) byPool.set(c.pool, [...(byPool.get(c.pool) ?? []), c]);
  const plans = new Map<string, PoolPlan>();
  let changes = 0;
  for (const [pool, cs] of byPool) {
    if (!cs.every((c) => isLive(c, live.get(keyOf(c.key))))) continue;
    const plan = uncertain.round.plans.find((p) => p.pool === pool);
    if (plan) plans.set(pool, plan);
    changes += cs.length;
  }
  if (plans.size === 0) return undefined;
  // Changes of earlier batches that the provider already reported as written are counted there.
  const applied = Math.max(0, changes - uncertain.partial);
  const pools = [...plans.keys()].join(", ");
  return {
    plans,
    applied,
    notes: [`attempt ${uncertain.attempt} failed (${uncertain.error.message}), but re-reading shows its changes live for ${pools}: the write landed and its reply was lost`],
  };
}

/** The live RRset is what the change asked for (values as a set, and the TTL). */
function isLive(change: RRsetChange, live: RRset | undefined): boolean {
  if (change.after === null) return live === undefined || live.values.length === 0;
  if (!live || live.ttl !== change.after.ttl) return false;
  const want = new Set(change.after.values);
  return live.values.length === want.size && live.values.every((v) => want.has(v));
}

/** The last round's plans, where a pool has nothing left to do, replaced by the confirmed write's. */
function withConfirmed(plans: PoolPlan[], confirmed: { plans: Map<string, PoolPlan> } | undefined): PoolPlan[] {
  if (!confirmed) return plans;
  return plans.map((p) => {
    const earlierPlan = confirmed.plans.get(p.pool);
    return earlierPlan && p.actions.length === 0 ? earlierPlan : p;
  });
}

/** The last attempt's result with the writes of earlier, failed attempts folded in. */
function merged(earlier: readonly ApplyResult[], last: ApplyResult | null, confirmed?: { applied: number; notes: string[] }): ApplyResult | null {
  if (earlier.length === 0 && !confirmed) return last;
  return {
    applied: earlier.reduce((n, e) => n + e.applied, (last?.applied ?? 0) + (confirmed?.applied ?? 0)),
    notes: [...earlier.flatMap((e) => e.notes.map((n) => `earlier attempt: ${n}`)), ...(confirmed?.notes ?? []), ...(last?.notes ?? [])],
  };
}

/** Runs the provider's leftover work; a permanent failure is kept for the report, not thrown. */
async function finishPending(opts: ReconcileOptions, keep: (e: Error) => void): Promise<readonly string[]> {
  try {
    return (await opts.provider.finishPending?.(opts.signal)) ?? [];
  } catch (err) {
    if (isTransient(err) || isConflict(err) || opts.signal.aborted) throw err;
    const error = err instanceof Error ? err : new Error(String(err));
    opts.logger?.error({ provider: opts.providerName, err: error.message }, "leftover work from an earlier cycle failed; planning anyway");
    keep(error);
    return [];
  }
}
