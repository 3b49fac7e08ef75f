/**
 * The RFC 2136 provider: reads the pools' RRsets by signed queries over TCP, and writes each
 * cycle's changes as one signed UPDATE per zone whose prerequisites are the RRsets exactly as
 * read (update-message.ts). A concurrent edit makes the server answer NXRRSET or YXRRSET:
 * ConflictError, and the controller re-reads and re-plans.
 */
import { isIP } from "node:net";
import { isInZone, normalizeName } from "../../src/util/names.js";
import {
  ProviderConfigError,
  ProviderError,
  withWritten,
  type ApplyResult,
  type Provider,
  type ProviderContext,
  type RRset,
  type RRsetChange,
  type RRsetKey,
} from "../types.js";
import type { Rfc2136Config } from "./config.js";
import { queryRcodeError, transportError, tsigFailure, updateRcodeError, type AnswerContext } from "./errors.js";
import { DnsTransportError, TcpConnection, udpExchange, type Endpoint } from "./transport.js";
import { signMessage, verifyMessage, type TsigKey } from "./tsig.js";
import { buildUpdate, type ManagedType, type UpdateChange } from "./update-message.js";
import {
  CLASS,
  OPCODE,
  TYPE,
  WireFormatError,
  decodeCname,
  decodeMessage,
  encodeQuery,
  fromHex,
  rdataToValue,
  toHex,
  valueToRdata,
  type DecodedMessage,
} from "./wire.js";

/** RRset.native of this provider: the RDATA of every record exactly as the server answered. */
export interface Rfc2136Native {
  readonly rdata: readonly string[];
}

/** Side effects a test may replace. */
export interface Rfc2136Deps {
  /** Wall clock in ms since the epoch: TSIG signs with it and checks the server's time. */
  readonly now?: () => number;
  /** Message IDs (16 bits). */
  readonly randomId?: () => number;
}

/** Over UDP without EDNS a DNS message is at most 512 octets (RFC 1035 §4.2.1). */
const UDP_MAX = 512;

export class Rfc2136Provider implements Provider {
  readonly kind = "rfc2136";
  readonly #config: Rfc2136Config;
  readonly #ctx: ProviderContext;
  readonly #key: TsigKey;
  readonly #ep: Endpoint;
  readonly #now: () => number;
  readonly #randomId: () => number;
  /** Pool name → zone apex, found once (a failure is retried at the next read). */
  #zones: Map<string, string> | undefined;

  constructor(config: Rfc2136Config, ctx: ProviderContext, key: TsigKey, deps: Rfc2136Deps = {}) {
    this.#config = config;
    this.#ctx = ctx;
    this.#key = key;
    this.#ep = { host: config.server, port: config.port };
    this.#now = deps.now ?? (() => Date.now());
    this.#randomId = deps.randomId ?? (() => Math.floor(Math.random() * 0x10000));
  }

  get #server(): string {
    return isIP(this.#ep.host) === 6 ? `[${this.#ep.host}]:${this.#ep.port}` : `${this.#ep.host}:${this.#ep.port}`;
  }

  #context(what: string, zone: string, names?: readonly string[]): AnswerContext {
    return { what, server: this.#server, keyName: this.#key.name, algorithm: this.#key.algorithm, zone, ...(names ? { names } : {}) };
  }

  #nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  async read(keys: readonly RRsetKey[], signal: AbortSignal): Promise<RRset[]> {
    const session = new Session(this.#ep, this.#config, signal);
    try {
      const zones = await this.#resolveZones(session, signal);
      const out: RRset[] = [];
      for (const key of keys) {
        const name = normalizeName(key.name);
        const zone = zoneOf(name, zones);
        const msg = await this.#query(session, name, key.type, zone, signal);
        const rrset = toRRset({ name, type: key.type }, msg, this.#context(`query ${name} ${key.type}`, zone));
        if (rrset) out.push(rrset);
      }
      return out;
    } finally {
      session.close();
    }
  }

  async apply(changes: readonly RRsetChange[], signal: AbortSignal): Promise<ApplyResult> {
    if (changes.length === 0) return { applied: 0, notes: [] };
    const session = new Session(this.#ep, this.#config, signal);
    let applied = 0;
    const notes: string[] = [];
    try {
      const zones = await this.#resolveZones(session, signal);
      const byZone = new Map<string, UpdateChange[]>();
      for (const change of changes) {
        const update = toUpdateChange(change);
        if (update === undefined) continue;
        const zone = zoneOf(update.name, zones);
        byZone.set(zone, [...(byZone.get(zone) ?? []), update]);
      }
      if (byZone.size === 0) return { applied: 0, notes: ["nothing to write: the live RRsets already match"] };
      for (const [zone, list] of byZone) {
        try {
          notes.push(await this.#update(session, zone, list, signal));
        } catch (e) {
          throw withWritten(e, { applied, notes: [...notes] });
        }
        applied += list.length;
      }
      return { applied, notes };
    } finally {
      session.close();
    }
  }

  /** Sends one UPDATE and checks its answer; returns the note for the report. */
  async #update(session: Session, zone: string, updates: readonly UpdateChange[], signal: AbortSignal): Promise<string> {
    const names = [...new Set(updates.map((u) => u.name))];
    const what = `UPDATE of zone ${zone}`;
    const ctx = this.#context(what, zone, names);
    const id = this.#randomId() & 0xffff;
    const message = buildUpdate(id, zone, updates);
    const signed = signMessage(message, this.#key, { timeSigned: this.#nowSeconds() });
    let via: "UDP" | "TCP" = this.#config.transport === "udp" && signed.wire.length <= UDP_MAX ? "UDP" : "TCP";
    let raw: Uint8Array;
    try {
      raw =
        via === "UDP"
          ? await udpExchange(this.#ep, signed.wire, { signal, timeoutMs: this.#config.timeoutMs, accept: (a) => this.#authentic(a, signed.mac) })
          : await session.exchange(signed.wire);
    } catch (e) {
      throw transportError(what, e);
    }
    let msg = this.#decode(raw, ctx, id, OPCODE.UPDATE);
    if (msg.header.tc && via === "UDP") {
      // The answer did not fit: ask again over TCP. Should the server have applied the first
      // copy, its prerequisites now fail (NXRRSET): a conflict, and the re-read sees the change.
      via = "TCP";
      try {
        raw = await session.exchange(signed.wire);
      } catch (e) {
        throw transportError(what, e);
      }
      msg = this.#decode(raw, ctx, id, OPCODE.UPDATE);
    }
    const check = verifyMessage(msg, this.#key, { now: this.#nowSeconds(), requestMac: signed.mac });
    const bad = tsigFailure(ctx, msg, check);
    if (bad) throw bad;
    const failed = updateRcodeError(ctx, msg, check.status === "verified");
    if (failed) throw failed;
    // Header counts of an UPDATE: ZOCOUNT, PRCOUNT, UPCOUNT, ADCOUNT.
    const prereqs = (message[6]! << 8) | message[7]!;
    const records = (message[8]! << 8) | message[9]!;
    this.#ctx.logger.debug(
      { provider: this.#ctx.name, zone, via, bytes: signed.wire.length, skewSeconds: check.status === "verified" ? check.skewSeconds : undefined },
      "rfc2136 update applied",
    );
    return `${what}: ${updates.length} RRset change(s) (${prereqs} prerequisite and ${records} update record(s)) over ${via}, signed with key ${this.#key.name}`;
  }

  /** One signed query over the session's TCP connection, its answer decoded, verified and checked. */
  async #query(session: Session, name: string, type: ManagedType | "SOA", zone: string, signal: AbortSignal): Promise<DecodedMessage> {
    const what = `query ${name} ${type}`;
    const ctx = this.#context(what, zone);
    const id = this.#randomId() & 0xffff;
    const signed = signMessage(encodeQuery(id, name, TYPE[type]), this.#key, { timeSigned: this.#nowSeconds() });
    if (signal.aborted) throw signal.reason;
    let raw: Uint8Array;
    try {
      raw = await session.exchange(signed.wire);
    } catch (e) {
      throw transportError(what, e);
    }
    const msg = this.#decode(raw, ctx, id, OPCODE.QUERY);
    const q = msg.questions[0];
    if (msg.questions.length !== 1 || q?.name !== name || q.type !== TYPE[type]) {
      throw new ProviderError(`${what}: the answer from ${this.#server} is for another question`, { transient: false });
    }
    const check = verifyMessage(msg, this.#key, { now: this.#nowSeconds(), requestMac: signed.mac });
    const bad = tsigFailure(ctx, msg, check);
    if (bad) throw bad;
    const failed = queryRcodeError(ctx, msg, check.status === "verified");
    if (failed) throw failed;
    if (!msg.header.aa) {
      throw new ProviderError(
        `${what}: ${this.#server} answered without authority (no AA bit): it is not a primary or secondary for ${name}; point server at the zone's primary`,
        { transient: false },
      );
    }
    return msg;
  }

  /** A UDP answer is taken unless it is signed and fails verification (a spoofed datagram). */
  #authentic(raw: Uint8Array, requestMac: Uint8Array): boolean {
    try {
      return verifyMessage(decodeMessage(raw), this.#key, { now: this.#nowSeconds(), requestMac }).status !== "rejected";
    } catch {
      return false;
    }
  }

  #decode(raw: Uint8Array, ctx: AnswerContext, id: number, opcode: number): DecodedMessage {
    let msg: DecodedMessage;
    try {
      msg = decodeMessage(raw);
    } catch (e) {
      if (e instanceof WireFormatError) throw new ProviderError(`${ctx.what}: malformed answer from ${ctx.server}: ${e.message}`, { transient: false });
      throw e;
    }
    if (!msg.header.qr || msg.header.id !== id || msg.header.opcode !== opcode) {
      throw new ProviderError(`${ctx.what}: ${ctx.server} sent something that is not the answer to our request`, { transient: false });
    }
    return msg;
  }

  /** Pool name → zone apex: the configured zone (checked by its SOA) or each pool's SOA owner. */
  async #resolveZones(session: Session, signal: AbortSignal): Promise<Map<string, string>> {
    if (this.#zones) return this.#zones;
    const zones = new Map<string, string>();
    const configured = this.#config.zone === undefined ? undefined : normalizeName(this.#config.zone);
    if (configured !== undefined) {
      const msg = await this.#query(session, configured, "SOA", configured, signal);
      const soa = msg.answers.find((r) => r.type === TYPE.SOA && r.class === CLASS.IN);
      if (soa?.name !== configured) {
        throw new ProviderConfigError(
          `providers.${this.#ctx.name}.zone: ${this.#server} has no SOA record at ${configured}: ${configured} is not the apex of a zone it serves${soa ? ` (the zone is ${soa.name})` : ""}`,
        );
      }
      for (const pool of this.#ctx.pools) zones.set(pool.name, configured);
    } else {
      for (const pool of this.#ctx.pools) {
        const msg = await this.#query(session, pool.name, "SOA", pool.name, signal);
        const soa = [...msg.answers, ...msg.authority].find((r) => r.type === TYPE.SOA && r.class === CLASS.IN && isInZone(pool.name, r.name));
        if (!soa) {
          throw new ProviderConfigError(`providers.${this.#ctx.name}: ${this.#server} named no SOA for ${pool.name}, so its zone is unknown; set zone`);
        }
        zones.set(pool.name, soa.name);
      }
    }
    this.#zones = zones;
    return zones;
  }
}

/** The zone of a name: that of the pool it is (or whose `_mailpool.` marker it is). */
function zoneOf(name: string, zones: ReadonlyMap<string, string>): string {
  let best: string | undefined;
  for (const zone of new Set(zones.values())) {
    if (isInZone(name, zone) && (best === undefined || zone.length > best.length)) best = zone;
  }
  if (best === undefined) {
    throw new ProviderError(`${name} is not inside the zone(s) ${[...new Set(zones.values())].join(", ")} of this provider`, { transient: false });
  }
  return best;
}

/** The RRset of `key` in an answer, or undefined when it has none. */
export function toRRset(key: { name: string; type: ManagedType }, msg: DecodedMessage, ctx: AnswerContext): RRset | undefined {
  const cname = msg.answers.find((r) => r.name === key.name && r.type === TYPE.CNAME);
  if (cname) {
    throw new ProviderError(
      `${ctx.what}: ${key.name} is an alias (CNAME to ${decodeCname(msg, cname)}); mailpool manages A/AAAA/TXT RRsets only: point the pool at the target name`,
      { transient: false },
    );
  }
  const records = msg.answers.filter((r) => r.name === key.name && r.type === TYPE[key.type] && r.class === CLASS.IN);
  if (records.length === 0) return undefined;
  let values: string[];
  try {
    values = records.map((r) => rdataToValue(key.type, r.rdata));
  } catch (e) {
    throw new ProviderError(`${ctx.what}: malformed answer from ${ctx.server}: ${(e as Error).message}`, { transient: false });
  }
  const ttls = [...new Set(records.map((r) => r.ttl))].sort((a, b) => a - b);
  const native: Rfc2136Native = { rdata: records.map((r) => toHex(r.rdata)) };
  return {
    name: key.name,
    type: key.type,
    ttl: ttls[0]!,
    values,
    ...(ttls.length > 1 ? { drift: [`the records of ${key.name} ${key.type} disagree on TTL (${ttls.join(", ")}); the lowest counts`] } : {}),
    native,
  };
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

/** The UPDATE change for one RRset change; undefined when it changes nothing. */
export function toUpdateChange(change: RRsetChange): UpdateChange | undefined {
  const name = normalizeName(change.key.name);
  const type = change.key.type;
  const before = change.before;
  const values = [...new Set(change.after?.values ?? [])];
  const after = change.after !== null && values.length > 0 ? { ttl: change.after.ttl, rdata: values.map((v) => valueToRdata(type, v)) } : null;
  if (before === null && after === null) return undefined;
  if (before !== null && after !== null && before.ttl === after.ttl && sameSet(before.values, values) && !(before.drift?.length)) return undefined;
  const native = before?.native as Partial<Rfc2136Native> | undefined;
  const beforeRdata =
    before === null
      ? null
      : native && Array.isArray(native.rdata)
        ? native.rdata.map(fromHex)
        : before.values.map((v) => valueToRdata(type, v));
  return { name, type, before: beforeRdata, after };
}

/** A lazily opened TCP connection, reopened once when the server closed it between requests. */
class Session {
  #conn: Promise<TcpConnection> | undefined;

  constructor(
    readonly ep: Endpoint,
    readonly config: Pick<Rfc2136Config, "connectTimeoutMs" | "timeoutMs">,
    readonly signal: AbortSignal,
  ) {}

  #open(): Promise<TcpConnection> {
    this.#conn = TcpConnection.open(this.ep, { signal: this.signal, connectTimeoutMs: this.config.connectTimeoutMs });
    return this.#conn;
  }

  async exchange(message: Uint8Array): Promise<Uint8Array> {
    let conn = await (this.#conn ?? this.#open());
    let reopened = false;
    if (!conn.isOpen) {
      conn = await this.#open();
      reopened = true;
    }
    try {
      return await conn.exchange(message, { signal: this.signal, timeoutMs: this.config.timeoutMs });
    } catch (e) {
      // A server may close an idle connection between two requests; try a fresh one once.
      if (!reopened && e instanceof DnsTransportError && e.failure === "closed") {
        conn = await this.#open();
        return conn.exchange(message, { signal: this.signal, timeoutMs: this.config.timeoutMs });
      }
      throw e;
    }
  }

  close(): void {
    void this.#conn?.then((c) => c.close(), () => undefined);
  }
}
