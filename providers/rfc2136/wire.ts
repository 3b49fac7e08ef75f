/**
 * The few pieces of the DNS wire format (RFC 1035, RFC 2136, RFC 8945) this provider needs:
 * header, names, questions, resource records, and the RDATA of A, AAAA, TXT, SOA, CNAME and
 * TSIG. Written here rather than taken from a library because UPDATE messages need class NONE
 * and ANY records with empty RDATA in the prerequisite and update sections, which general
 * libraries (dns-packet among them) encode wrongly.
 *
 * The encoder compresses owner names in UPDATE messages as BIND's nsupdate does (each name
 * against the longest suffix already written); TSIG names are always written whole. The decoder follows compression pointers only backwards, at most 64 times per
 * name, and never reads a name longer than 255 octets, so a hostile answer cannot loop it.
 */
import { isIP } from "node:net";
import { canonicalIp } from "../../src/util/ip.js";

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, OPT: 41, TSIG: 250, ANY: 255 } as const;
export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE = { QUERY: 0, UPDATE: 5 } as const;
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADSIG: 16,
  BADKEY: 17,
  BADTIME: 18,
  BADMODE: 19,
  BADNAME: 20,
  BADALG: 21,
  BADTRUNC: 22,
} as const;

const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([k, v]) => [v, k]));
/** "NXRRSET", or "RCODE 23" for one without a name. */
export const rcodeName = (code: number): string => RCODE_NAMES.get(code) ?? `RCODE ${code}`;

/** A malformed message from a peer (or a value that cannot be encoded). */
export class WireFormatError extends Error {
  override readonly name = "WireFormatError";
}

export interface Header {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  /** The 4-bit RCODE of the header (TSIG errors travel in the TSIG record). */
  readonly rcode: number;
}

export interface Question {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

/** One resource record. Names are lower case, absolute, without the trailing dot ("" = root). */
export interface WireRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: Uint8Array;
}

export interface DecodedRecord extends WireRecord {
  /** Offset of the record's first octet in the message. */
  readonly offset: number;
  /** Offset of its RDATA (names inside RDATA may point back into the message). */
  readonly rdataOffset: number;
}

export interface DecodedMessage {
  readonly header: Header;
  readonly questions: readonly Question[];
  readonly answers: readonly DecodedRecord[];
  readonly authority: readonly DecodedRecord[];
  readonly additional: readonly DecodedRecord[];
  readonly raw: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Encoding

export class Writer {
  #buf = new Uint8Array(512);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  u8(v: number): this {
    this.#room(1);
    this.#buf[this.#len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    return this.u8(v >>> 8).u8(v);
  }

  u32(v: number): this {
    return this.u16(Math.floor(v / 0x10000) & 0xffff).u16(v & 0xffff);
  }

  /** A 48-bit unsigned integer (TSIG Time Signed). */
  u48(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0 || v >= 2 ** 48) throw new WireFormatError(`${v} does not fit in 48 bits`);
    return this.u16(Math.floor(v / 2 ** 32)).u32(v % 2 ** 32);
  }

  bytes(b: Uint8Array): this {
    this.#room(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  name(name: string): this {
    return this.bytes(encodeName(name));
  }

  /** Offsets of the names written with compressedName, by lower-case suffix. */
  readonly #suffixes = new Map<string, number>();

  /**
   * A name compressed against the names written before it with this method (RFC 1035 §4.1.4):
   * the longest known suffix becomes a pointer. Only for owner names of ordinary records — never
   * inside TSIG, whose names are written whole.
   */
  compressedName(name: string): this {
    encodeName(name); // validates lengths
    const n = (name.endsWith(".") ? name.slice(0, -1) : name).toLowerCase();
    const labels = n === "" ? [] : n.split(".");
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join(".");
      const at = this.#suffixes.get(suffix);
      if (at !== undefined) return this.u16(0xc000 | at);
      if (this.#len < 0x4000) this.#suffixes.set(suffix, this.#len);
      const bytes = new TextEncoder().encode(labels[i]);
      this.u8(bytes.length).bytes(bytes);
    }
    return this.u8(0);
  }

  /** Writes a u16 at an earlier position (RDLENGTH once the RDATA is written). */
  patch16(at: number, v: number): this {
    this.#buf[at] = (v >>> 8) & 0xff;
    this.#buf[at + 1] = v & 0xff;
    return this;
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** The uncompressed wire form of a name: "smtp.example.com" → 04 smtp 07 example 03 com 00. */
export function encodeName(name: string): Uint8Array {
  const n = name.endsWith(".") ? name.slice(0, -1) : name;
  const labels = n === "" ? [] : n.split(".");
  const parts: number[] = [];
  for (const label of labels) {
    const bytes = new TextEncoder().encode(label);
    if (bytes.length === 0) throw new WireFormatError(`${JSON.stringify(name)} has an empty label`);
    if (bytes.length > 63) throw new WireFormatError(`${JSON.stringify(name)} has a label longer than 63 octets`);
    parts.push(bytes.length, ...bytes);
  }
  parts.push(0);
  if (parts.length > 255) throw new WireFormatError(`${JSON.stringify(name)} is longer than 255 octets`);
  return Uint8Array.from(parts);
}

export interface HeaderInit {
  readonly id: number;
  readonly opcode: number;
  readonly rd?: boolean;
  readonly counts: readonly [number, number, number, number];
}

export function writeHeader(w: Writer, h: HeaderInit): void {
  w.u16(h.id).u8(((h.opcode & 0xf) << 3) | (h.rd ? 1 : 0)).u8(0);
  for (const c of h.counts) w.u16(c);
}

/** One record; its owner name compressed against earlier ones when `compress` is set. */
export function writeRecord(w: Writer, r: WireRecord, compress = false): void {
  if (r.rdata.length > 0xffff) throw new WireFormatError(`RDATA of ${r.name} is longer than 65535 octets`);
  if (compress) w.compressedName(r.name);
  else w.name(r.name);
  w.u16(r.type).u16(r.class).u32(r.ttl).u16(r.rdata.length).bytes(r.rdata);
}

/** A standard query (RD clear: we ask the authority itself). */
export function encodeQuery(id: number, name: string, type: number): Uint8Array {
  const w = new Writer();
  writeHeader(w, { id, opcode: OPCODE.QUERY, counts: [1, 0, 0, 0] });
  w.name(name).u16(type).u16(CLASS.IN);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// RDATA of the types mailpool writes

export function ipv4ToBytes(text: string): Uint8Array {
  if (isIP(text) !== 4) throw new WireFormatError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return Uint8Array.from(text.split(".").map(Number));
}

export function ipv6ToBytes(text: string): Uint8Array {
  if (isIP(text) !== 6 || text.includes("%")) throw new WireFormatError(`not an IPv6 address: ${JSON.stringify(text)}`);
  // The WHATWG serialisation writes every group in hex (an embedded IPv4 tail too).
  const t = canonicalIp(text);
  const [head = "", rest] = t.split("::") as [string, string | undefined];
  const hs = head === "" ? [] : head.split(":");
  const rs = rest === undefined || rest === "" ? [] : rest.split(":");
  const fill = rest === undefined ? [] : Array<string>(8 - hs.length - rs.length).fill("0");
  const groups = [...hs, ...fill, ...rs].map((g) => parseInt(g, 16));
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) {
    throw new WireFormatError(`not an IPv6 address: ${JSON.stringify(text)}`);
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >>> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** A TXT value as character-strings of at most 255 octets each (UTF-8). */
export function txtToBytes(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const w = new Writer();
  if (bytes.length === 0) w.u8(0);
  for (let i = 0; i < bytes.length; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    w.u8(chunk.length).bytes(chunk);
  }
  return w.finish();
}

/** The RDATA of one core value of an A, AAAA or TXT RRset. */
export function valueToRdata(type: "A" | "AAAA" | "TXT", value: string): Uint8Array {
  if (type === "A") return ipv4ToBytes(value);
  if (type === "AAAA") return ipv6ToBytes(value);
  return txtToBytes(value);
}

/** The core's text of one RDATA: canonical IP text, or the TXT character-strings joined. */
export function rdataToValue(type: "A" | "AAAA" | "TXT", rdata: Uint8Array): string {
  if (type === "A") {
    if (rdata.length !== 4) throw new WireFormatError(`an A record with ${rdata.length} octets of RDATA`);
    return [...rdata].join(".");
  }
  if (type === "AAAA") {
    if (rdata.length !== 16) throw new WireFormatError(`an AAAA record with ${rdata.length} octets of RDATA`);
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((rdata[i]! << 8) | rdata[i + 1]!).toString(16));
    return canonicalIp(groups.join(":"));
  }
  const parts: Uint8Array[] = [];
  for (let i = 0; i < rdata.length; ) {
    const len = rdata[i]!;
    if (i + 1 + len > rdata.length) throw new WireFormatError("a TXT character-string runs past its RDATA");
    parts.push(rdata.subarray(i + 1, i + 1 + len));
    i += 1 + len;
  }
  return Buffer.concat(parts).toString("utf8");
}

// ---------------------------------------------------------------------------------------------
// Decoding

const MAX_POINTERS = 64;

/** Reads a possibly compressed name at `offset`; `end` is where the name's own octets stop. */
export function readName(buf: Uint8Array, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  let wireLength = 1;
  let jumps = 0;
  /** A pointer must go strictly before the label sequence it is found in. */
  let lowest = offset;
  for (;;) {
    if (pos >= buf.length) throw new WireFormatError(`a name at offset ${offset} runs past the end of the message`);
    const len = buf[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new WireFormatError(`a compression pointer at offset ${pos} runs past the end`);
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (end < 0) end = pos + 2;
      if (target >= lowest) throw new WireFormatError(`a compression pointer at offset ${pos} does not point backwards`);
      if (++jumps > MAX_POINTERS) throw new WireFormatError(`a name at offset ${offset} has more than ${MAX_POINTERS} pointers`);
      lowest = target;
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new WireFormatError(`unknown label type 0x${len.toString(16)} at offset ${pos}`);
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    wireLength += len + 1;
    if (wireLength > 255) throw new WireFormatError(`a name at offset ${offset} is longer than 255 octets`);
    if (pos + 1 + len > buf.length) throw new WireFormatError(`a label at offset ${pos} runs past the end`);
    labels.push(labelText(buf.subarray(pos + 1, pos + 1 + len)));
    pos += 1 + len;
  }
  return { name: labels.join(".").toLowerCase(), end };
}

function labelText(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) {
    if (b === 0x2e || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
    else if (b > 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\${String(b).padStart(3, "0")}`;
  }
  return s;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new WireFormatError(`the message ends inside ${what} (offset ${this.pos})`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    return this.u16(what) * 0x10000 + this.u16(what);
  }
  u48(what: string): number {
    return this.u16(what) * 2 ** 32 + this.u32(what);
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  name(): string {
    const { name, end } = readName(this.buf, this.pos);
    this.pos = end;
    return name;
  }
}

/** Most records accepted in one message (an answer of ours holds a handful). */
const MAX_RECORDS = 4096;

export function decodeMessage(raw: Uint8Array): DecodedMessage {
  const r = new Reader(raw);
  const id = r.u16("the header");
  const flags1 = r.u8("the header");
  const flags2 = r.u8("the header");
  const counts = [r.u16("the header"), r.u16("the header"), r.u16("the header"), r.u16("the header")] as const;
  if (counts[1] + counts[2] + counts[3] > MAX_RECORDS) throw new WireFormatError(`the message claims more than ${MAX_RECORDS} records`);
  const header: Header = {
    id,
    qr: (flags1 & 0x80) !== 0,
    opcode: (flags1 >> 3) & 0xf,
    aa: (flags1 & 0x04) !== 0,
    tc: (flags1 & 0x02) !== 0,
    rd: (flags1 & 0x01) !== 0,
    ra: (flags2 & 0x80) !== 0,
    rcode: flags2 & 0xf,
  };
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) {
    questions.push({ name: r.name(), type: r.u16("a question"), class: r.u16("a question") });
  }
  const section = (n: number): DecodedRecord[] => {
    const out: DecodedRecord[] = [];
    for (let i = 0; i < n; i++) {
      const offset = r.pos;
      const name = r.name();
      const type = r.u16("a record");
      const cls = r.u16("a record");
      const ttl = r.u32("a record");
      const len = r.u16("a record");
      const rdataOffset = r.pos;
      const rdata = r.bytes(len, "a record's RDATA");
      out.push({ name, type, class: cls, ttl, rdata, offset, rdataOffset });
    }
    return out;
  };
  const answers = section(counts[1]);
  const authority = section(counts[2]);
  const additional = section(counts[3]);
  return { header, questions, answers, authority, additional, raw };
}

/** The target of a CNAME record. */
export function decodeCname(msg: DecodedMessage, rec: DecodedRecord): string {
  return readName(msg.raw, rec.rdataOffset).name;
}

export interface TsigRdata {
  readonly algorithm: string;
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Uint8Array;
  readonly originalId: number;
  readonly error: number;
  readonly other: Uint8Array;
}

export function decodeTsigRdata(msg: DecodedMessage, rec: DecodedRecord): TsigRdata {
  const r = new Reader(msg.raw.subarray(0, rec.rdataOffset + rec.rdata.length));
  r.pos = rec.rdataOffset;
  const algorithm = r.name();
  const timeSigned = r.u48("a TSIG record");
  const fudge = r.u16("a TSIG record");
  const macSize = r.u16("a TSIG record");
  const mac = r.bytes(macSize, "a TSIG MAC");
  const originalId = r.u16("a TSIG record");
  const error = r.u16("a TSIG record");
  const otherLen = r.u16("a TSIG record");
  const other = r.bytes(otherLen, "TSIG other data");
  if (r.pos !== rec.rdataOffset + rec.rdata.length) throw new WireFormatError("a TSIG record has octets after its other data");
  return { algorithm, timeSigned, fudge, mac, originalId, error, other };
}

export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
