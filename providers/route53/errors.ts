/**
 * Route 53 / AWS SDK errors, classified by small pure predicates so the retry decision reads like
 * the documentation (DNSLimitations: "Throttling … Rate exceeded", "PriorRequestNotComplete").
 */
import { ConflictError, ProviderConfigError, ProviderError, type RRsetKey } from "../types.js";

/** The shape of an SDK error, as far as classification needs it. */
interface SdkErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $response?: { readonly headers?: Record<string, string | undefined> };
  readonly $fault?: unknown;
  readonly cause?: unknown;
  /** InvalidChangeBatch in its legacy form (`<InvalidChangeBatch><Messages><Message>…`). */
  readonly Messages?: { readonly Message?: unknown };
  readonly messages?: unknown;
}

const asLike = (e: unknown): SdkErrorLike => (typeof e === "object" && e !== null ? (e as SdkErrorLike) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** The error's code: the SDK sets `name` to the service's error code (`Throttling`, …). */
export const errorCode = (e: unknown): string => str(asLike(e).name) || str(asLike(e).code);
export const httpStatus = (e: unknown): number | undefined => asLike(e).$metadata?.httpStatusCode;
/**
 * Every message the error carries: `message`, plus the list of an InvalidChangeBatch in the
 * legacy form Route 53 once answered (the SDK then reports "UnknownError" and copies Messages).
 */
function messageOf(e: unknown): string {
  const like = asLike(e);
  const listed = [like.Messages?.Message, like.messages].flatMap((m) => (Array.isArray(m) ? m : [m])).filter(
    (m): m is string => typeof m === "string" && m !== "",
  );
  const main = str(like.message);
  if (listed.length === 0) return main;
  return main === "" || main === "UnknownError" ? listed.join("; ") : `${main} (${listed.join("; ")})`;
}

const THROTTLING_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
]);
const CONNECTION_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

/** HTTP 400 `Throttling` ("Rate exceeded"), `ThrottlingException`, or HTTP 429. */
export const isThrottling = (e: unknown): boolean => THROTTLING_CODES.has(errorCode(e)) || httpStatus(e) === 429;

/** Route 53 was still processing an earlier change batch for the zone. */
export const isPriorRequestNotComplete = (e: unknown): boolean => errorCode(e) === "PriorRequestNotComplete";

/** HTTP 5xx. */
export const isServerError = (e: unknown): boolean => {
  const status = httpStatus(e);
  return (status !== undefined && status >= 500 && status <= 599) || asLike(e).$fault === "server";
};

/** The request never got an HTTP answer: refused, reset, timed out, name not resolved. */
export function isConnectionError(e: unknown, depth = 0): boolean {
  const like = asLike(e);
  if (CONNECTION_CODES.has(str(like.code)) || CONNECTION_CODES.has(str(like.name))) return true;
  if (/socket hang up/i.test(messageOf(e))) return true;
  return depth < 5 && like.cause !== undefined && isConnectionError(like.cause, depth + 1);
}

export const isAbort = (e: unknown): boolean => errorCode(e) === "AbortError";

const CONFLICT_MESSAGE =
  /Tried to (?:delete|create) resource record set \[[^\]]*\] but (?:it was not found|the values provided do not match the current values|it already exists)/;

/**
 * An InvalidChangeBatch that says the live RRset is not what the batch expected: a DELETE of a
 * record set that changed or vanished, or a CREATE of one that appeared. Other InvalidChangeBatch
 * reasons (size limits, names outside the zone) are not conflicts: re-planning would not help.
 */
export const isChangeConflict = (e: unknown): boolean => CONFLICT_MESSAGE.test(messageOf(e));

/** The first record set an InvalidChangeBatch names: its Route 53 name and type. */
export function conflictingRecord(e: unknown): { name: string; type: string } | undefined {
  const m = /resource record set \[name='([^']*)', type='([^']*)'/.exec(messageOf(e));
  return m ? { name: m[1]!, type: m[2]! } : undefined;
}

const retryAfterMs = (e: unknown): number | undefined => {
  const header = asLike(e).$response?.headers?.["retry-after"];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
};

/**
 * Maps an SDK error of one call to mailpool's error classes. `what` names the call for messages
 * ("ListResourceRecordSets for smtp.example.com in zone Z123").
 */
export function toProviderError(e: unknown, what: string, key?: RRsetKey): Error {
  if (isAbort(e)) return e instanceof Error ? e : new Error(String(e));
  const code = errorCode(e) || "Error";
  const message = messageOf(e) || String(e);
  if (isChangeConflict(e)) {
    return new ConflictError(
      `${what}: Route 53 rejected the batch because an RRset changed since it was read (${message}); nothing of this batch was written`,
      key,
      { cause: e },
    );
  }
  if (isThrottling(e) || isPriorRequestNotComplete(e)) {
    const ms = retryAfterMs(e);
    return new ProviderError(`${what}: ${code}: ${message}`, {
      transient: true,
      cause: e,
      ...(ms === undefined ? {} : { retryAfterMs: ms }),
    });
  }
  if (isServerError(e) || isConnectionError(e)) {
    return new ProviderError(`${what}: ${code}: ${message}`, { transient: true, cause: e });
  }
  if (code === "NoSuchHostedZone") {
    return new ProviderConfigError(`${what}: ${message} (NoSuchHostedZone); check the provider's hostedZoneId/zoneName`, {
      cause: e,
    });
  }
  if (code === "AccessDenied" || code === "AccessDeniedException") {
    return new ProviderError(
      `${what}: access denied (${code}: ${message}); the credentials need the IAM policy in docs/route53.md`,
      { transient: false, cause: e },
    );
  }
  return new ProviderError(`${what}: ${code}: ${message}`, { transient: false, cause: e });
}
