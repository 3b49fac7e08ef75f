/**
 * The Cloudflare provider over the narrow client seam. Reads list each name and type exactly,
 * page by page up to result_info.total_pages. Writes go out per zone as batch requests (deletes,
 * patches, posts, one transaction each), after a re-read that checks every change's `before`
 * still matches: Cloudflare has no conditional writes, so that re-read and the batch's atomicity
 * are the compare-and-swap (docs/cloudflare.md, "Consistency").
 */
import { isInZone, normalizeName } from "../../src/util/names.js";
import {
  ConflictError,
  ProviderConfigError,
  ProviderError,
  keyOf,
  withWritten,
  type ApplyResult,
  type MinimalLogger,
  type Provider,
  type RRset,
  type RRsetChange,
  type RRsetKey,
} from "../types.js";
import type { BatchOps, CloudflareClient, DnsRecord } from "./client.js";
import { toProviderError } from "./errors.js";
import { ZONE_PER_PAGE, zoneListingChoice } from "./zone-listing.js";
import {
  editCount,
  editsFor,
  nativeOf,
  recordsMismatch,
  toNative,
  toRRset,
  type RRsetEdits,
} from "./records.js";

/** Records per list page: the API's default; a round robin rarely needs a second page. */
export const DEFAULT_PER_PAGE = 100;
/** A safety stop for a server whose total_pages keeps growing. */
const MAX_PAGES = 1_000;

export interface CloudflareProviderOptions {
  readonly client: CloudflareClient;
  /** The provider's name in the config, for messages. */
  readonly name: string;
  readonly controllerId: string;
  readonly zone: { readonly id: string } | { readonly name: string };
  readonly batchSize: number;
  /** The TTLs mailpool may write (the config's pool TTL window), never 1 ("automatic"). */
  readonly ttlWindow: { readonly min: number; readonly max: number };
  readonly logger: MinimalLogger;
  /** Never appear in messages (the API token). */
  readonly secrets: readonly string[];
  readonly perPage?: number;
}

/** One batch request: the changes whose records it edits, and what to check before sending. */
interface PlannedBatch {
  readonly ops: BatchOps;
  readonly changes: RRsetChange[];
  /** Changes whose live records are compared with `before` right before this batch. */
  readonly precheck: RRsetChange[];
  readonly pools: string[];
}

export class CloudflareProvider implements Provider {
  readonly kind = "cloudflare";
  readonly #o: CloudflareProviderOptions;
  readonly #perPage: number;
  readonly #listing = zoneListingChoice();
  #zoneId: string | undefined;

  constructor(options: CloudflareProviderOptions) {
    this.#o = options;
    this.#perPage = options.perPage ?? DEFAULT_PER_PAGE;
    if ("id" in options.zone) this.#zoneId = options.zone.id;
  }

  get #zoneLabel(): string {
    return "id" in this.#o.zone ? `zone ${this.#o.zone.id}` : `zone ${this.#o.zone.name}`;
  }

  async read(keys: readonly RRsetKey[], signal: AbortSignal): Promise<RRset[]> {
    const unique = new Map<string, RRsetKey>();
    for (const k of keys) {
      const key = { name: normalizeName(k.name), type: k.type };
      this.#assertInZone(key);
      unique.set(keyOf(key), key);
    }
    const zoneId = await this.#zone(signal);
    const found: RRset[] = [];
    if (this.#listing.wholeZone(unique.size)) {
      // Many pools: each type's records of the whole zone, instead of a request per name and type.
      const byKey = new Map<string, DnsRecord[]>([...unique.keys()].map((k) => [k, []]));
      let pages = 0;
      for (const type of new Set([...unique.values()].map((k) => k.type))) {
        const listed = await this.#listAll(zoneId, { name: undefined, type }, signal, ZONE_PER_PAGE);
        pages += listed.pages;
        for (const r of listed.records) byKey.get(keyOf({ name: normalizeName(r.name), type: r.type as RRsetKey["type"] }))?.push(r);
      }
      this.#listing.learned(pages);
      for (const [k, key] of unique) {
        const records = byKey.get(k)!;
        if (records.length > 0) found.push(toRRset(key, zoneId, records, this.#o.controllerId));
      }
      return found;
    }
    // One name and type at a time: the rate limiter (4 requests/s sustained) paces a cycle far
    // more than round trips do, and the first failure stops the read.
    for (const key of unique.values()) {
      const records = (await this.#listAll(zoneId, key, signal)).records;
      if (records.length > 0) found.push(toRRset(key, zoneId, records, this.#o.controllerId));
    }
    return found;
  }

  async apply(changes: readonly RRsetChange[], signal: AbortSignal): Promise<ApplyResult> {
    if (changes.length === 0) return { applied: 0, notes: [] };
    const zoneId = await this.#zone(signal);
    const edits = changes.map((c) => this.#editsOf(c, zoneId));
    const batches = planBatches(changes, edits, this.#o.batchSize);
    const notes: string[] = [];
    const unchanged = edits.filter((e) => editCount(e) === 0).length;
    if (unchanged > 0) notes.push(`${unchanged} change(s) needed no record edit`);
    const edited = new Set(changes.filter((_, i) => editCount(edits[i]!) > 0));
    let applied = 0;
    for (const [i, batch] of batches.entries()) {
      const label = `batch ${i + 1}/${batches.length}`;
      try {
        await this.#precheck(zoneId, batch.precheck, signal);
        const what = `${label} for ${batch.pools.join(", ")} in ${this.#zoneLabel}`;
        const res = await this.#call(what, signal, undefined, (s) => this.#o.client.batch(zoneId, batch.ops, s));
        const note = `${label} (${batch.pools.join(", ")}): ${res.deleted} deleted, ${res.patched} patched, ${res.posted} created`;
        notes.push(note);
        applied += batch.changes.filter((c) => edited.has(c)).length;
        this.#o.logger.info(
          { provider: this.#o.name, zone: this.#zoneLabel, deletes: res.deleted, patches: res.patched, posts: res.posted, pools: batch.pools },
          `cloudflare ${label} applied`,
        );
      } catch (err) {
        const written = { applied, notes: [...notes] };
        if (i > 0 && (err instanceof ConflictError || err instanceof ProviderError)) {
          const done = `; batches 1–${i} of ${batches.length} were already written`;
          if (err instanceof ConflictError) throw new ConflictError(err.message + done, err.key, { cause: err, applied: written });
          throw new ProviderError(err.message + done, {
            transient: err.transient,
            cause: err,
            applied: written,
            ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
          });
        }
        throw withWritten(err, written);
      }
    }
    return { applied, notes };
  }

  /** The zone id: configured, or looked up by name once. */
  async #zone(signal: AbortSignal): Promise<string> {
    if (this.#zoneId !== undefined) return this.#zoneId;
    const name = normalizeName((this.#o.zone as { name: string }).name);
    const zones = await this.#call(`looking up zone ${name}`, signal, undefined, (s) =>
      this.#o.client.listZones(name, s),
    );
    const zone = zones[0];
    if (!zone) {
      throw new ProviderConfigError(
        `providers.${this.#o.name}.zoneName: no zone named ${name} is visible to this API token (check the name, or give the token Zone:Read on it, or configure zoneId instead)`,
      );
    }
    this.#zoneId = zone.id;
    return zone.id;
  }

  /**
   * Every record at exactly this name and type (name undefined: every record of the type in the
   * zone), page by page up to total_pages.
   */
  async #listAll(
    zoneId: string,
    key: { readonly name: string | undefined; readonly type: RRsetKey["type"] },
    signal: AbortSignal,
    perPage = this.#perPage,
  ): Promise<{ records: DnsRecord[]; pages: number }> {
    const out: DnsRecord[] = [];
    const seen = new Set<string>();
    const where = key.name === undefined ? `the zone's ${key.type} records` : `${key.type} records of ${key.name}`;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const what = `listing ${where} (page ${page}) in ${this.#zoneLabel}`;
      const res = await this.#call(what, signal, key.name === undefined ? undefined : (key as RRsetKey), (s) =>
        this.#o.client.listRecords({ zoneId, name: key.name, type: key.type, page, perPage }, s),
      );
      for (const r of res.records) {
        // The filters are exact; anything else is not ours to interpret.
        if ((key.name !== undefined && normalizeName(r.name) !== key.name) || r.type !== key.type || seen.has(r.id)) continue;
        seen.add(r.id);
        out.push(r);
      }
      // Stop by total_pages; without it, by a short page. Never wait for an empty page.
      const last = res.totalPages !== undefined ? page >= res.totalPages : res.records.length < perPage;
      if (last) return { records: out, pages: page };
    }
    throw new ProviderError(`Cloudflare: listing ${where} did not end after ${MAX_PAGES} pages`, {
      transient: false,
    });
  }

  /** With a zone name configured, a name outside it is a configuration mistake, said plainly. */
  #assertInZone(key: RRsetKey): void {
    if ("name" in this.#o.zone && !isInZone(key.name, normalizeName(this.#o.zone.name))) {
      throw new ProviderConfigError(
        `providers.${this.#o.name}: ${key.name} is not in zone ${normalizeName(this.#o.zone.name)}; give the pool a provider block for its own zone`,
      );
    }
  }

  #editsOf(change: RRsetChange, zoneId: string): RRsetEdits {
    const key = { name: normalizeName(change.key.name), type: change.key.type };
    this.#assertInZone(key);
    const { min, max } = this.#o.ttlWindow;
    if (change.after && (change.after.ttl < min || change.after.ttl > max)) {
      throw new ProviderError(
        `Cloudflare: refusing to write ${keyOf(key)} with TTL ${change.after.ttl} s: mailpool writes TTLs within ${min}–${max} s`,
        { transient: false },
      );
    }
    if (change.before === null) return editsFor(key, [], change.after, this.#o.controllerId, change.leave);
    const native = nativeOf(change);
    if (!native) {
      throw new ProviderError(
        `Cloudflare: the change to ${keyOf(key)} carries no Cloudflare record ids; its before must come from this provider's read`,
        { transient: false },
      );
    }
    if (native.zoneId !== zoneId) {
      throw new ProviderError(`Cloudflare: the change to ${keyOf(key)} was read from zone ${native.zoneId}, not ${zoneId}`, {
        transient: false,
      });
    }
    return editsFor(key, native.records, change.after, this.#o.controllerId, change.leave);
  }

  /** Re-lists the changes' RRsets; any difference from `before` is a ConflictError. */
  async #precheck(zoneId: string, changes: readonly RRsetChange[], signal: AbortSignal): Promise<void> {
    for (const change of changes) {
      const key = { name: normalizeName(change.key.name), type: change.key.type };
      const live = (await this.#listAll(zoneId, key, signal)).records.map(toNative);
      const before = change.before === null ? [] : (nativeOf(change)?.records ?? []);
      const why = recordsMismatch(key.type, before, live);
      if (why !== undefined) {
        throw new ConflictError(
          `Cloudflare: ${keyOf(key)} changed since it was read (${why}); nothing was sent, re-read and re-plan`,
          key,
        );
      }
    }
  }

  /**
   * One API call with its errors in mailpool's terms. The call gets a signal of its own that
   * follows the caller's: the SDK adds an abort listener to every request's signal and never
   * removes it, which on a long-lived signal would pile up.
   */
  async #call<T>(what: string, signal: AbortSignal, key: RRsetKey | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    const own = new AbortController();
    const follow = () => own.abort(signal.reason);
    signal.addEventListener("abort", follow, { once: true });
    try {
      return await fn(own.signal);
    } catch (err) {
      throw toProviderError(err, { what, zone: this.#zoneLabel, secrets: this.#o.secrets, ...(key ? { key } : {}) }, signal);
    } finally {
      signal.removeEventListener("abort", follow);
    }
  }
}

/**
 * Packs changes into batches of at most `batchSize` record operations, one pool's changes always
 * in one batch. A pool too large for one batch is split: its posts go first, then patches, then
 * deletes, so the name never goes empty between batches.
 */
export function planBatches(changes: readonly RRsetChange[], edits: readonly RRsetEdits[], batchSize: number): PlannedBatch[] {
  const pools = new Map<string, { changes: RRsetChange[]; edits: RRsetEdits[] }>();
  changes.forEach((c, i) => {
    const e = edits[i]!;
    if (editCount(e) === 0) return;
    const g = pools.get(c.pool) ?? { changes: [], edits: [] };
    g.changes.push(c);
    g.edits.push(e);
    pools.set(c.pool, g);
  });
  const batches: PlannedBatch[] = [];
  let cur: { changes: RRsetChange[]; edits: RRsetEdits[]; pools: string[]; count: number } | undefined;
  const flush = () => {
    if (cur && cur.count > 0) {
      batches.push({ ops: merge(cur.edits), changes: cur.changes, precheck: cur.changes, pools: cur.pools });
    }
    cur = undefined;
  };
  for (const [pool, g] of pools) {
    const count = g.edits.reduce((n, e) => n + editCount(e), 0);
    if (count > batchSize) {
      flush();
      const all = merge(g.edits);
      const ops: (["posts", BatchOps["posts"][number]] | ["patches", BatchOps["patches"][number]] | ["deletes", string])[] = [
        ...all.posts.map((p) => ["posts", p] as ["posts", BatchOps["posts"][number]]),
        ...all.patches.map((p) => ["patches", p] as ["patches", BatchOps["patches"][number]]),
        ...all.deletes.map((d) => ["deletes", d] as ["deletes", string]),
      ];
      for (let at = 0; at < ops.length; at += batchSize) {
        const slice = ops.slice(at, at + batchSize);
        const chunk = {
          deletes: slice.filter((o) => o[0] === "deletes").map((o) => o[1] as string),
          patches: slice.filter((o) => o[0] === "patches").map((o) => o[1] as BatchOps["patches"][number]),
          posts: slice.filter((o) => o[0] === "posts").map((o) => o[1] as BatchOps["posts"][number]),
        };
        batches.push({ ops: chunk, changes: g.changes, precheck: at === 0 ? g.changes : [], pools: [pool] });
      }
      continue;
    }
    if (cur && cur.count + count > batchSize) flush();
    cur ??= { changes: [], edits: [], pools: [], count: 0 };
    cur.changes.push(...g.changes);
    cur.edits.push(...g.edits);
    cur.pools.push(pool);
    cur.count += count;
  }
  flush();
  return batches;
}

function merge(edits: readonly RRsetEdits[]): BatchOps {
  return {
    deletes: edits.flatMap((e) => e.deletes),
    patches: edits.flatMap((e) => e.patches),
    posts: edits.flatMap((e) => e.posts),
  };
}
