/**
 * The minimal edit of a zone file for a batch of RRset changes. Pure: parsed zone and changes
 * in, new text out.
 *
 * - Compare-and-swap first: every change's `before` must match the file, or ConflictError and
 *   nothing changes.
 * - The lines of a changed RRset are removed; its new records (one line per value, absolute owner,
 *   explicit TTL and class) go where its first record was, or — for a new RRset — after the last
 *   record of the same owner, or at the end of the file.
 * - Every other line stays byte-identical, except where a removal or insertion would change what
 *   a following record inherits (blank owner, implicit TTL or class): that record's owner, TTL or
 *   class is then written out explicitly.
 * - The SOA serial is bumped (serial.ts).
 * - The result is read again and checked: only the changed RRsets and the serial differ. Like the
 *   parse, the edit materializes only the records it touches: memory stays a few times the text.
 */
import { isInZone } from "../../src/util/names.js";
import { checkBatch, type CheckedChange } from "../compare-and-swap.js";
import { ProviderConfigError, ProviderError, keyOf } from "../types.js";
import type { RRset, RRsetChange, RRsetContent, RRsetKey } from "../types.js";
import { F_RECORD, F_TTL_DIRECTIVE, ZoneReader, entryAt, recordAt, withValue } from "./parse-zone.js";
import type { ParsedZone, SoaRecord, ZoneRecord } from "./parse-zone.js";
import { cnameAt, isZonefileNative, recordsAt, recordsOf, rrsetOf } from "./read-rrsets.js";
import { bumpSerial } from "./serial.js";
import { encodeTxt } from "./txt-codec.js";

export interface EditOptions {
  /** For date-style serials. */
  readonly now: Date;
}

export interface ZoneEdit {
  /** The new text of the file (the old text when nothing needed to change). */
  readonly text: string;
  /** How many RRset changes altered the file. */
  readonly applied: number;
  /** Absent when nothing changed. */
  readonly serial?: { readonly from: number; readonly to: number };
}

/** A checked change: normalized name, `after` canonical and unique (null: delete). */
type NormalChange = CheckedChange;

interface NewRecord {
  readonly owner: string;
  readonly ttl: number;
  readonly text: string;
}

/** Replace text[start, end) of the original with `text` (an insertion when start === end). */
interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export function editZone(zone: ParsedZone, changes: readonly RRsetChange[], options: EditOptions): ZoneEdit {
  const normal = checkChanges(zone, changes);
  const effective = normal.filter((c) => !holdsExactly(recordsOf(zone, c.key), c.after));
  if (effective.length === 0) return { text: zone.text, applied: 0 };
  const soa = zone.soa;
  if (!soa) {
    throw new ProviderConfigError(`${zone.source}: no SOA record, so the serial cannot be bumped; refusing to edit`);
  }

  const deleted = new Set<number>();
  const atEntry = new Map<number, NewRecord[]>();
  const afterEntry = new Map<number, NewRecord[]>();
  const tail: NewRecord[] = [];
  const push = (map: Map<number, NewRecord[]>, at: number, recs: NewRecord[]): void => {
    map.set(at, [...(map.get(at) ?? []), ...recs]);
  };

  for (const change of effective) {
    const { key, after } = change;
    const existing = recordsOf(zone, key);
    for (const r of existing) deleted.add(r.entry.index);
    const fresh = after ? after.values.map((v) => newRecord(key, after.ttl, v)) : [];
    if (fresh.length === 0) continue;
    if (existing.length > 0) {
      push(atEntry, (existing[0] as ZoneRecord).entry.index, fresh);
      continue;
    }
    const cname = cnameAt(zone, key.name);
    if (cname) {
      throw new ProviderError(
        `${zone.source}:${cname.lineNumber}: ${key.name} is a CNAME; refusing to add ${key.type} records beside it`,
        { transient: false },
      );
    }
    const sameOwner = recordsAt(zone, key.name).at(-1);
    if (sameOwner) push(afterEntry, sameOwner.entry.index, fresh);
    else tail.push(...fresh);
  }

  // What each kept record would now inherit. Only a record whose predecessor in the new order is
  // not its old one (a record removed or added just before it) can inherit something else, so
  // only those are materialized; the walk itself reads the index.
  const splices = new Map<number, Splice[]>();
  const addSplice = (entry: number, splice: Splice): void => {
    splices.set(entry, [...(splices.get(entry) ?? []), splice]);
  };
  const { count, flags, ttl } = zone.index;
  let defaultTtl: number | undefined;
  let lastKept = -1;
  let lastFresh: NewRecord | undefined;
  let disturbed = false;
  for (let i = 0; i < count; i++) {
    const f = flags[i] as number;
    const before = atEntry.get(i);
    if (before) [lastFresh, disturbed] = [before.at(-1), true];
    if (!(f & F_RECORD)) {
      if (f & F_TTL_DIRECTIVE) defaultTtl = ttl[i];
      continue;
    }
    if (deleted.has(i)) {
      disturbed = true;
    } else {
      if (disturbed) {
        const prev = lastFresh
          ? { owner: lastFresh.owner, ttl: lastFresh.ttl, class: "IN" }
          : lastKept >= 0
            ? recordAt(zone, lastKept)
            : undefined;
        const splice = inheritanceFix(recordAt(zone, i), prev, defaultTtl, soa);
        if (splice) addSplice(i, splice);
      }
      [lastKept, lastFresh, disturbed] = [i, undefined, false];
    }
    const after = afterEntry.get(i);
    if (after) [lastFresh, disturbed] = [after.at(-1), true];
  }

  const serial = { from: soa.serial, to: bumpSerial(soa.serial, options.now) };
  const st = soa.serialToken;
  addSplice(soa.entry.index, { start: st.pos, end: st.pos + st.text.length, text: String(serial.to) });

  const text = render(zone, deleted, atEntry, afterEntry, tail, splices);
  verify(zone, text, effective, serial.to);
  return { text, applied: effective.length, serial };
}

/**
 * The owner, TTL or class a kept record must now write out because what it would inherit from
 * `prev` (its new predecessor) differs from what it has; undefined when nothing differs.
 */
function inheritanceFix(
  orig: ZoneRecord,
  prev: { readonly owner: string; readonly ttl: number; readonly class: string } | undefined,
  defaultTtl: number | undefined,
  soa: SoaRecord,
): Splice | undefined {
  const inheritedOwner = orig.ownerToken ? orig.owner : prev?.owner;
  const inheritedTtl = orig.ttlToken
    ? orig.ttl
    : (defaultTtl ?? prev?.ttl ?? (orig.entry.index === soa.entry.index ? soa.minimum : undefined));
  const inheritedClass = orig.classToken ? orig.class : (prev?.class ?? "IN");
  const needOwner = inheritedOwner !== orig.owner;
  const needTtl = inheritedTtl !== orig.ttl;
  const needClass = inheritedClass !== orig.class;
  if (!needOwner && !needTtl && !needClass) return undefined;
  const fields = [...(needTtl ? [String(orig.ttl)] : []), ...(needClass ? [orig.class] : [])];
  const first = orig.entry.tokens[0];
  if (needOwner) {
    const at = orig.entry.startPos;
    return { start: at, end: at, text: [`${orig.owner}.`, ...fields].join(" ") };
  }
  if (orig.ownerToken) {
    const at = orig.ownerToken.pos + orig.ownerToken.text.length;
    return { start: at, end: at, text: fields.map((f) => ` ${f}`).join("") };
  }
  if (first) return { start: first.pos, end: first.pos, text: fields.map((f) => `${f} `).join("") };
  return undefined;
}

/**
 * Validates the changes (names in the zone, one change per RRset, values of the right family)
 * and compares every `before` with the file. Throws ConflictError naming the first RRset that
 * no longer matches; returns the changes with normalized names and canonical values.
 */
export function checkChanges(zone: ParsedZone, changes: readonly RRsetChange[]): NormalChange[] {
  // The compare-and-swap rule shared with the memory provider (providers/compare-and-swap.ts).
  return checkBatch(changes, {
    live: (key) => rrsetOf(zone, key),
    same: sameAsBefore,
    checkKey: (key) => {
      if (!isInZone(key.name, zone.apex)) throw new ProviderConfigError(`${key.name} is not in the zone ${zone.apex} of ${zone.source}`);
    },
    found: (live) => `${zone.source} has ${live}; nothing was written`,
  });
}

/** The live RRset is the one the change was planned against (TTL and set of values). */
export function sameAsBefore(live: RRset | undefined, before: RRset | null): boolean {
  if (before === null || live === undefined) return before === null && live === undefined;
  if (live.ttl !== before.ttl || !sameSet(live.values, before.values)) return false;
  if (isZonefileNative(before.native) && isZonefileNative(live.native)) {
    // Per-record TTLs too, so a read that reported drift is not mistaken for another version.
    const sig = (n: typeof live.native) =>
      (n as { records: readonly { value: string; ttl: number }[] }).records.map((r) => `${r.value}/${r.ttl}`).sort();
    return sameList(sig(before.native), sig(live.native));
  }
  return true;
}

/** The file holds exactly `after`: same values, each once, each with its TTL. */
function holdsExactly(records: readonly ZoneRecord[], after: RRsetContent | null): boolean {
  if (after === null) return records.length === 0;
  return (
    records.length === after.values.length &&
    records.every((r) => r.ttl === after.ttl) &&
    sameSet(
      records.map((r) => r.value as string),
      after.values,
    )
  );
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  sameList([...new Set(a)].sort(), [...new Set(b)].sort());


function newRecord(key: RRsetKey, ttl: number, value: string): NewRecord {
  const rdata = key.type === "TXT" ? encodeTxt(value) : value;
  return { owner: key.name, ttl, text: `${key.name}.\t${ttl}\tIN\t${key.type}\t${rdata}` };
}

/**
 * The new text: the old one with the touched entries' byte ranges replaced — removed records cut
 * out, new ones inserted, splices applied inside kept ones — and every other byte copied as is.
 */
function render(
  zone: ParsedZone,
  deleted: ReadonlySet<number>,
  atEntry: ReadonlyMap<number, NewRecord[]>,
  afterEntry: ReadonlyMap<number, NewRecord[]>,
  tail: readonly NewRecord[],
  splices: ReadonlyMap<number, Splice[]>,
): string {
  const text = zone.text;
  const out: string[] = [];
  const put = (s: string): void => {
    if (s.length > 0) out.push(s);
  };
  const emit = (recs: readonly NewRecord[] | undefined): void => {
    if (!recs || recs.length === 0) return;
    const last = out.at(-1);
    if (last !== undefined && !last.endsWith("\n")) out.push(zone.eol);
    for (const r of recs) out.push(r.text + zone.eol);
  };
  const touched = [...new Set([...deleted, ...atEntry.keys(), ...afterEntry.keys(), ...splices.keys()])].sort((a, b) => a - b);
  let cursor = 0;
  for (const i of touched) {
    const entry = entryAt(zone, i);
    put(text.slice(cursor, entry.startPos));
    emit(atEntry.get(i));
    if (!deleted.has(i)) {
      let at = entry.startPos;
      for (const s of [...(splices.get(i) ?? [])].sort((a, b) => a.start - b.start)) {
        put(text.slice(at, s.start));
        put(s.text);
        at = s.end;
      }
      put(text.slice(at, entry.endPos));
    }
    emit(afterEntry.get(i));
    cursor = entry.endPos;
  }
  put(text.slice(cursor));
  emit(tail);
  return out.join("");
}

/**
 * Reads the new text and checks that it says exactly what was meant; throws otherwise. Both
 * texts are read item by item, side by side, so no more than one record of each is held.
 */
function verify(zone: ParsedZone, text: string, changes: readonly NormalChange[], serial: number): void {
  const fail = (what: string, cause?: unknown): never => {
    throw new ProviderError(`internal error: the edit of ${zone.source} ${what}; nothing was written`, {
      transient: false,
      cause,
    });
  };
  const managed = new Set(changes.map((c) => keyOf(c.key)));
  const isManaged = (r: ZoneRecord): boolean => r.class === "IN" && managed.has(`${r.owner} ${r.type}`);
  const sig = (r: ZoneRecord): string => {
    const soa = r.type === "SOA" && r.class === "IN";
    const rdata = r.rdata.map((t, i) => (soa && i === 2 ? "<serial>" : t.text));
    return `${r.owner} ${r.ttl} ${r.class} ${r.type} ${rdata.join(" ")}`;
  };
  /** The next record not managed by these changes; managed ones are kept by key in `into`. */
  const nextOther = (reader: ZoneReader, into?: Map<string, ZoneRecord[]>): ZoneRecord | undefined => {
    for (let item = reader.next(); item; item = reader.next()) {
      if (item.kind !== "record") continue;
      if (!isManaged(item)) return item;
      if (into) {
        const k = `${item.owner} ${item.type}`;
        into.set(k, [...(into.get(k) ?? []), withValue(item)]);
      }
    }
    return undefined;
  };

  const old = new ZoneReader(zone.text, { ...zone.options, values: false });
  const next = new ZoneReader(text, { ...zone.options, values: false });
  const written = new Map<string, ZoneRecord[]>();
  let nextSoa: SoaRecord | undefined;
  try {
    for (;;) {
      const was = nextOther(old);
      let now: ZoneRecord | undefined;
      try {
        now = nextOther(next, written);
      } catch (e) {
        return fail(`does not parse (${(e as Error).message})`, e);
      }
      if (!was && !now) break;
      const a = was && sig(was);
      const b = now && sig(now);
      if (a !== b) fail(`would also change another record (${a ?? "(none)"} → ${b ?? "(gone)"})`);
    }
    nextSoa = next.finish().soa;
  } catch (e) {
    if (e instanceof ProviderError && e.message.startsWith("internal error")) throw e;
    return fail(`does not parse (${(e as Error).message})`, e);
  }
  for (const c of changes) {
    if (!holdsExactly(written.get(keyOf(c.key)) ?? [], c.after)) fail(`would not leave ${keyOf(c.key)} as asked`);
  }
  if (nextSoa?.serial !== serial) fail(`would not set the serial to ${serial}`);
}
