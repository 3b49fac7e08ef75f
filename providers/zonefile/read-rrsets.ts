/** The RRsets mailpool manages (A, AAAA, TXT in class IN), as the core sees them. */
import { normalizeName } from "../../src/util/names.js";
import type { RRset, RRsetKey } from "../types.js";
import { F_RECORD, nameHash, recordAt } from "./parse-zone.js";
import type { ParsedZone, ZoneRecord } from "./parse-zone.js";

/** What `RRset.native` holds for this provider: every record of the RRset, as in the file. */
export interface ZonefileNative {
  readonly records: readonly { readonly value: string; readonly ttl: number; readonly line: number }[];
}

export const isZonefileNative = (x: unknown): x is ZonefileNative =>
  typeof x === "object" && x !== null && Array.isArray((x as { records?: unknown }).records);

/** The records of each name asked for, in file order: found once per parsed zone and name. */
const byOwner = new WeakMap<ParsedZone, Map<string, ZoneRecord[]>>();

/**
 * Owner-hash buckets over the zone's index, built once per parsed zone on the first lookup: an
 * open table of chain heads (a power of two at least twice the records) and a chain link per
 * entry, in file order, 12 bytes a record at most. Looking up every pool's names used to scan the
 * whole index per name, names × records: 24 million steps for 1,000 pools in a 12,000-record
 * zone, 100 times that at 10 times the pools (issue 10).
 */
interface Buckets {
  readonly mask: number;
  /** First entry (file order) whose hash falls in the slot, or -1. */
  readonly head: Int32Array;
  /** The next entry in the same slot, or -1. */
  readonly next: Int32Array;
}
const bucketsOf = new WeakMap<ParsedZone, Buckets>();

function buckets(zone: ParsedZone): Buckets {
  let b = bucketsOf.get(zone);
  if (b) return b;
  const { count, flags, hash } = zone.index;
  let size = 16;
  while (size < count * 2) size *= 2;
  const mask = size - 1;
  const head = new Int32Array(size).fill(-1);
  const next = new Int32Array(count).fill(-1);
  // Backwards, so each chain comes out in file order.
  for (let i = count - 1; i >= 0; i--) {
    if (!((flags[i] as number) & F_RECORD)) continue;
    const slot = (hash[i] as number) & mask;
    next[i] = head[slot] as number;
    head[slot] = i;
  }
  b = { mask, head, next };
  bucketsOf.set(zone, b);
  return b;
}

/**
 * The records of one owner name, in file order. The index holds a hash of every record's owner,
 * so only the records of this name (and the rare collision) are materialized.
 */
export function recordsAt(zone: ParsedZone, name: string): readonly ZoneRecord[] {
  let cache = byOwner.get(zone);
  if (!cache) {
    cache = new Map();
    byOwner.set(zone, cache);
  }
  const known = cache.get(name);
  if (known) return known;
  const { hash } = zone.index;
  const { mask, head, next } = buckets(zone);
  const h = nameHash(name);
  const found: ZoneRecord[] = [];
  for (let i = head[h & mask] as number; i !== -1; i = next[i] as number) {
    if (hash[i] !== h) continue;
    const r = recordAt(zone, i);
    if (r.owner === name) found.push(r);
  }
  cache.set(name, found);
  return found;
}

/** The records of one RRset, in file order. */
export function recordsOf(zone: ParsedZone, key: RRsetKey): ZoneRecord[] {
  const name = normalizeName(key.name);
  return recordsAt(zone, name).filter((r) => r.type === key.type && r.class === "IN");
}

/** The CNAME record at a name, if any: no other data may stand beside it (RFC 1034 section 3.6.2). */
export function cnameAt(zone: ParsedZone, name: string): ZoneRecord | undefined {
  return recordsAt(zone, normalizeName(name)).find((r) => r.type === "CNAME" && r.class === "IN");
}

/** One RRset of the zone, or undefined when it has no records. */
export function rrsetOf(zone: ParsedZone, key: RRsetKey): RRset | undefined {
  const records = recordsOf(zone, key);
  if (records.length === 0) return undefined;
  const values: string[] = [];
  const drift: string[] = [];
  for (const r of records) {
    const v = r.value as string;
    if (values.includes(v)) drift.push(`${describe(key.type, v)} is written twice (line ${r.lineNumber})`);
    else values.push(v);
  }
  const ttls = new Set(records.map((r) => r.ttl));
  const ttl = [...ttls].reduce((a, b) => Math.min(a, b));
  if (ttls.size > 1) {
    const each = records.map((r) => `${describe(key.type, r.value as string)} has ${r.ttl}`).join(", ");
    drift.push(`its records disagree on the TTL (${each}); the lowest, ${ttl}, is reported`);
  }
  const native: ZonefileNative = {
    records: records.map((r) => ({ value: r.value as string, ttl: r.ttl, line: r.lineNumber })),
  };
  return {
    name: normalizeName(key.name),
    type: key.type,
    ttl,
    values,
    ...(drift.length > 0 ? { drift } : {}),
    native,
  };
}

const describe = (type: string, value: string): string => (type === "TXT" ? JSON.stringify(value) : value);
