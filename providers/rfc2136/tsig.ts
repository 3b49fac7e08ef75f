/**
 * TSIG (RFC 8945): signing requests and verifying responses with a shared HMAC key.
 *
 * The MAC covers, in this order (§4.3.1–§4.3.3):
 *   - for a response only: the request's MAC, prefixed by its 2-octet length;
 *   - the DNS message without its TSIG record: ARCOUNT one less, and the ID the original one;
 *   - the TSIG variables: key name (canonical: lower case, uncompressed), class ANY, TTL 0,
 *     algorithm name (canonical), Time Signed (48 bits), Fudge, Error, Other Len, Other Data.
 * A response is accepted only when it carries a TSIG record of our key and algorithm as its last
 * record, its MAC verifies (compared in constant time; a truncated MAC must keep at least half
 * the hash and 10 octets, §5.2.2.1), and its Time Signed is within Fudge of our clock (§5.2.3).
 *
 * Multi-message (AXFR) chaining (§5.3.1) is not implemented: this provider reads by query.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { CLASS, RCODE, TYPE, WireFormatError, Writer, decodeTsigRdata, encodeName, type DecodedMessage, type TsigRdata } from "./wire.js";

export const TSIG_ALGORITHMS = ["hmac-sha256", "hmac-sha512", "hmac-sha1"] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

const HASH: Record<TsigAlgorithm, { node: string; bytes: number }> = {
  "hmac-sha256": { node: "sha256", bytes: 32 },
  "hmac-sha512": { node: "sha512", bytes: 64 },
  "hmac-sha1": { node: "sha1", bytes: 20 },
};

/** RFC 8945 §10 recommends 300 s. */
export const DEFAULT_FUDGE = 300;

export interface TsigKey {
  /** The key's name, e.g. "mailpool-update" (compared case-insensitively, sent in lower case). */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Uint8Array;
}

export interface TsigVariables {
  readonly timeSigned: number;
  readonly fudge: number;
  readonly error: number;
  readonly other: Uint8Array;
}

const canonical = (name: string): string => name.toLowerCase().replace(/\.$/, "");

/** The octets the MAC is computed over (see the header comment). */
export function macInput(key: Pick<TsigKey, "name" | "algorithm">, message: Uint8Array, vars: TsigVariables, requestMac?: Uint8Array): Uint8Array {
  const w = new Writer();
  if (requestMac !== undefined) w.u16(requestMac.length).bytes(requestMac);
  w.bytes(message);
  w.name(canonical(key.name)).u16(CLASS.ANY).u32(0);
  w.name(canonical(key.algorithm)).u48(vars.timeSigned).u16(vars.fudge).u16(vars.error).u16(vars.other.length).bytes(vars.other);
  return w.finish();
}

export function computeMac(key: TsigKey, input: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(HASH[key.algorithm].node, key.secret).update(input).digest());
}

export interface SignOptions {
  /** Seconds since the epoch, from the injected clock. */
  readonly timeSigned: number;
  readonly fudge?: number;
  /** Set when signing a response: the MAC of the request it answers. */
  readonly requestMac?: Uint8Array;
  readonly error?: number;
  readonly other?: Uint8Array;
  /** Default: the message's own ID. */
  readonly originalId?: number;
}

export interface Signed {
  /** The message with the TSIG record appended and ARCOUNT raised by one. */
  readonly wire: Uint8Array;
  readonly mac: Uint8Array;
}

/** Signs a complete message (that has no TSIG record yet). */
export function signMessage(message: Uint8Array, key: TsigKey, options: SignOptions): Signed {
  if (message.length < 12) throw new WireFormatError("a DNS message has at least a 12-octet header");
  const vars: TsigVariables = {
    timeSigned: options.timeSigned,
    fudge: options.fudge ?? DEFAULT_FUDGE,
    error: options.error ?? 0,
    other: options.other ?? new Uint8Array(0),
  };
  const originalId = options.originalId ?? ((message[0]! << 8) | message[1]!);
  // §4.3.2: the digest covers the message with the original ID in place of its own.
  const digested = new Uint8Array(message);
  digested[0] = originalId >>> 8;
  digested[1] = originalId & 0xff;
  const mac = computeMac(key, macInput(key, digested, vars, options.requestMac));
  const rdata = new Writer()
    .name(canonical(key.algorithm))
    .u48(vars.timeSigned)
    .u16(vars.fudge)
    .u16(mac.length)
    .bytes(mac)
    .u16(originalId)
    .u16(vars.error)
    .u16(vars.other.length)
    .bytes(vars.other)
    .finish();
  const w = new Writer().bytes(message);
  const arcount = ((message[10]! << 8) | message[11]!) + 1;
  w.patch16(10, arcount);
  w.name(canonical(key.name)).u16(TYPE.TSIG).u16(CLASS.ANY).u32(0).u16(rdata.length).bytes(rdata);
  return { wire: w.finish(), mac };
}

export type TsigCheck =
  /** Signed by our key, MAC good, time within fudge. */
  | { readonly status: "verified"; readonly tsig: TsigRdata; readonly skewSeconds: number }
  /** No TSIG record at all. */
  | { readonly status: "unsigned" }
  /**
   * The server reports a TSIG error (BADKEY, BADSIG, BADTIME, …). `verified` tells whether its
   * MAC checked out (BADKEY and BADSIG answers carry none). `skewSeconds`: server clock − ours,
   * from the BADTIME answer's Other Data (its current time) when present.
   */
  | { readonly status: "tsig-error"; readonly tsig: TsigRdata; readonly verified: boolean; readonly skewSeconds?: number }
  /** Signed, but not acceptably: another key, a MAC that does not verify, a time outside fudge. */
  | { readonly status: "rejected"; readonly reason: string; readonly skewSeconds?: number };

export interface VerifyOptions {
  /** Seconds since the epoch, from the injected clock. */
  readonly now: number;
  /** The MAC of the request this message answers (absent when verifying a request). */
  readonly requestMac?: Uint8Array;
}

/** The message without its last (TSIG) record, ARCOUNT one less, ID set to the original ID. */
function unsignedPart(msg: DecodedMessage, tsigOffset: number, originalId: number): Uint8Array {
  const out = new Uint8Array(msg.raw.subarray(0, tsigOffset));
  out[0] = originalId >>> 8;
  out[1] = originalId & 0xff;
  const arcount = ((out[10]! << 8) | out[11]!) - 1;
  out[10] = arcount >>> 8;
  out[11] = arcount & 0xff;
  return out;
}

/** Server time minus ours, from 6 octets of Other Data (a BADTIME answer), else undefined. */
const otherTime = (other: Uint8Array): number | undefined =>
  other.length === 6 ? [...other].reduce((acc, b) => acc * 256 + b, 0) : undefined;

export function verifyMessage(msg: DecodedMessage, key: TsigKey, options: VerifyOptions): TsigCheck {
  const last = msg.additional.at(-1);
  const tsigs = msg.additional.filter((r) => r.type === TYPE.TSIG);
  if (tsigs.length === 0 || last === undefined) return { status: "unsigned" };
  if (last.type !== TYPE.TSIG || tsigs.length > 1) return { status: "rejected", reason: "the TSIG record is not the last record of the answer" };
  if (last.class !== CLASS.ANY || last.ttl !== 0) return { status: "rejected", reason: "the TSIG record's class is not ANY or its TTL not 0" };
  let tsig: TsigRdata;
  try {
    tsig = decodeTsigRdata(msg, last);
  } catch (e) {
    return { status: "rejected", reason: `the TSIG record is malformed (${(e as Error).message})` };
  }
  if (canonical(last.name) !== canonical(key.name)) {
    return { status: "rejected", reason: `the answer is signed with key ${last.name}, not ${canonical(key.name)}` };
  }
  if (canonical(tsig.algorithm) !== key.algorithm) {
    if (tsig.error !== 0 && tsig.mac.length === 0) return { status: "tsig-error", tsig, verified: false };
    return { status: "rejected", reason: `the answer is signed with algorithm ${tsig.algorithm}, not ${key.algorithm}` };
  }
  if (tsig.mac.length === 0) {
    if (tsig.error !== 0) return { status: "tsig-error", tsig, verified: false };
    return { status: "rejected", reason: "the answer's TSIG record has an empty MAC" };
  }
  const full = HASH[key.algorithm].bytes;
  const least = Math.max(10, Math.ceil(full / 2));
  if (tsig.mac.length > full || tsig.mac.length < least) {
    return { status: "rejected", reason: `the answer's MAC is ${tsig.mac.length} octets (${key.algorithm}: ${least}–${full})` };
  }
  const input = macInput(key, unsignedPart(msg, last.offset, tsig.originalId), tsig, options.requestMac);
  const expected = computeMac(key, input).subarray(0, tsig.mac.length);
  if (!timingSafeEqual(expected, tsig.mac)) {
    return { status: "rejected", reason: "the answer's MAC does not verify with our key (a forged or corrupted answer, or another secret)" };
  }
  const skewSeconds = tsig.timeSigned - options.now;
  if (tsig.error !== 0) {
    const server = tsig.error === RCODE.BADTIME ? otherTime(tsig.other) : undefined;
    return { status: "tsig-error", tsig, verified: true, ...(server === undefined ? {} : { skewSeconds: server - options.now }) };
  }
  if (Math.abs(skewSeconds) > tsig.fudge) {
    return {
      status: "rejected",
      reason: `the answer was signed ${Math.abs(skewSeconds)} s ${skewSeconds > 0 ? "ahead of" : "behind"} our clock (fudge ${tsig.fudge} s)`,
      skewSeconds,
    };
  }
  return { status: "verified", tsig, skewSeconds };
}
