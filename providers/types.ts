/**
 * The provider seam. A provider knows how to read and write the few RRsets mailpool manages in
 * one DNS zone (or one account's zones); everything else — health, planning, safety — lives in
 * the core and never sees an SDK.
 *
 * Names are absolute, lower case, without the trailing dot: "smtp.example.com".
 * A/AAAA values are canonical IP text (IPv4 dotted quad, IPv6 compressed lower case).
 * TXT values are the unquoted text of each TXT record (character-strings joined).
 */

export type AddressType = "A" | "AAAA";
export type RRType = AddressType | "TXT";

export interface RRsetKey {
  readonly name: string;
  readonly type: RRType;
}

/** One logical RRset as the core sees it: every address of a round-robin name of one type. */
export interface RRset extends RRsetKey {
  readonly ttl: number;
  readonly values: readonly string[];
  /**
   * Ways the live RRset differs from what mailpool would write, besides its values and TTL
   * (e.g. "192.0.2.10 is proxied; mail cannot be proxied"). A non-empty list makes the planner
   * rewrite the RRset with the same values, and each entry becomes the reason for that.
   */
  readonly drift?: readonly string[];
  /**
   * Providers that keep one record per value, each with its own TTL and flags (Cloudflare,
   * Route 53 multivalue): every value's own state. The core then judges the TTL and the drift
   * of the values it manages only; a value that is no member or standby (a stranger) keeps its
   * TTL and flags, and what it breaks for the whole name (`breaksName`) is an alarm, not a fix.
   * Value-level drift lives here, not in `drift`.
   */
  readonly records?: readonly ValueRecord[];
  /**
   * Opaque to the core: what the provider needs to change exactly this version of the RRset
   * (record ids, set identifiers, per-record TTLs). Handed back unchanged in RRsetChange.before.
   */
  readonly native?: unknown;
}

/** One value's record in a provider that keeps a record per value. */
export interface ValueRecord {
  readonly value: string;
  readonly ttl: number;
  /** How this record differs from what mailpool writes ("192.0.2.10 is proxied; …"). */
  readonly drift: readonly string[];
  /** Set when this record's state breaks the name for every record at it (a proxied A record). */
  readonly breaksName?: string;
}

/** The desired content of an RRset after a change. */
export interface RRsetContent {
  readonly ttl: number;
  readonly values: readonly string[];
}

/**
 * One compare-and-swap edit of one RRset. `before` is exactly what `read` returned (null: the
 * RRset did not exist); a provider must refuse the change with a ConflictError when the live
 * RRset no longer matches it — never overwrite a concurrent edit. `after` null deletes the RRset.
 */
export interface RRsetChange {
  readonly key: RRsetKey;
  readonly before: RRset | null;
  readonly after: RRsetContent | null;
  /** The pool the change belongs to (providers that batch keep one pool's changes together). */
  readonly pool: string;
  /**
   * Values in `after` that mailpool does not manage (strangers): a provider with a record per
   * value keeps their records exactly as read (TTL, comment, flags), whatever `after.ttl` says.
   */
  readonly leave?: readonly string[];
}

export interface ApplyResult {
  /** How many RRset changes were written. */
  readonly applied: number;
  /** Facts for the report: change ids, batches sent, propagation status. */
  readonly notes: readonly string[];
}

export interface Provider {
  /** "zonefile", "memory", "route53", "cloudflare", "rfc2136". */
  readonly kind: string;
  /** Returns the RRsets that exist among `keys` (absent ones are simply not returned). */
  read(keys: readonly RRsetKey[], signal: AbortSignal): Promise<RRset[]>;
  /** Applies every change or none where the API allows (per zone); see RRsetChange. */
  apply(changes: readonly RRsetChange[], signal: AbortSignal): Promise<ApplyResult>;
  /**
   * Finishes work an earlier cycle left undone although its records were written (e.g. a name
   * server reload that failed). Called at the start of every cycle that may write — never in a
   * dry run. Returns notes for the report (empty when nothing was pending); throws like apply.
   */
  finishPending?(signal: AbortSignal): Promise<readonly string[]>;
  /** Releases clients, sockets, locks. */
  close?(): Promise<void>;
  /**
   * Optional: whether `live` is the same version of an RRset as `saved`, an earlier read of it
   * (a saved plan's), by this provider's own identity of its records — e.g. the zone file's
   * records wherever they moved in the file. Called only when values, TTL and per-record state
   * already agree. Absent: `native` must be deep-equal (as JSON).
   */
  sameVersion?(saved: RRset, live: RRset): boolean;
}

/** What every provider factory is given besides its own config block. */
export interface ProviderContext {
  /** The provider's name in the config (`providers.<name>`), for messages. */
  readonly name: string;
  /** The ownership id of this controller (config `controllerId`). */
  readonly controllerId: string;
  /** The pools that use this provider, for providers whose write shape depends on the pool. */
  readonly pools: readonly ProviderPool[];
  /** Environment (never read process.env directly inside a provider). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: MinimalLogger;
}

/**
 * A pool that uses the provider: its name, and the pool-level keys the provider's own factory
 * declares (`poolOptions` in its factory.ts, e.g. Route 53's recordStyle), with their defaults.
 * The core knows none of those keys; each provider reads its own.
 */
export interface ProviderPool {
  readonly name: string;
  readonly [option: string]: unknown;
}

export interface MinimalLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * A provider folder's index.ts: `create` validates a block handed to it directly (tests, tools)
 * with the factory's schema (parseBlock in factory.ts) and creates the provider. The config
 * loader's blocks take the factory's `open` instead (providers/registry.ts), validated once.
 */
export interface ProviderModule<C = unknown> {
  create(config: C, ctx: ProviderContext): Promise<Provider>;
}

/**
 * The live RRset differs from the `before` the change was planned against (someone else edited
 * it, or it vanished). Nothing of the batch was written. The controller re-reads and re-plans.
 */
export class ConflictError extends Error {
  override readonly name = "ConflictError";
  /** What earlier batches of the same apply wrote before this one was refused. */
  readonly applied: ApplyResult | undefined;
  constructor(
    message: string,
    readonly key?: RRsetKey,
    options?: { cause?: unknown; applied?: ApplyResult },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.applied = options?.applied;
  }
}

/**
 * A provider failure. `transient` failures (throttling, 5xx, connection resets, a prior request
 * still in progress) are retried with backoff by the controller; the others stop the cycle for
 * that provider and are reported.
 */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  readonly transient: boolean;
  /** Server-suggested wait before retrying, in ms (Retry-After). */
  readonly retryAfterMs: number | undefined;
  /**
   * What was written before the failure (earlier batches of a split apply; a zone file written
   * whose reload then failed), so the report does not call a made change "not applied".
   */
  readonly applied: ApplyResult | undefined;
  constructor(
    message: string,
    options: { transient: boolean; retryAfterMs?: number; cause?: unknown; applied?: ApplyResult },
  ) {
    super(message, { cause: options.cause });
    this.transient = options.transient;
    this.retryAfterMs = options.retryAfterMs;
    this.applied = options.applied;
  }
}

/**
 * The same failure, carrying what had been written before it (nothing to add when nothing was
 * written, or when the failure is an abort, which must stay recognisable).
 */
export function withWritten(e: unknown, applied: ApplyResult): unknown {
  if (applied.applied === 0) return e;
  if (e instanceof ConflictError) return new ConflictError(e.message, e.key, { cause: e.cause, applied });
  if (e instanceof ProviderError) {
    return new ProviderError(e.message, {
      transient: e.transient,
      cause: e.cause,
      applied,
      ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
    });
  }
  if (e instanceof Error && e.name === "AbortError") return e;
  return new ProviderError(e instanceof Error ? e.message : String(e), { transient: false, cause: e, applied });
}

/** What a failed apply had written before it failed (see ProviderError.applied). */
export const writtenBefore = (e: unknown): ApplyResult | undefined =>
  e instanceof ProviderError ? e.applied : e instanceof ConflictError ? e.applied : undefined;

/** A provider's config block is wrong in a way its schema cannot see (e.g. zone not found). */
export class ProviderConfigError extends Error {
  override readonly name = "ProviderConfigError";
}

export const isConflict = (e: unknown): e is ConflictError => e instanceof ConflictError;
export const isTransient = (e: unknown): boolean =>
  e instanceof ProviderError && e.transient;

/** Key for maps: "smtp.example.com A". */
export const keyOf = (k: RRsetKey): string => `${k.name} ${k.type}`;
