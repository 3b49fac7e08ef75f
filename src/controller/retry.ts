/**
 * The one retry policy for provider work (DESIGN.md, step 7): jittered exponential backoff with
 * p-retry, a server's Retry-After honoured, and only conflicts and transient failures retried.
 * The daemon's cycles and one-shot runs (plan, apply, run --once, adopt) share it, for the first
 * read before probing as for every read-plan-apply round after it.
 */
import pRetry from "p-retry";
import type { MinimalLogger } from "../../providers/types.js";
import { isConflict, isTransient, ProviderError } from "../../providers/types.js";
import { sleep } from "../util/rate-limiter.js";

export interface RetryOptions {
  readonly retries: number;
  readonly minTimeoutMs: number;
  readonly maxTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 4, minTimeoutMs: 500, maxTimeoutMs: 10_000 };

export interface RetryingOptions {
  readonly retry?: RetryOptions | undefined;
  readonly signal: AbortSignal;
  readonly logger?: MinimalLogger | undefined;
  /** For log lines: the provider's name in the config. */
  readonly providerName: string;
  /** What one attempt does, for log lines ("reading records before probing"). */
  readonly what?: string;
  /** Told of every failed attempt that will be retried or was the last (not of fatal errors). */
  readonly onRetryableFailure?: (error: Error, retriesLeft: number) => void;
}

/**
 * Runs `attempt` until it succeeds, a fatal error occurs, or the retries are spent. `attempt`
 * is given its 1-based number; the caller counts attempts from it, so a failure reports how many
 * were really made.
 */
export async function retrying<T>(attempt: (n: number) => Promise<T>, opts: RetryingOptions): Promise<T> {
  const retry = opts.retry ?? DEFAULT_RETRY;
  let n = 0;
  return pRetry(() => attempt(++n), {
    retries: retry.retries,
    minTimeout: retry.minTimeoutMs,
    maxTimeout: retry.maxTimeoutMs,
    randomize: true,
    signal: opts.signal,
    shouldRetry: ({ error }) => isConflict(error) || isTransient(error),
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
      if (!isConflict(error) && !isTransient(error)) return;
      opts.onRetryableFailure?.(error, retriesLeft);
      opts.logger?.warn(
        { provider: opts.providerName, attempt: attemptNumber, retriesLeft, err: error.message },
        isConflict(error) ? "conflict: re-reading and re-planning" : `transient provider failure${opts.what ? ` ${opts.what}` : ""}; ${retriesLeft > 0 ? "retrying" : "giving up"}`,
      );
      if (error instanceof ProviderError && error.retryAfterMs !== undefined && retriesLeft > 0) {
        await sleep(error.retryAfterMs, opts.signal);
      }
    },
  });
}
