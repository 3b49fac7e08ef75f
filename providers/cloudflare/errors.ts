/**
 * Cloudflare API failures in mailpool's terms: a conflict (someone else's edit got there first),
 * a transient failure (retry later), or a failure a person must fix. Small predicates over the
 * SDK's errors (matched by shape, so this file does not import the SDK).
 */
import { ConflictError, ProviderError, type RRsetKey } from "../types.js";

/** Record-level codes that mean "the zone is not what we read": the controller re-reads. */
export const CONFLICT_CODES: ReadonlyMap<number, string> = new Map([
  [81044, "a record in the batch no longer exists"],
  [81057, "the record already exists"],
  [81058, "an identical record already exists"],
]);

/** Codes Cloudflare uses when the token is missing, invalid, or not allowed here. */
export const AUTH_CODES: ReadonlySet<number> = new Set([1000, 6003, 6111, 9106, 9109, 10000]);

interface ApiErrorLike {
  readonly status?: number | undefined;
  readonly headers?: Headers | undefined;
  readonly errors?: readonly { code?: unknown; message?: unknown }[];
  readonly message?: string;
}

const isObject = (e: unknown): e is Record<string, unknown> => typeof e === "object" && e !== null;

/** The SDK's APIError shape: status (undefined for connection failures), headers, errors[]. */
function apiError(e: unknown): ApiErrorLike | undefined {
  if (!isObject(e) || !(e instanceof Error)) return undefined;
  if (!("status" in e) || !("errors" in e)) return undefined;
  return e as ApiErrorLike;
}

export const apiCodes = (e: ApiErrorLike): { code: number | undefined; message: string }[] =>
  (e.errors ?? []).map((x) => ({
    code: typeof x.code === "number" ? x.code : undefined,
    message: typeof x.message === "string" ? x.message : "",
  }));

/** "code 81058: An identical record already exists." for each error of the response. */
function describeCodes(e: ApiErrorLike): string {
  const parts = apiCodes(e).map((c) => (c.code === undefined ? c.message : `code ${c.code}: ${c.message}`));
  return parts.length > 0 ? parts.join("; ") : "no error details";
}

/** Milliseconds from Retry-After (seconds or an HTTP date) or retry-after-ms, if present. */
export function retryAfterMs(headers: Headers | undefined, now: () => number = Date.now): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Math.ceil(Number(ms));
  const ra = headers.get("retry-after");
  if (ra === null) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Math.ceil(Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}

export const isConnectionFailure = (e: ApiErrorLike): boolean => e.status === undefined;
export const isThrottled = (e: ApiErrorLike): boolean => e.status === 429;
export const isServerFailure = (e: ApiErrorLike): boolean => e.status !== undefined && e.status >= 500;
/** 408 request timeout and 409 lock timeout: the SDK retries these too. */
export const isBusy = (e: ApiErrorLike): boolean => e.status === 408 || e.status === 409;
export const isAuthFailure = (e: ApiErrorLike): boolean =>
  e.status === 401 || e.status === 403 || apiCodes(e).some((c) => c.code !== undefined && AUTH_CODES.has(c.code));
export const conflictCode = (e: ApiErrorLike): number | undefined =>
  apiCodes(e).find((c) => c.code !== undefined && CONFLICT_CODES.has(c.code))?.code;

export interface ErrorContext {
  /** What was being done: "listing A records of smtp.example.com". */
  readonly what: string;
  /** Where, for the auth hint: "zone example.com" or "zone 0123…". */
  readonly zone: string;
  /** Secrets that must never appear in a message. */
  readonly secrets: readonly string[];
  readonly key?: RRsetKey;
}

/** Replaces every occurrence of a secret with [redacted]. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join("[redacted]");
  return out;
}

/**
 * Maps anything a Cloudflare call threw to ConflictError / ProviderError. An abort is passed
 * through untouched (the caller's signal decides).
 */
export function toProviderError(err: unknown, ctx: ErrorContext, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason ?? err;
  if (err instanceof ConflictError || err instanceof ProviderError) return err;
  const clean = (s: string) => redact(s, ctx.secrets);
  const e = apiError(err);
  if (!e) {
    const msg = err instanceof Error ? err.message : String(err);
    return new ProviderError(clean(`Cloudflare: ${ctx.what} failed: ${msg}`), { transient: false });
  }
  if (isConnectionFailure(e)) {
    const cause = (err as Error).cause;
    const detail = cause instanceof Error ? `${(err as Error).message} (${cause.message})` : String((err as Error).message);
    return new ProviderError(clean(`Cloudflare: ${ctx.what} failed: ${detail}`), { transient: true });
  }
  const codes = describeCodes(e);
  if (apiCodes(e).some((c) => c.code === 81053 || c.code === 81054)) {
    return new ProviderError(
      clean(
        `Cloudflare: ${ctx.what} was refused (${codes}): a CNAME record stands at ${ctx.key?.name ?? "the pool's name"}, and A/AAAA records cannot stand beside it (RFC 1034 section 3.6.2); point the pool at the name the CNAME targets, or remove the CNAME`,
      ),
      { transient: false },
    );
  }
  const conflict = conflictCode(e);
  if (conflict !== undefined) {
    return new ConflictError(
      clean(`Cloudflare: ${ctx.what} was refused as a whole (${codes}): ${CONFLICT_CODES.get(conflict)}, so someone else changed the zone since it was read; nothing of this batch was written`),
      ctx.key,
    );
  }
  if (isThrottled(e)) {
    const wait = retryAfterMs(e.headers);
    const after = wait === undefined ? "" : `; retry after ${Math.ceil(wait / 1000)} s`;
    return new ProviderError(clean(`Cloudflare: ${ctx.what} was rate limited (429, ${codes})${after}`), {
      transient: true,
      retryAfterMs: wait,
    });
  }
  if (isServerFailure(e) || isBusy(e)) {
    return new ProviderError(clean(`Cloudflare: ${ctx.what} failed with ${e.status} (${codes})`), { transient: true });
  }
  if (isAuthFailure(e)) {
    return new ProviderError(
      clean(
        `Cloudflare: ${ctx.what} was refused (${e.status}, ${codes}): the API token is invalid, expired, or lacks permission on ${ctx.zone}. It needs Zone.DNS:Edit on that zone (and Zone:Read when the zone is given by name).`,
      ),
      { transient: false },
    );
  }
  const hint = apiCodes(e).some((c) => c.code === 7003) ? `: check that ${ctx.zone} exists (the zone id is on its Overview page)` : "";
  return new ProviderError(clean(`Cloudflare: ${ctx.what} failed with ${e.status} (${codes})${hint}`), { transient: false });
}
