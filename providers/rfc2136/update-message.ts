/**
 * The UPDATE message of one zone (RFC 2136 §2): zone section, prerequisites, updates.
 *
 * Each RRset change is a compare-and-swap:
 *   - prerequisite: the whole RRset exactly as read — "RRset exists (value dependent)", §2.4.2:
 *     every record with class IN, TTL 0 and its RDATA — or, when it was absent, "RRset does not
 *     exist", §2.4.3: class NONE, TTL 0, no RDATA;
 *   - update: "delete an RRset", §2.5.2 (class ANY, TTL 0, no RDATA), then "add to an RRset",
 *     §2.5.1 (class IN, the new TTL, each new RDATA).
 * The server checks every prerequisite before it changes anything and applies the whole message
 * or nothing (§3.2, §3.4): a concurrent change makes it answer NXRRSET or YXRRSET. Owner names
 * are compressed (RFC 1035 §4.1.4), so most updates fit the 512 octets of a UDP message.
 */
import { CLASS, OPCODE, TYPE, Writer, writeHeader, writeRecord, type WireRecord } from "./wire.js";

export type ManagedType = "A" | "AAAA" | "TXT";

export interface UpdateChange {
  readonly name: string;
  readonly type: ManagedType;
  /** The RDATA of every record of the RRset as read; null when it was absent. */
  readonly before: readonly Uint8Array[] | null;
  /** The RRset to write; null (or no records) deletes it. */
  readonly after: { readonly ttl: number; readonly rdata: readonly Uint8Array[] } | null;
}

const EMPTY = new Uint8Array(0);

/** The prerequisite and update records of one change (pure; exported for the tests). */
export function changeRecords(c: UpdateChange): { prerequisites: WireRecord[]; updates: WireRecord[] } {
  const type = TYPE[c.type];
  const prerequisites: WireRecord[] =
    c.before === null || c.before.length === 0
      ? [{ name: c.name, type, class: CLASS.NONE, ttl: 0, rdata: EMPTY }]
      : c.before.map((rdata) => ({ name: c.name, type, class: CLASS.IN, ttl: 0, rdata }));
  const updates: WireRecord[] = [];
  if (c.before !== null && c.before.length > 0) updates.push({ name: c.name, type, class: CLASS.ANY, ttl: 0, rdata: EMPTY });
  for (const rdata of c.after?.rdata ?? []) updates.push({ name: c.name, type, class: CLASS.IN, ttl: c.after!.ttl, rdata });
  return { prerequisites, updates };
}

/** One unsigned UPDATE message for `zone` carrying every change (an empty list is refused). */
export function buildUpdate(id: number, zone: string, changes: readonly UpdateChange[]): Uint8Array {
  if (changes.length === 0) throw new TypeError("an UPDATE needs at least one change");
  const prerequisites: WireRecord[] = [];
  const updates: WireRecord[] = [];
  for (const c of changes) {
    const r = changeRecords(c);
    prerequisites.push(...r.prerequisites);
    updates.push(...r.updates);
  }
  const w = new Writer();
  writeHeader(w, { id, opcode: OPCODE.UPDATE, counts: [1, prerequisites.length, updates.length, 0] });
  w.compressedName(zone).u16(TYPE.SOA).u16(CLASS.IN);
  for (const r of prerequisites) writeRecord(w, r, true);
  for (const r of updates) writeRecord(w, r, true);
  return w.finish();
}
