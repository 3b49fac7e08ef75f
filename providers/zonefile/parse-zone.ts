/**
 * The meaning of a BIND master file (RFC 1035 section 5, RFC 2308 section 4): directives, owner
 * names, TTLs and classes resolved record by record. Pure: text in, records out.
 */
import { canonicalIp, ipFamily } from "../../src/util/ip.js";
import { normalizeName } from "../../src/util/names.js";
import { ProviderConfigError } from "../types.js";
import { EntryReader } from "./tokenize-zone.js";
import type { Entry, Token } from "./tokenize-zone.js";
import { looksLikeTtl, parseTtl } from "./ttl.js";
import { checkTxt, decodeTxt } from "./txt-codec.js";
import { ZoneSyntaxError } from "./zone-syntax-error.js";

export interface ZoneRecord {
  readonly kind: "record";
  readonly entry: Entry;
  /** Absolute, lower case, without the trailing dot. */
  readonly owner: string;
  /** Absent when the owner is blank (inherited from the previous record). */
  readonly ownerToken: Token | undefined;
  /** The effective TTL (explicit, $TTL, the previous record's, or the SOA minimum). */
  readonly ttl: number;
  readonly ttlToken: Token | undefined;
  /** Upper case, e.g. "IN". */
  readonly class: string;
  readonly classToken: Token | undefined;
  /** Upper case, e.g. "MX". */
  readonly type: string;
  readonly typeToken: Token;
  readonly rdata: readonly Token[];
  /** A/AAAA: canonical IP; TXT: the unquoted, joined text. Undefined for other types. */
  readonly value: string | undefined;
  /** 1-based line number, for messages. */
  readonly lineNumber: number;
}

export interface ZoneDirective {
  readonly kind: "directive";
  readonly entry: Entry;
  readonly name: "$ORIGIN" | "$TTL";
  /** $ORIGIN: the new origin (absolute). */
  readonly origin?: string;
  /** $TTL: the new default TTL. */
  readonly ttl?: number;
}

export interface SoaRecord extends ZoneRecord {
  readonly serial: number;
  readonly serialToken: Token;
  readonly minimum: number;
}

export interface ParseOptions {
  /** The zone apex; default: the SOA owner (or the first $ORIGIN). */
  readonly origin?: string;
  /** The file name for messages. */
  readonly source?: string;
  /**
   * False: ZoneReader checks every record as always but computes no `value` (A/AAAA canonical
   * form, TXT text), which a pass over every record does not need. Default true.
   */
  readonly values?: boolean;
}

/** `record` with its `value` (computed when a reader without values left it out). */
export function withValue(record: ZoneRecord): ZoneRecord {
  if (record.value !== undefined || record.class !== "IN") return record;
  const text = record.rdata.map((t) => t.text);
  if (record.type === "A" || record.type === "AAAA") return { ...record, value: canonicalIp(text[0] as string) };
  if (record.type === "TXT") return { ...record, value: decodeTxt(text) };
  return record;
}

/**
 * A parsed zone, kept small: the text, and per entry its position, line, kind, TTL and the hash of
 * its owner name in typed arrays (ZoneIndex), about 17 bytes an entry. Records are materialized
 * (tokens, values) only when asked for: by name (read-rrsets.ts) or one by one (recordAt).
 */
export interface ParsedZone {
  readonly source: string;
  readonly options: ParseOptions;
  readonly text: string;
  readonly index: ZoneIndex;
  /** The zone apex: absolute, lower case, no trailing dot. */
  readonly apex: string;
  readonly soa: SoaRecord | undefined;
  /** The line ending new lines get: the file's first one. */
  readonly eol: string;
  /** Every directive and record, in file order (one per entry): materialized on first use (tests, tools). */
  readonly items: readonly (ZoneRecord | ZoneDirective)[];
  /** Every record, in file order: materialized on first use (tests, tools). */
  readonly records: readonly ZoneRecord[];
}

/** Entry flags in ZoneIndex.flags. */
export const F_RECORD = 1;
/** The record has an owner token (not a blank owner). */
export const F_OWNER = 2;
/** A $TTL directive (its TTL in ZoneIndex.ttl). */
export const F_TTL_DIRECTIVE = 4;
/** The record's class is IN. */
export const F_IN = 8;
/** The record names its class (not inherited). */
export const F_CLASS = 16;

/** Per entry, in typed arrays: what editing and looking records up need without the tokens. */
export interface ZoneIndex {
  readonly count: number;
  /** Offset of the entry's first line. */
  readonly start: Uint32Array;
  /** 0-based line of the entry's first line. */
  readonly line: Uint32Array;
  readonly flags: Uint8Array;
  /** Records: the effective TTL; $TTL directives: the new default. */
  readonly ttl: Uint32Array;
  /** Records: nameHash of the absolute owner name. */
  readonly hash: Int32Array;
  /** The origins in effect, each from entry originFrom[k] on (the first from entry 0). */
  readonly origins: readonly (string | undefined)[];
  readonly originFrom: readonly number[];
}

/** FNV-1a of a name: finds the entries of one owner among all without keeping their names. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** What the next record without an explicit owner/TTL/class inherits. */
export interface ResolveState {
  origin: string | undefined;
  defaultTtl: number | undefined;
  lastTtl: number | undefined;
  lastOwner: string | undefined;
  lastClass: string | undefined;
}

const CLASSES = new Set(["IN", "CH", "CHAOS", "HS", "HESIOD", "CS", "NONE", "ANY"]);
const isClass = (text: string): boolean => CLASSES.has(text.toUpperCase()) || /^CLASS[0-9]+$/i.test(text);

/** Absolute form of a (possibly relative) domain name. */
export function resolveName(text: string, origin: string | undefined): string | undefined {
  if (text === "@") return origin;
  if (text.endsWith(".") && !text.endsWith("\\.")) return normalizeName(text);
  if (origin === undefined) return undefined;
  return normalizeName(origin === "" ? text : `${text}.${origin}`);
}

/** Longest text a name can take: 255 octets, each at most 4 characters as \DDD. */
const MAX_NAME_TEXT = 255 * 4;
const tooLongName = (t: Token) =>
  `a name of ${t.text.length} characters (${t.text.slice(0, 40)}…): a domain name has at most 255 octets (RFC 1035 section 2.3.4)`;

const failAt = (source: string) => (at: Entry | Token, reason: string): never => {
  const line = "firstLine" in at ? at.firstLine : at.line;
  throw new ZoneSyntaxError(source, line + 1, reason);
};

/**
 * Reads a zone text item by item (a directive or a record per entry), resolving owners, TTLs and
 * classes as it goes, and keeps none of them: the parse, the verification of an edit and the
 * materialized lists are all built on it.
 */
export class ZoneReader {
  readonly source: string;
  readonly state: ResolveState;
  readonly #configured: string | undefined;
  readonly #entries: EntryReader;
  readonly #fail: (at: Entry | Token, reason: string) => never;
  #soa: SoaRecord | undefined;
  #firstOrigin: string | undefined;

  constructor(
    readonly text: string,
    readonly options: ParseOptions = {},
  ) {
    this.source = options.source ?? "<zone>";
    this.#configured = options.origin === undefined ? undefined : normalizeName(options.origin);
    this.#entries = new EntryReader(text, this.source);
    this.#fail = failAt(this.source);
    this.state = {
      origin: this.#configured ?? soaOwnerBeforeOrigin(text, this.source),
      defaultTtl: undefined,
      lastTtl: undefined,
      lastOwner: undefined,
      lastClass: undefined,
    };
  }

  /** The next directive or record, or undefined at the end. Throws ZoneSyntaxError. */
  next(): ZoneRecord | ZoneDirective | undefined {
    const entry = this.#entries.next();
    if (!entry) return undefined;
    const first = entry.tokens[0] as Token;
    if (!entry.blankOwner && first.text.startsWith("$")) {
      const directive = parseDirective(entry, this.state, this.#fail, this.source);
      if (directive.origin !== undefined) this.#firstOrigin ??= directive.origin;
      return directive;
    }
    const record = parseRecord(entry, this.state, this.#fail, this.options.values !== false);
    if (record.type === "SOA" && record.class === "IN") {
      if (this.#soa) this.#fail(entry, `a second SOA record (the first is on line ${this.#soa.lineNumber})`);
      this.#soa = record as SoaRecord;
    }
    return record;
  }

  /** After the last item: the apex and the SOA, checked against each other and the config. */
  finish(): { apex: string; soa: SoaRecord | undefined; eol: string } {
    const soa = this.#soa;
    const apex = this.#configured ?? soa?.owner ?? this.#firstOrigin;
    if (apex === undefined) {
      throw new ProviderConfigError(`${this.source}: cannot tell the zone's origin (no SOA record, no $ORIGIN); set \`origin\``);
    }
    if (soa && soa.owner !== apex) {
      throw new ProviderConfigError(
        `${this.source}:${soa.lineNumber}: the SOA record belongs to ${soa.owner}, but the configured origin is ${apex}`,
      );
    }
    const nl = this.text.indexOf("\n");
    const eol = nl > 0 && this.text.charCodeAt(nl - 1) === 0x0d ? "\r\n" : "\n";
    return { apex, soa, eol };
  }
}

/** Typed columns that grow by doubling. */
class Columns {
  count = 0;
  start = new Uint32Array(1024);
  line = new Uint32Array(1024);
  flags = new Uint8Array(1024);
  ttl = new Uint32Array(1024);
  hash = new Int32Array(1024);

  push(start: number, line: number, flags: number, ttl: number, hash: number): void {
    if (this.count === this.start.length) {
      const grow = <T extends Uint32Array | Uint8Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.start = grow(this.start);
      this.line = grow(this.line);
      this.flags = grow(this.flags);
      this.ttl = grow(this.ttl);
      this.hash = grow(this.hash);
    }
    const i = this.count++;
    this.start[i] = start;
    this.line[i] = line;
    this.flags[i] = flags;
    this.ttl[i] = ttl;
    this.hash[i] = hash;
  }
}

export function parseZone(text: string, options: ParseOptions = {}): ParsedZone {
  const reader = new ZoneReader(text, { ...options, values: false });
  const cols = new Columns();
  const origins: (string | undefined)[] = [reader.state.origin];
  const originFrom: number[] = [0];
  for (let item = reader.next(); item; item = reader.next()) {
    const e = item.entry;
    if (item.kind === "directive") {
      if (item.origin !== undefined) {
        origins.push(item.origin);
        originFrom.push(e.index + 1);
      }
      cols.push(e.startPos, e.firstLine, item.ttl !== undefined ? F_TTL_DIRECTIVE : 0, item.ttl ?? 0, 0);
    } else {
      const flags = F_RECORD | (item.ownerToken ? F_OWNER : 0) | (item.class === "IN" ? F_IN : 0) | (item.classToken ? F_CLASS : 0);
      cols.push(e.startPos, e.firstLine, flags, item.ttl, nameHash(item.owner));
    }
  }
  const { apex, soa, eol } = reader.finish();
  const index: ZoneIndex = {
    count: cols.count,
    start: cols.start.subarray(0, cols.count),
    line: cols.line.subarray(0, cols.count),
    flags: cols.flags.subarray(0, cols.count),
    ttl: cols.ttl.subarray(0, cols.count),
    hash: cols.hash.subarray(0, cols.count),
    origins,
    originFrom,
  };
  return new IndexedZone(reader.source, options, text, index, apex, soa, eol);
}

class IndexedZone implements ParsedZone {
  #items: (ZoneRecord | ZoneDirective)[] | undefined;
  constructor(
    readonly source: string,
    readonly options: ParseOptions,
    readonly text: string,
    readonly index: ZoneIndex,
    readonly apex: string,
    readonly soa: SoaRecord | undefined,
    readonly eol: string,
  ) {}

  get items(): readonly (ZoneRecord | ZoneDirective)[] {
    if (!this.#items) {
      const reader = new ZoneReader(this.text, { ...this.options, values: true });
      const items: (ZoneRecord | ZoneDirective)[] = [];
      for (let item = reader.next(); item; item = reader.next()) items.push(item);
      this.#items = items;
    }
    return this.#items;
  }

  get records(): readonly ZoneRecord[] {
    return this.items.filter((i): i is ZoneRecord => i.kind === "record");
  }
}

/** The origin in effect at entry `i`. */
export function originAt(zone: ParsedZone, i: number): string | undefined {
  const from = zone.index.originFrom;
  let lo = 0;
  let hi = from.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((from[mid] as number) <= i) lo = mid;
    else hi = mid - 1;
  }
  return zone.index.origins[lo];
}

/** The entry at index `i`, read again from the text. */
export function entryAt(zone: ParsedZone, i: number): Entry {
  return EntryReader.at(zone.text, zone.source, zone.index.start[i] as number, zone.index.line[i] as number, i);
}

/** The absolute owner name of record `i` (a blank owner is the owner of the record before). */
export function ownerOf(zone: ParsedZone, i: number): string {
  const { flags } = zone.index;
  let j = i;
  while (j > 0 && ((flags[j] as number) & (F_RECORD | F_OWNER)) !== (F_RECORD | F_OWNER)) j--;
  const token = entryAt(zone, j).tokens[0] as Token;
  return resolveName(token.text, originAt(zone, j)) as string;
}

/** Record `i`, materialized with its tokens and value. */
export function recordAt(zone: ParsedZone, i: number): ZoneRecord {
  const { flags, ttl } = zone.index;
  const f = flags[i] as number;
  if (!(f & F_RECORD)) throw new RangeError(`zone entry ${i} is not a record`);
  if (zone.soa?.entry.index === i) return zone.soa;
  // The state the record saw, made so that its TTL, owner and class come out the same whether
  // written or inherited.
  const t = ttl[i] as number;
  const state: ResolveState = {
    origin: originAt(zone, i),
    defaultTtl: t,
    lastTtl: t,
    lastOwner: f & F_OWNER ? undefined : ownerOf(zone, i),
    lastClass: f & F_CLASS ? undefined : f & F_IN ? "IN" : inheritedClass(zone, i),
  };
  return parseRecord(entryAt(zone, i), state, failAt(zone.source));
}

/** The class of the nearest record before `i` that names one (IN when none does). */
function inheritedClass(zone: ParsedZone, i: number): string {
  const { flags } = zone.index;
  for (let j = i - 1; j >= 0; j--) {
    if (((flags[j] as number) & (F_RECORD | F_CLASS)) === (F_RECORD | F_CLASS)) return recordAt(zone, j).class;
  }
  return "IN";
}

/**
 * Without a configured origin, BIND would take the zone's name from named.conf; we take it from
 * an SOA written with an absolute owner, when that comes before any $ORIGIN.
 */
function soaOwnerBeforeOrigin(text: string, source: string): string | undefined {
  const reader = new EntryReader(text, source);
  for (let entry = reader.next(); entry; entry = reader.next()) {
    const [first, ...rest] = entry.tokens as [Token, ...Token[]];
    if (!entry.blankOwner && first.text.toUpperCase() === "$ORIGIN") return undefined;
    if (!entry.blankOwner && rest.slice(0, 3).some((t) => t.text.toUpperCase() === "SOA")) {
      return first.text.endsWith(".") ? normalizeName(first.text) : undefined;
    }
  }
  return undefined;
}

function parseDirective(
  entry: Entry,
  state: ResolveState,
  fail: (at: Entry | Token, reason: string) => never,
  source: string,
): ZoneDirective {
  const [first, arg] = entry.tokens as [Token, Token | undefined];
  const name = first.text.toUpperCase();
  if (name === "$INCLUDE") {
    fail(
      entry,
      `$INCLUDE ${arg?.text ?? ""} is not supported: mailpool cannot safely edit included files; ` +
        `point \`path\` at a file without $INCLUDE (or move the managed records into ${source})`,
    );
  }
  if (name === "$GENERATE") {
    fail(entry, "$GENERATE is not supported: mailpool cannot tell which records it makes");
  }
  if (name === "$ORIGIN") {
    if (!arg) return fail(entry, "$ORIGIN without a name");
    if (arg.text.length > MAX_NAME_TEXT) return fail(arg, tooLongName(arg));
    const origin = resolveName(arg.text, state.origin);
    if (origin === undefined) return fail(arg, `relative $ORIGIN ${arg.text} with no origin to append it to`);
    state.origin = origin;
    return { kind: "directive", entry, name: "$ORIGIN", origin };
  }
  if (name === "$TTL") {
    const ttl = arg ? parseTtl(arg.text) : undefined;
    if (ttl === undefined) return fail(entry, `$TTL needs a TTL (seconds, or units like 1h30m), got ${arg?.text ?? "nothing"}`);
    state.defaultTtl = ttl;
    return { kind: "directive", entry, name: "$TTL", ttl };
  }
  return fail(entry, `unknown directive ${first.text}`);
}

function parseRecord(
  entry: Entry,
  state: ResolveState,
  fail: (at: Entry | Token, reason: string) => never,
  /** False: checked as always, but `value` is left undefined (bulk reads that need no values). */
  values = true,
): ZoneRecord {
  const tokens = entry.tokens;
  let i = 0;
  let owner: string | undefined;
  let ownerToken: Token | undefined;
  if (entry.blankOwner) {
    owner = state.lastOwner;
    if (owner === undefined) fail(entry, "a record with a blank owner name, but no record before it");
  } else {
    ownerToken = tokens[i++] as Token;
    if (ownerToken.text.length > MAX_NAME_TEXT) fail(ownerToken, tooLongName(ownerToken));
    owner = resolveName(ownerToken.text, state.origin);
    if (owner === undefined) {
      fail(ownerToken, `relative name ${ownerToken.text} with no $ORIGIN; set \`origin\` or add $ORIGIN`);
    }
  }
  let ttlToken: Token | undefined;
  let classToken: Token | undefined;
  let explicitTtl: number | undefined;
  for (let k = 0; k < 2; k++) {
    const t = tokens[i];
    if (!t || t.quoted) break;
    if (!ttlToken && looksLikeTtl(t.text)) {
      explicitTtl = parseTtl(t.text);
      if (explicitTtl === undefined) fail(t, `bad TTL ${t.text}`);
      ttlToken = t;
      i++;
    } else if (!classToken && isClass(t.text)) {
      classToken = t;
      i++;
    } else break;
  }
  const typeToken = tokens[i++];
  if (!typeToken || typeToken.quoted || !/^[A-Za-z][A-Za-z0-9-]*$/.test(typeToken.text)) {
    return fail(entry, `expected a record type, found ${typeToken ? typeToken.text : "the end of the record"}`);
  }
  const type = typeToken.text.toUpperCase();
  const rdata = tokens.slice(i);
  const cls = classToken ? classToken.text.toUpperCase() : (state.lastClass ?? "IN");

  let minimum: number | undefined;
  let serial: number | undefined;
  if (type === "SOA" && cls === "IN") {
    if (rdata.length !== 7) fail(entry, `SOA needs 7 fields (mname rname serial refresh retry expire minimum), found ${rdata.length}`);
    const serialToken = rdata[2] as Token;
    serial = /^[0-9]+$/.test(serialToken.text) ? Number(serialToken.text) : undefined;
    if (serial === undefined || serial > 0xffff_ffff) fail(serialToken, `bad SOA serial ${serialToken.text}`);
    minimum = parseTtl((rdata[6] as Token).text);
    if (minimum === undefined) fail(rdata[6] as Token, `bad SOA minimum ${(rdata[6] as Token).text}`);
  }
  const ttl = explicitTtl ?? state.defaultTtl ?? state.lastTtl ?? minimum;
  if (ttl === undefined) fail(entry, "a record without a TTL, and no $TTL or earlier TTL to inherit; add $TTL");

  let value: string | undefined;
  if (cls === "IN" && (type === "A" || type === "AAAA")) {
    const family = type === "A" ? 4 : 6;
    const only = rdata[0];
    if (rdata.length !== 1 || !only || only.quoted || ipFamily(only.text) !== family) {
      const found = rdata.map((t) => t.text).join(" ");
      fail(entry, `${type} record needs one IPv${family} address, found ${found === "" ? "nothing" : found.length > 80 ? `${found.slice(0, 80)}… (${found.length} characters)` : found}`);
    }
    if (values) value = canonicalIp((only as Token).text);
  } else if (cls === "IN" && type === "TXT") {
    if (rdata.length === 0) fail(entry, "TXT record without text");
    try {
      if (values) value = decodeTxt(rdata.map((t) => t.text));
      else checkTxt(rdata.map((t) => t.text));
    } catch (e) {
      fail(entry, (e as Error).message);
    }
  }

  state.lastOwner = owner;
  state.lastTtl = ttl;
  state.lastClass = cls;
  const record: ZoneRecord = {
    kind: "record",
    entry,
    owner: owner as string,
    ownerToken,
    ttl: ttl as number,
    ttlToken,
    class: cls,
    classToken,
    type,
    typeToken,
    rdata,
    value,
    lineNumber: entry.firstLine + 1,
  };
  if (serial !== undefined) {
    return { ...record, serial, serialToken: rdata[2] as Token, minimum: minimum as number } as SoaRecord;
  }
  return record;
}
