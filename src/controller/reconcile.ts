/**
 * One provider's read → plan → guard → apply, retried as a whole: when the provider reports a
 * conflict (someone changed an RRset between our read and our write) or a transient failure, we
 * re-read and re-plan rather than overwrite. Dry-run is decided here, once: the provider's apply
 * is never called.
 */
import pRetry from "p-retry";
import type { ApplyResult, MinimalLogger, Provider, RRset, RRsetChange, RRsetKey } from "../../providers/types.js";
import { isConflict, isTransient, keyOf, ProviderError, writtenBefore } from "../../providers/types.js";
import type { HealthView, PoolPlan, PoolSpec } from "../model.js";
import { markerName, markerOwner, markerValue } from "../ownership.js";
import { guardPool } from "../plan/guard.js";
import { markerChange, materialize } from "../plan/materialize.js";
import { planPool, strangers, type CurrentRRsets } from "../plan/plan-pool.js";
import { sleep } from "../util/rate-limiter.js";

export interface RetryOptions {
  readonly retries: number;
  readonly minTimeoutMs: number;
  readonly maxTimeoutMs: number;
}

export interface ReconcileOptions {
  readonly provider: Provider;
  readonly providerName: string;
  readonly pools: readonly PoolSpec[];
  readonly health: HealthView;
  readonly controllerId: string;
  readonly dryRun: boolean;
  readonly force?: boolean;
  /** Set when the controller judged the prober cut off (guard rule proberIsolation). */
  readonly proberIsolation?: string;
  /** Write the ownership marker of these pools (the `adopt` command). */
  readonly adopt?: boolean;
  readonly signal: AbortSignal;
  readonly retry?: RetryOptions;
  readonly logger?: MinimalLogger;
}

export interface ReconcileResult {
  readonly provider: string;
  readonly plans: PoolPlan[];
  readonly applied: ApplyResult | null;
  /** Read-plan-apply rounds. */
  readonly attempts: number;
  readonly error?: Error;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 4, minTimeoutMs: 500, maxTimeoutMs: 10_000 };

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
export function planRound(opts: Omit<ReconcileOptions, "provider" | "signal" | "retry" | "logger" | "dryRun">, rrsets: readonly RRset[]): PlannedRound {
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
    const adoptActions = [];
    if (opts.adopt && markerOwner(marker) !== opts.controllerId) {
      const owner = markerOwner(marker);
      if (owner !== undefined && !opts.force) {
        plans.push({
          pool: pool.name,
          provider: opts.providerName,
          current,
          actions: [],
          held: [],
          alarms: [`${markerName(pool.name)} names controller ${owner}; adopt does not take a pool from another controller (remove that marker first, or use --force)`],
        });
        continue;
      }
      changes.push(markerChange(pool, marker, opts.controllerId));
      adoptActions.push({
        pool: pool.name,
        type: "TXT" as const,
        kind: "adopt" as const,
        reason: `write ${markerName(pool.name)} TXT so controller ${opts.controllerId} manages this pool`,
      });
      // Plan the rest as if adopted: the marker is written in the same batch.
      marker = { name: markerName(pool.name), type: "TXT", ttl: pool.ttl, values: [markerValue(opts.controllerId)] };
    }
    const guarded = guardPool(pool, { ...current, marker }, actions, opts.health, {
      controllerId: opts.controllerId,
      force: opts.force ?? false,
      proberIsolation: opts.proberIsolation,
    });
    const alarms = [...guarded.alarms];
    for (const s of strangers(pool, current)) {
      alarms.push(`${s} is in ${pool.name} but is not a configured member or standby; left alone`);
    }
    changes.push(...materialize(pool, current, guarded.allowed));
    plans.push({
      pool: pool.name,
      provider: opts.providerName,
      current,
      actions: [...adoptActions, ...guarded.allowed],
      held: guarded.held,
      alarms,
    });
  }
  return { plans, changes };
}

export async function reconcileProvider(opts: ReconcileOptions): Promise<ReconcileResult> {
  const retry = opts.retry ?? DEFAULT_RETRY;
  const keys = opts.pools.flatMap(poolKeys);
  let attempts = 0;
  let last: PlannedRound = { plans: [], changes: [] };
  /** Set as soon as a write succeeded: an abort after it must not report the write as failed. */
  let written: ApplyResult | null | undefined;
  /** Leftover work that failed (a reload): reported, but it does not stop this cycle's changes. */
  let pendingError: Error | undefined;
  /** Writes of attempts that failed part-way (earlier batches of a split apply) and were retried. */
  const earlier: ApplyResult[] = [];
  try {
    await pRetry(
      async () => {
        attempts += 1;
        pendingError = undefined;
        const pending = opts.dryRun ? [] : await finishPending(opts, (e) => (pendingError = e));
        const rrsets = await opts.provider.read(keys, opts.signal);
        last = planRound(opts, rrsets);
        if (opts.dryRun || last.changes.length === 0) {
          written = pending.length > 0 ? { applied: 0, notes: pending } : null;
          return;
        }
        const result = await opts.provider.apply(last.changes, opts.signal);
        written = pending.length > 0 ? { ...result, notes: [...pending, ...result.notes] } : result;
      },
      {
        retries: retry.retries,
        minTimeout: retry.minTimeoutMs,
        maxTimeout: retry.maxTimeoutMs,
        randomize: true,
        signal: opts.signal,
        shouldRetry: ({ error }) => isConflict(error) || isTransient(error),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!isConflict(error) && !isTransient(error)) return;
          const partial = writtenBefore(error);
          if (partial && retriesLeft > 0) earlier.push(partial);
          opts.logger?.warn(
            { provider: opts.providerName, attempt: attemptNumber, retriesLeft, err: error.message },
            isConflict(error) ? "conflict: re-reading and re-planning" : "transient provider failure; retrying",
          );
          if (error instanceof ProviderError && error.retryAfterMs !== undefined && retriesLeft > 0) {
            await sleep(error.retryAfterMs, opts.signal);
          }
        },
      },
    );
  } catch (err) {
    if (written === undefined) {
      const error = err instanceof Error ? err : new Error(String(err));
      // A failure after part of the plan was written (a zone written whose reload failed, the
      // first batches of a split apply) still reports what was written.
      return { provider: opts.providerName, plans: last.plans, applied: merged(earlier, writtenBefore(err) ?? null), attempts, error };
    }
    // The round completed; only the signal fired afterwards.
  }
  return {
    provider: opts.providerName,
    plans: last.plans,
    applied: merged(earlier, written ?? null),
    attempts,
    ...(pendingError ? { error: pendingError } : {}),
  };
}

/** The last attempt's result with the writes of earlier, failed attempts folded in. */
function merged(earlier: readonly ApplyResult[], last: ApplyResult | null): ApplyResult | null {
  if (earlier.length === 0) return last;
  return {
    applied: earlier.reduce((n, e) => n + e.applied, last?.applied ?? 0),
    notes: [...earlier.flatMap((e) => e.notes.map((n) => `earlier attempt: ${n}`)), ...(last?.notes ?? [])],
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
