/**
 * What a name server's answer means for a person, as mailpool's error classes. Pure: the answer
 * (decoded), what its TSIG check found, and the words for the place; no I/O.
 */
import { ConflictError, ProviderError } from "../types.js";
import type { TsigCheck } from "./tsig.js";
import { DEFAULT_FUDGE } from "./tsig.js";
import { DnsTransportError } from "./transport.js";
import { RCODE, rcodeName, type DecodedMessage } from "./wire.js";

export interface AnswerContext {
  /** "UPDATE of zone example.com" / "query smtp.example.com A". */
  readonly what: string;
  /** "127.0.0.1:53". */
  readonly server: string;
  readonly keyName: string;
  readonly algorithm: string;
  /** The zone the request was about. */
  readonly zone: string;
  /** For updates: the names it would change. */
  readonly names?: readonly string[];
}

const signedHow = (c: AnswerContext) => `key ${c.keyName} (${c.algorithm})`;

const seconds = (s: number) => `${Math.abs(s)} s`;

/** The error for a TSIG failure, or undefined when the answer is signed and verified. */
export function tsigFailure(c: AnswerContext, msg: DecodedMessage, check: TsigCheck): Error | undefined {
  const rcode = rcodeName(msg.header.rcode);
  if (check.status === "verified") return undefined;
  if (check.status === "tsig-error") {
    const e = check.tsig.error;
    if (e === RCODE.BADKEY) {
      return new ProviderError(
        `${c.what}: ${c.server} does not know ${signedHow(c)} (${rcode}/BADKEY): keyName and algorithm must match the server's key statement; nothing was changed`,
        { transient: false },
      );
    }
    if (e === RCODE.BADSIG) {
      return new ProviderError(
        `${c.what}: ${c.server} knows ${signedHow(c)} but our signature does not verify (${rcode}/BADSIG): the secret differs from the server's; nothing was changed`,
        { transient: false },
      );
    }
    if (e === RCODE.BADTIME) {
      const skew = check.skewSeconds;
      const by =
        skew === undefined
          ? "by more than the fudge"
          : `by ${seconds(skew)} (the server's clock is ${skew >= 0 ? "ahead" : "behind"}), more than the fudge of ${check.tsig.fudge || DEFAULT_FUDGE} s`;
      return new ProviderError(`${c.what}: ${c.server} and this host disagree on the time ${by} (${rcode}/BADTIME): set both clocks right (NTP); nothing was changed`, {
        transient: false,
      });
    }
    return new ProviderError(`${c.what}: ${c.server} answered ${rcode} with TSIG error ${rcodeName(e)} for ${signedHow(c)}; nothing was changed`, {
      transient: false,
    });
  }
  if (check.status === "rejected") {
    return new ProviderError(`${c.what}: the answer from ${c.server} is not trusted: ${check.reason}`, { transient: false });
  }
  // Unsigned. An unsigned error answer still says what went wrong (a server that does not know
  // the key may not sign); an unsigned success is not believed.
  if (msg.header.rcode === RCODE.NOERROR) {
    return new ProviderError(
      `${c.what}: ${c.server} answered our signed request without a TSIG signature; the answer is not trusted (does the server know ${signedHow(c)}?)`,
      { transient: false },
    );
  }
  return undefined;
}

/** The error for a (signed, verified, or unsigned-error) UPDATE answer's RCODE; undefined for NOERROR. */
export function updateRcodeError(c: AnswerContext, msg: DecodedMessage, signed: boolean): Error | undefined {
  const code = msg.header.rcode;
  const name = rcodeName(code);
  const unsigned = signed ? "" : " (unsigned answer)";
  const names = c.names?.length ? c.names.join(", ") : "the pool names";
  switch (code) {
    case RCODE.NOERROR:
      return undefined;
    case RCODE.NXRRSET:
      return new ConflictError(
        `${c.what}: an RRset changed on ${c.server} since mailpool read it (NXRRSET: a prerequisite listing it as read failed)${unsigned}; nothing of this update was written`,
      );
    case RCODE.YXRRSET:
      return new ConflictError(
        `${c.what}: an RRset that was absent when mailpool read it now exists on ${c.server} (YXRRSET)${unsigned}; nothing of this update was written`,
      );
    case RCODE.REFUSED:
      return new ProviderError(
        `${c.what}: ${c.server} refused the update (REFUSED)${unsigned}: its update policy does not let ${signedHow(c)} change ${names} in zone ${c.zone}; grant them (update-policy, docs/rfc2136.md); nothing was changed`,
        { transient: false },
      );
    case RCODE.NOTAUTH:
      return new ProviderError(
        signed
          ? `${c.what}: ${c.server} is not authoritative for zone ${c.zone} (NOTAUTH): point server at the zone's primary; nothing was changed`
          : `${c.what}: ${c.server} answered NOTAUTH without a signature: it is not authoritative for zone ${c.zone}, or it does not know ${signedHow(c)}; nothing was changed`,
        { transient: false },
      );
    case RCODE.NOTZONE:
      return new ProviderError(`${c.what}: a name of ${names} is not inside zone ${c.zone} on ${c.server} (NOTZONE)${unsigned}; nothing was changed`, {
        transient: false,
      });
    case RCODE.SERVFAIL:
      return new ProviderError(`${c.what}: ${c.server} failed to process the update (SERVFAIL)${unsigned}; retrying`, { transient: true });
    case RCODE.FORMERR:
      return new ProviderError(`${c.what}: ${c.server} could not parse the update (FORMERR)${unsigned}; nothing was changed`, { transient: false });
    case RCODE.NOTIMP:
      return new ProviderError(`${c.what}: ${c.server} does not implement DNS UPDATE (NOTIMP)${unsigned}`, { transient: false });
    default:
      return new ProviderError(`${c.what}: ${c.server} answered ${name}${unsigned}; nothing was changed`, { transient: false });
  }
}

/** The error for a query answer's RCODE; undefined for NOERROR and NXDOMAIN (an absent name). */
export function queryRcodeError(c: AnswerContext, msg: DecodedMessage, signed: boolean): Error | undefined {
  const code = msg.header.rcode;
  const unsigned = signed ? "" : " (unsigned answer)";
  if (code === RCODE.NOERROR || code === RCODE.NXDOMAIN) return undefined;
  if (code === RCODE.SERVFAIL) {
    return new ProviderError(`${c.what}: ${c.server} answered SERVFAIL${unsigned} (zone ${c.zone} not loaded?); retrying`, { transient: true });
  }
  if (code === RCODE.REFUSED) {
    return new ProviderError(
      `${c.what}: ${c.server} refused the query (REFUSED)${unsigned}: it does not serve zone ${c.zone}, or its allow-query does not admit this host or ${signedHow(c)}`,
      { transient: false },
    );
  }
  if (code === RCODE.NOTAUTH) {
    return new ProviderError(
      `${c.what}: ${c.server} answered NOTAUTH${unsigned}: it is not authoritative for zone ${c.zone}${signed ? "" : `, or it does not know ${signedHow(c)}`}`,
      { transient: false },
    );
  }
  return new ProviderError(`${c.what}: ${c.server} answered ${rcodeName(code)}${unsigned}`, { transient: false });
}

/** A socket failure as a ProviderError (transient: refused, reset, timeout, unreachable). */
export function transportError(what: string, e: unknown): unknown {
  if (e instanceof DnsTransportError) return new ProviderError(`${what}: ${e.message}`, { transient: e.transient, cause: e });
  return e;
}
