/**
 * The compare-and-swap rule of the providers that hold the RRsets themselves (memory, zone file),
 * in one place: a batch is checked whole before anything is written —
 * 1. each change's name is normalized and, where the provider says so, refused (outside the zone);
 * 2. one change per RRset in a batch;
 * 3. `after` is made canonical (IP text, each value once, a whole TTL; no values: delete);
 * 4. every `before` must still be the live RRset, or ConflictError naming the first that is not.
 * The provider then writes every checked change, or nothing when this throws.
 */
import { canonicalIp, ipFamily } from "../src/util/ip.js";
import { normalizeName } from "../src/util/names.js";
import { ConflictError, ProviderError, keyOf, type RRset, type RRsetChange, type RRsetContent, type RRsetKey } from "./types.js";

/** The largest TTL DNS allows (RFC 2181 section 8). */
export const MAX_RRSET_TTL = 2 ** 31 - 1;

/** A change that passed: normalized name, canonical `after` (null: delete the RRset). */
export interface CheckedChange {
  readonly key: RRsetKey;
  readonly before: RRset | null;
  readonly after: RRsetContent | null;
}

export interface CompareAndSwap {
  /** The live RRset at a normalized key, or undefined when there is none. */
  live(key: RRsetKey): RRset | undefined;
  /** Whether `live` is the version `before` was read as. Default: sameRRset. */
  same?(live: RRset | undefined, before: RRset | null): boolean;
  /** Refuses a key before anything else is looked at (e.g. a name outside the zone) by throwing. */
  checkKey?(key: RRsetKey): void;
  /** How a conflict says what is live (given its description). Default: `found …`. */
  found?(live: string): string;
}

/** Checks a whole batch (see the file comment); throws before anything may be written. */
export function checkBatch(changes: readonly RRsetChange[], cas: CompareAndSwap): CheckedChange[] {
  const seen = new Set<string>();
  const checked: CheckedChange[] = [];
  for (const change of changes) {
    const key: RRsetKey = { name: normalizeName(change.key.name), type: change.key.type };
    cas.checkKey?.(key);
    if (seen.has(keyOf(key))) throw new ProviderError(`two changes for ${keyOf(key)} in one batch`, { transient: false });
    seen.add(keyOf(key));
    checked.push({ key, before: change.before, after: canonicalContent(key, change.after) });
  }
  const same = cas.same ?? sameRRset;
  const found = cas.found ?? ((live: string) => `found ${live}`);
  for (const change of checked) {
    const live = cas.live(change.key);
    if (!same(live, change.before)) {
      throw new ConflictError(`${keyOf(change.key)} changed since it was read: expected ${describeRRset(change.before)}, ${found(describeRRset(live ?? null))}`, change.key);
    }
  }
  return checked;
}

/** `after` as written: null for a delete or no values, canonical values each once, a whole TTL. */
export function canonicalContent(key: RRsetKey, after: RRsetContent | null): RRsetContent | null {
  if (after === null || after.values.length === 0) return null;
  if (!Number.isInteger(after.ttl) || after.ttl < 0 || after.ttl > MAX_RRSET_TTL) {
    throw new ProviderError(`${keyOf(key)}: TTL ${after.ttl} is not a whole number of seconds`, { transient: false });
  }
  return { ttl: after.ttl, values: canonicalValues(key, after.values) };
}

/** A/AAAA values as canonical IP text of the key's family (else ProviderError), each once. */
export function canonicalValues(key: RRsetKey, values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    let value = v;
    if (key.type !== "TXT") {
      const family = key.type === "A" ? 4 : 6;
      if (ipFamily(v) !== family) {
        throw new ProviderError(`${keyOf(key)}: ${JSON.stringify(v)} is not an IPv${family} address`, { transient: false });
      }
      value = canonicalIp(v);
    }
    if (!out.includes(value)) out.push(value);
  }
  return out;
}

/** The live RRset is the one `before` was read as: both absent, or the same TTL and set of values. */
export function sameRRset(live: RRset | undefined, before: RRset | null): boolean {
  if (before === null || live === undefined) return before === null && live === undefined;
  const a = [...new Set(live.values)].sort();
  const b = [...new Set(before.values)].sort();
  return live.ttl === before.ttl && a.length === b.length && a.every((v, i) => v === b[i]);
}

/** An RRset for a conflict message: `TTL 300 ["192.0.2.10", "192.0.2.11"]` or `no such RRset`. */
export const describeRRset = (r: RRset | RRsetContent | null): string =>
  r === null ? "no such RRset" : `TTL ${r.ttl} [${r.values.map((v) => JSON.stringify(v)).join(", ")}]`;
