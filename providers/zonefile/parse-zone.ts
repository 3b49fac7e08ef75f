/**
 * The meaning of a BIND master file (RFC 1035 section 5, RFC 2308 section 4): directives, owner
 * names, TTLs and classes resolved record by record. Pure: text in, records out.
 */
import { canonicalIp, ipFamily } from "../../src/util/ip.js";
import { normalizeName } from "../../src/util/names.js";
import { ProviderConfigError } from "../types.js";
import { tokenizeZone } from "./tokenize-zone.js";
import type { Entry, PhysicalLine, Token } from "./tokenize-zone.js";
import { looksLikeTtl, parseTtl } from "./ttl.js";
import { decodeTxt } from "./txt-codec.js";
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
}

export interface ParsedZone {
  readonly source: string;
  readonly options: ParseOptions;
  readonly text: string;
  readonly lines: readonly PhysicalLine[];
  readonly entries: readonly Entry[];
  /** Directives and records, in file order (one per entry). */
  readonly items: readonly (ZoneRecord | ZoneDirective)[];
  readonly records: readonly ZoneRecord[];
  /** The zone apex: absolute, lower case, no trailing dot. */
  readonly apex: string;
  readonly soa: SoaRecord | undefined;
  /** The line ending new lines get: the file's first one. */
  readonly eol: string;
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

export function parseZone(text: string, options: ParseOptions = {}): ParsedZone {
  const source = options.source ?? "<zone>";
  const { lines, entries } = tokenizeZone(text, source);
  const fail = (entry: Entry | Token, reason: string): never => {
    const line = "firstLine" in entry ? entry.firstLine : entry.line;
    throw new ZoneSyntaxError(source, line + 1, reason);
  };
  const configured = options.origin === undefined ? undefined : normalizeName(options.origin);
  const state: ResolveState = {
    origin: configured ?? soaOwnerBeforeOrigin(entries),
    defaultTtl: undefined,
    lastTtl: undefined,
    lastOwner: undefined,
    lastClass: undefined,
  };
  const items: (ZoneRecord | ZoneDirective)[] = [];
  const records: ZoneRecord[] = [];
  let soa: SoaRecord | undefined;
  let firstOrigin: string | undefined;

  for (const entry of entries) {
    const first = entry.tokens[0] as Token;
    if (!entry.blankOwner && first.text.startsWith("$")) {
      const directive = parseDirective(entry, state, fail, source);
      if (directive.origin !== undefined) firstOrigin ??= directive.origin;
      items.push(directive);
      continue;
    }
    const record = parseRecord(entry, state, fail);
    items.push(record);
    records.push(record);
    if (record.type === "SOA" && record.class === "IN") {
      if (soa) fail(entry, `a second SOA record (the first is on line ${soa.lineNumber})`);
      soa = record as SoaRecord;
    }
  }

  const apex = configured ?? soa?.owner ?? firstOrigin;
  if (apex === undefined) {
    throw new ProviderConfigError(`${source}: cannot tell the zone's origin (no SOA record, no $ORIGIN); set \`origin\``);
  }
  if (soa && soa.owner !== apex) {
    throw new ProviderConfigError(
      `${source}:${soa.lineNumber}: the SOA record belongs to ${soa.owner}, but the configured origin is ${apex}`,
    );
  }
  const eol = lines[0]?.eol === "\r\n" ? "\r\n" : "\n";
  return { source, options, text, lines, entries, items, records, apex, soa, eol };
}

/**
 * Without a configured origin, BIND would take the zone's name from named.conf; we take it from
 * an SOA written with an absolute owner, when that comes before any $ORIGIN.
 */
function soaOwnerBeforeOrigin(entries: readonly Entry[]): string | undefined {
  for (const entry of entries) {
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
    value = canonicalIp((only as Token).text);
  } else if (cls === "IN" && type === "TXT") {
    if (rdata.length === 0) fail(entry, "TXT record without text");
    try {
      value = decodeTxt(rdata.map((t) => t.text));
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
