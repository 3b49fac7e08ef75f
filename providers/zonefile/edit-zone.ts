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
 * - The result is parsed again and checked: only the changed RRsets and the serial differ.
 */
import { canonicalIp, ipFamily } from "../../src/util/ip.js";
import { isInZone, normalizeName } from "../../src/util/names.js";
import { ConflictError, ProviderConfigError, ProviderError, keyOf } from "../types.js";
import type { RRset, RRsetChange, RRsetContent, RRsetKey } from "../types.js";
import { parseZone } from "./parse-zone.js";
import type { ParsedZone, SoaRecord, ZoneDirective, ZoneRecord } from "./parse-zone.js";
import { isZonefileNative, recordsOf, rrsetOf } from "./read-rrsets.js";
import { bumpSerial } from "./serial.js";
import { MAX_TTL } from "./ttl.js";
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

interface NormalChange {
  readonly key: RRsetKey;
  readonly before: RRset | null;
  /** Null: delete. Values canonical and unique. */
  readonly after: RRsetContent | null;
}

interface NewRecord {
  readonly owner: string;
  readonly ttl: number;
  readonly text: string;
}

interface LineEdit {
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
    const cname = zone.records.find((r) => r.owner === key.name && r.type === "CNAME" && r.class === "IN");
    if (cname) {
      throw new ProviderError(
        `${zone.source}:${cname.lineNumber}: ${key.name} is a CNAME; refusing to add ${key.type} records beside it`,
        { transient: false },
      );
    }
    const sameOwner = zone.records.filter((r) => r.owner === key.name).at(-1);
    if (sameOwner) push(afterEntry, sameOwner.entry.index, fresh);
    else tail.push(...fresh);
  }

  // The new order of entries, to see what each kept record would now inherit.
  type Item = { readonly orig: ZoneRecord | ZoneDirective } | { readonly fresh: NewRecord };
  const sequence: Item[] = [];
  for (const item of zone.items) {
    const i = item.entry.index;
    for (const r of atEntry.get(i) ?? []) sequence.push({ fresh: r });
    if (!deleted.has(i)) sequence.push({ orig: item });
    for (const r of afterEntry.get(i) ?? []) sequence.push({ fresh: r });
  }

  const edits = new Map<number, LineEdit[]>();
  const addEdit = (line: number, edit: LineEdit): void => {
    edits.set(line, [...(edits.get(line) ?? []), edit]);
  };
  let defaultTtl: number | undefined;
  let lastTtl: number | undefined;
  let lastOwner: string | undefined;
  let lastClass: string | undefined;
  for (const item of sequence) {
    if ("fresh" in item) {
      lastOwner = item.fresh.owner;
      lastTtl = item.fresh.ttl;
      lastClass = "IN";
      continue;
    }
    const orig = item.orig;
    if (orig.kind === "directive") {
      if (orig.ttl !== undefined) defaultTtl = orig.ttl;
      continue;
    }
    const inheritedOwner = orig.ownerToken ? orig.owner : lastOwner;
    const inheritedTtl = orig.ttlToken
      ? orig.ttl
      : (defaultTtl ?? lastTtl ?? (orig === soa ? (orig as SoaRecord).minimum : undefined));
    const inheritedClass = orig.classToken ? orig.class : (lastClass ?? "IN");
    const needOwner = inheritedOwner !== orig.owner;
    const needTtl = inheritedTtl !== orig.ttl;
    const needClass = inheritedClass !== orig.class;
    if (needOwner || needTtl || needClass) {
      const fields = [...(needTtl ? [String(orig.ttl)] : []), ...(needClass ? [orig.class] : [])];
      const first = orig.entry.tokens[0];
      if (needOwner) {
        addEdit(orig.entry.firstLine, { start: 0, end: 0, text: [`${orig.owner}.`, ...fields].join(" ") });
      } else if (orig.ownerToken) {
        const t = orig.ownerToken;
        addEdit(t.line, { start: t.end, end: t.end, text: fields.map((f) => ` ${f}`).join("") });
      } else if (first) {
        addEdit(first.line, { start: first.start, end: first.start, text: fields.map((f) => `${f} `).join("") });
      }
    }
    lastOwner = orig.owner;
    lastTtl = orig.ttl;
    lastClass = orig.class;
  }

  const serial = { from: soa.serial, to: bumpSerial(soa.serial, options.now) };
  const st = soa.serialToken;
  addEdit(st.line, { start: st.start, end: st.end, text: String(serial.to) });

  const text = render(zone, deleted, atEntry, afterEntry, tail, edits);
  verify(zone, text, effective, serial.to);
  return { text, applied: effective.length, serial };
}

/**
 * Validates the changes (names in the zone, one change per RRset, values of the right family)
 * and compares every `before` with the file. Throws ConflictError naming the first RRset that
 * no longer matches; returns the changes with normalized names and canonical values.
 */
export function checkChanges(zone: ParsedZone, changes: readonly RRsetChange[]): NormalChange[] {
  const seen = new Set<string>();
  const normal: NormalChange[] = [];
  for (const change of changes) {
    const key: RRsetKey = { name: normalizeName(change.key.name), type: change.key.type };
    if (!isInZone(key.name, zone.apex)) {
      throw new ProviderConfigError(`${key.name} is not in the zone ${zone.apex} of ${zone.source}`);
    }
    if (seen.has(keyOf(key))) {
      throw new ProviderError(`two changes for ${keyOf(key)} in one batch`, { transient: false });
    }
    seen.add(keyOf(key));
    normal.push({ key, before: change.before, after: normalizeContent(key, change.after) });
  }
  for (const change of normal) {
    const live = rrsetOf(zone, change.key);
    if (!sameAsBefore(live, change.before)) {
      throw new ConflictError(
        `${keyOf(change.key)} changed since it was read: expected ${describeSet(change.before)}, ` +
          `${zone.source} has ${describeSet(live ?? null)}; nothing was written`,
        change.key,
      );
    }
  }
  return normal;
}

function normalizeContent(key: RRsetKey, after: RRsetContent | null): RRsetContent | null {
  if (after === null || after.values.length === 0) return null;
  if (!Number.isInteger(after.ttl) || after.ttl < 0 || after.ttl > MAX_TTL) {
    throw new ProviderError(`${keyOf(key)}: TTL ${after.ttl} is not a whole number of seconds`, { transient: false });
  }
  const values: string[] = [];
  for (const v of after.values) {
    let value = v;
    if (key.type !== "TXT") {
      const family = key.type === "A" ? 4 : 6;
      if (ipFamily(v) !== family) {
        throw new ProviderError(`${keyOf(key)}: ${JSON.stringify(v)} is not an IPv${family} address`, {
          transient: false,
        });
      }
      value = canonicalIp(v);
    }
    if (!values.includes(value)) values.push(value);
  }
  return { ttl: after.ttl, values };
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

const describeSet = (r: RRset | RRsetContent | null): string =>
  r === null ? "no such RRset" : `TTL ${r.ttl} [${r.values.map((v) => JSON.stringify(v)).join(", ")}]`;

function newRecord(key: RRsetKey, ttl: number, value: string): NewRecord {
  const rdata = key.type === "TXT" ? encodeTxt(value) : value;
  return { owner: key.name, ttl, text: `${key.name}.\t${ttl}\tIN\t${key.type}\t${rdata}` };
}

function render(
  zone: ParsedZone,
  deleted: ReadonlySet<number>,
  atEntry: ReadonlyMap<number, NewRecord[]>,
  afterEntry: ReadonlyMap<number, NewRecord[]>,
  tail: readonly NewRecord[],
  edits: ReadonlyMap<number, LineEdit[]>,
): string {
  const out: string[] = [];
  const emit = (recs: readonly NewRecord[] | undefined): void => {
    if (!recs || recs.length === 0) return;
    const last = out.at(-1);
    if (last !== undefined && !last.endsWith("\n")) out.push(zone.eol);
    for (const r of recs) out.push(r.text + zone.eol);
  };
  const lineText = (i: number): string => {
    const line = zone.lines[i] as { text: string; eol: string };
    let text = line.text;
    const mine = [...(edits.get(i) ?? [])].sort((a, b) => b.start - a.start);
    for (const e of mine) text = text.slice(0, e.start) + e.text + text.slice(e.end);
    return text + line.eol;
  };
  const byFirstLine = new Map(zone.entries.map((e) => [e.firstLine, e]));
  for (let li = 0; li < zone.lines.length; ) {
    const entry = byFirstLine.get(li);
    if (!entry) {
      out.push(lineText(li));
      li++;
      continue;
    }
    emit(atEntry.get(entry.index));
    if (!deleted.has(entry.index)) {
      for (let k = entry.firstLine; k <= entry.lastLine; k++) out.push(lineText(k));
    }
    emit(afterEntry.get(entry.index));
    li = entry.lastLine + 1;
  }
  emit(tail);
  return out.join("");
}

/** Parses the new text and checks that it says exactly what was meant; throws otherwise. */
function verify(zone: ParsedZone, text: string, changes: readonly NormalChange[], serial: number): void {
  const fail = (what: string, cause?: unknown): never => {
    throw new ProviderError(`internal error: the edit of ${zone.source} ${what}; nothing was written`, {
      transient: false,
      cause,
    });
  };
  let next: ParsedZone;
  try {
    next = parseZone(text, zone.options);
  } catch (e) {
    return fail(`does not parse (${(e as Error).message})`, e);
  }
  const managed = new Set(changes.map((c) => keyOf(c.key)));
  const others = (z: ParsedZone): string[] =>
    z.records
      .filter((r) => !(r.class === "IN" && managed.has(`${r.owner} ${r.type}`)))
      .map((r) => {
        const rdata = r.rdata.map((t, i) => (r === z.soa && i === 2 ? "<serial>" : t.text));
        return `${r.owner} ${r.ttl} ${r.class} ${r.type} ${rdata.join(" ")}`;
      });
  const was = others(zone);
  const now = others(next);
  const diff = was.findIndex((s, i) => s !== now[i]);
  if (diff >= 0 || was.length !== now.length) {
    fail(`would also change another record (${was[diff] ?? "(none)"} → ${now[diff] ?? "(gone)"})`);
  }
  for (const c of changes) {
    if (!holdsExactly(recordsOf(next, c.key), c.after)) fail(`would not leave ${keyOf(c.key)} as asked`);
  }
  if (next.soa?.serial !== serial) fail(`would not set the serial to ${serial}`);
}
