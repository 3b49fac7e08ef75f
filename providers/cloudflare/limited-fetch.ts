/**
 * The fetch the Cloudflare SDK is given: every request first takes a token from the limiter of
 * its API token, and every response body is read under a byte bound. A 429 asking for a long
 * wait is marked not-retryable for the SDK (whose own wait cannot be interrupted), so it reaches
 * the controller, which waits with its AbortSignal and re-plans.
 */
import { createHash } from "node:crypto";
import { RateLimiter } from "../../src/util/rate-limiter.js";
import { retryAfterMs } from "./errors.js";

/** Cloudflare's budget: 1,200 requests per 5 minutes per token. */
export const CLOUDFLARE_WINDOW_SECONDS = 300;
/** Requests that may go out at once before the sustained rate applies. */
export const DEFAULT_BURST = 20;
/** Responses larger than this are refused (a records page of 5,000 records is ~3 MB). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Longest Retry-After the SDK may sleep through itself; longer waits go to the controller. */
export const SDK_RETRY_AFTER_CAP_MS = 2_000;

export type LimiterFactory = (ratePerSecond: number, burst: number) => RateLimiter;

/**
 * Limiters by API token (keyed by a hash, never the token itself): every Cloudflare provider
 * block using one token shares one budget. The first block to ask sets the rate.
 */
export class LimiterRegistry {
  readonly #limiters = new Map<string, RateLimiter>();
  readonly #make: LimiterFactory;
  constructor(make: LimiterFactory = (ratePerSecond, burst) => new RateLimiter({ ratePerSecond, burst })) {
    this.#make = make;
  }

  get(apiToken: string, requestsPer5Minutes: number): RateLimiter {
    const key = createHash("sha256").update(apiToken).digest("hex");
    let limiter = this.#limiters.get(key);
    if (!limiter) {
      const rate = requestsPer5Minutes / CLOUDFLARE_WINDOW_SECONDS;
      limiter = this.#make(rate, Math.max(1, Math.min(DEFAULT_BURST, requestsPer5Minutes)));
      this.#limiters.set(key, limiter);
    }
    return limiter;
  }

  get size(): number {
    return this.#limiters.size;
  }
}

/** The process-wide registry. */
export const sharedLimiters = new LimiterRegistry();

export class ResponseTooLargeError extends Error {
  override readonly name = "ResponseTooLargeError";
}

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

export interface LimitedFetchOptions {
  readonly limiter: RateLimiter;
  readonly fetch?: typeof globalThis.fetch;
  readonly maxResponseBytes?: number;
  readonly sdkRetryAfterCapMs?: number;
}

export function limitedFetch(options: LimitedFetchOptions): typeof globalThis.fetch {
  const base = options.fetch ?? globalThis.fetch;
  const maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const cap = options.sdkRetryAfterCapMs ?? SDK_RETRY_AFTER_CAP_MS;
  return async (input, init) => {
    const signal = init?.signal ?? undefined;
    await options.limiter.take(signal);
    const res = await base(input, init);
    const headers = new Headers(res.headers);
    if (res.status === 429) {
      const wait = retryAfterMs(headers);
      if (wait !== undefined && wait > cap) headers.set("x-should-retry", "false");
    }
    const body = NULL_BODY_STATUS.has(res.status) ? null : await readBounded(res, maxBytes);
    return new Response(body, { status: res.status, statusText: res.statusText, headers });
  };
}

async function readBounded(res: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new ResponseTooLargeError(`response of ${declared} bytes is larger than the ${maxBytes}-byte bound`);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ResponseTooLargeError(`response is larger than the ${maxBytes}-byte bound`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
