/**
 * A wire-level fake authoritative name server on loopback (UDP and TCP on one port) that keeps
 * RFC 2136 and RFC 8945 rules rather than accepting everything: it verifies each request's TSIG
 * against the keys it knows (unknown key → NOTAUTH/BADKEY unsigned, bad MAC → BADSIG, time
 * outside fudge → BADTIME signed with its own time), signs its answers with the request's MAC,
 * answers queries with AA and SOA authority, checks UPDATE prerequisites (§3.2: NONE → YXRRSET,
 * value-dependent → NXRRSET), the zone (NOTAUTH) and the names (NOTZONE), a per-key policy
 * (REFUSED), then applies the updates all or nothing. Faults can be injected per request.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import { isInZone } from "../../src/util/names.js";
import { signMessage, verifyMessage, type TsigKey } from "../../providers/rfc2136/tsig.js";
import {
  CLASS,
  OPCODE,
  RCODE,
  TYPE,
  Writer,
  decodeMessage,
  decodeTsigRdata,
  encodeName,
  toHex,
  writeRecord,
  type DecodedMessage,
  type WireRecord,
} from "../../providers/rfc2136/wire.js";

export interface FakeRRset {
  ttl: number;
  /** RDATA of each record, hex. */
  rdata: string[];
}

export type Fault = "servfail" | "drop" | "truncate" | "close" | "unsigned-ok" | "forged" | "spoofed-first";

export interface Received {
  readonly transport: "udp" | "tcp";
  readonly opcode: number;
  readonly message: DecodedMessage;
}

export interface FakeDnsServerOptions {
  readonly zone: string;
  readonly keys: readonly TsigKey[];
  /** Server clock, seconds since the epoch. */
  readonly now: () => number;
  /** Names each key may update (default: any name in the zone). */
  readonly policy?: Readonly<Record<string, readonly string[]>>;
}

const key = (name: string, type: number) => `${name} ${type}`;

export class FakeDnsServer {
  readonly rrsets = new Map<string, FakeRRset>();
  readonly received: Received[] = [];
  /** Faults for the next requests, in order (one each). */
  readonly faults: Fault[] = [];
  /** Called before an UPDATE is processed (a concurrent writer's moment). */
  beforeUpdate: (() => void) | undefined;
  port = 0;
  #udp: UdpSocket | undefined;
  #tcp: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(readonly options: FakeDnsServerOptions) {}

  set(name: string, type: keyof typeof TYPE, ttl: number, rdata: readonly string[]): void {
    this.rrsets.set(key(name, TYPE[type]), { ttl, rdata: [...rdata] });
  }

  get(name: string, type: keyof typeof TYPE): FakeRRset | undefined {
    return this.rrsets.get(key(name, TYPE[type]));
  }

  async start(): Promise<void> {
    const tcp = createServer((socket) => this.#serveTcp(socket));
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", () => resolve()));
    this.#tcp = tcp;
    this.port = (tcp.address() as { port: number }).port;
    const udp = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(this.port, "127.0.0.1", () => resolve());
    });
    udp.on("message", (msg, rinfo) => {
      const spoofFirst = this.faults[0] === "spoofed-first";
      if (spoofFirst) this.faults.shift();
      const answer = this.#handle(new Uint8Array(msg), "udp");
      if (!answer) return;
      if (spoofFirst) {
        // What an off-path attacker who guessed the ID and port would send first: the right
        // header, but a MAC it could not compute (one octet of it flipped).
        const forged = new Uint8Array(answer);
        forged[forged.length - 12]! ^= 0xff;
        udp.send(forged, rinfo.port, rinfo.address);
      }
      udp.send(answer, rinfo.port, rinfo.address);
    });
    this.#udp = udp;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const tcp = this.#tcp;
    const udp = this.#udp;
    this.#tcp = undefined;
    this.#udp = undefined;
    await Promise.all([
      new Promise<void>((resolve) => (tcp ? tcp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (udp ? udp.close(() => resolve()) : resolve())),
    ]);
  }

  #serveTcp(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buf = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = new Uint8Array(buf.subarray(2, 2 + len));
        buf = Buffer.from(buf.subarray(2 + len));
        if (this.faults[0] === "close") {
          this.faults.shift();
          socket.destroy();
          return;
        }
        const answer = this.#handle(msg, "tcp");
        if (answer) {
          const frame = Buffer.alloc(2 + answer.length);
          frame.writeUInt16BE(answer.length, 0);
          frame.set(answer, 2);
          socket.write(frame);
        }
      }
    });
  }

  #handle(raw: Uint8Array, transport: "udp" | "tcp"): Uint8Array | undefined {
    let msg: DecodedMessage;
    try {
      msg = decodeMessage(raw);
    } catch {
      return undefined;
    }
    this.received.push({ transport, opcode: msg.header.opcode, message: msg });
    const fault = this.faults.shift();
    if (fault === "drop") return undefined;
    if (fault === "close") return undefined;

    const tsigRec = msg.additional.at(-1);
    if (tsigRec?.type !== TYPE.TSIG) return this.#answer(msg, RCODE.REFUSED, {}, undefined);
    const tsig = decodeTsigRdata(msg, tsigRec);
    const k = this.options.keys.find((x) => x.name === tsigRec.name && x.algorithm === tsig.algorithm);
    const now = this.options.now();
    if (!k) return this.#tsigError(msg, tsigRec.name, tsig.algorithm, RCODE.BADKEY, tsig.timeSigned);
    const check = verifyMessage(msg, k, { now: tsig.timeSigned });
    if (check.status !== "verified") return this.#tsigError(msg, tsigRec.name, tsig.algorithm, RCODE.BADSIG, tsig.timeSigned);
    const sign = { key: k, requestMac: tsig.mac };
    if (Math.abs(now - tsig.timeSigned) > tsig.fudge) {
      const other = new Writer().u48(now).finish();
      return this.#answer(msg, RCODE.NOTAUTH, {}, { ...sign, error: RCODE.BADTIME, other, timeSigned: tsig.timeSigned });
    }
    if (fault === "servfail") return this.#answer(msg, RCODE.SERVFAIL, {}, sign);
    if (fault === "unsigned-ok") return this.#answer(msg, RCODE.NOERROR, {}, undefined);
    if (fault === "forged") return this.#answer(msg, RCODE.NOERROR, {}, { key: { ...k, secret: Buffer.from("forger") }, requestMac: tsig.mac });
    if (fault === "truncate" && transport === "udp") return this.#answer(msg, RCODE.NOERROR, { tc: true }, sign);

    if (msg.header.opcode === OPCODE.QUERY) return this.#query(msg, sign);
    if (msg.header.opcode === OPCODE.UPDATE) return this.#update(msg, k.name, sign);
    return this.#answer(msg, RCODE.NOTIMP, {}, sign);
  }

  #query(msg: DecodedMessage, sign: Sign): Uint8Array {
    const q = msg.questions[0]!;
    const zone = this.options.zone;
    if (!isInZone(q.name, zone)) return this.#answer(msg, RCODE.REFUSED, {}, sign);
    const soa = this.#soa();
    const found = this.rrsets.get(key(q.name, q.type));
    if (q.type === TYPE.SOA && q.name === zone) return this.#answer(msg, RCODE.NOERROR, { aa: true, answers: [soa] }, sign);
    if (found) {
      const answers = found.rdata.map((r) => ({ name: q.name, type: q.type, class: CLASS.IN, ttl: found.ttl, rdata: Buffer.from(r, "hex") }));
      return this.#answer(msg, RCODE.NOERROR, { aa: true, answers }, sign);
    }
    const exists = [...this.rrsets.keys()].some((k) => k.startsWith(`${q.name} `) || k.endsWith(`.${q.name}`));
    return this.#answer(msg, exists ? RCODE.NOERROR : RCODE.NXDOMAIN, { aa: true, authority: [soa] }, sign);
  }

  #update(msg: DecodedMessage, keyName: string, sign: Sign): Uint8Array {
    const zone = this.options.zone;
    const z = msg.questions[0];
    if (msg.questions.length !== 1 || z?.type !== TYPE.SOA) return this.#answer(msg, RCODE.FORMERR, {}, sign);
    if (z.name !== zone) return this.#answer(msg, RCODE.NOTAUTH, {}, sign);
    this.beforeUpdate?.();
    this.beforeUpdate = undefined;
    const prereqs = msg.answers;
    const updates = msg.authority;
    for (const r of [...prereqs, ...updates]) if (!isInZone(r.name, zone)) return this.#answer(msg, RCODE.NOTZONE, {}, sign);
    // §3.2: prerequisites.
    const wanted = new Map<string, string[]>();
    for (const r of prereqs) {
      if (r.ttl !== 0) return this.#answer(msg, RCODE.FORMERR, {}, sign);
      if (r.class === CLASS.NONE) {
        if (r.rdata.length !== 0) return this.#answer(msg, RCODE.FORMERR, {}, sign);
        if (this.rrsets.has(key(r.name, r.type))) return this.#answer(msg, RCODE.YXRRSET, {}, sign);
      } else if (r.class === CLASS.IN) {
        const k = key(r.name, r.type);
        wanted.set(k, [...(wanted.get(k) ?? []), toHex(r.rdata)]);
      } else {
        return this.#answer(msg, RCODE.FORMERR, {}, sign);
      }
    }
    for (const [k, rdata] of wanted) {
      const live = this.rrsets.get(k)?.rdata ?? [];
      if (live.length !== rdata.length || [...live].sort().join() !== [...rdata].sort().join()) return this.#answer(msg, RCODE.NXRRSET, {}, sign);
    }
    // Policy.
    const allowed = this.options.policy?.[keyName];
    if (allowed && updates.some((r) => !allowed.includes(r.name))) return this.#answer(msg, RCODE.REFUSED, {}, sign);
    // §3.4: updates, all or nothing (checked above; applied in order here).
    const next = new Map(this.rrsets);
    for (const r of updates) {
      const k = key(r.name, r.type);
      if (r.class === CLASS.ANY) {
        if (r.ttl !== 0 || r.rdata.length !== 0) return this.#answer(msg, RCODE.FORMERR, {}, sign);
        next.delete(k);
      } else if (r.class === CLASS.IN) {
        const cur = next.get(k);
        const hex = toHex(r.rdata);
        if (!cur) next.set(k, { ttl: r.ttl, rdata: [hex] });
        else next.set(k, { ttl: r.ttl, rdata: cur.rdata.includes(hex) ? cur.rdata : [...cur.rdata, hex] });
      } else if (r.class === CLASS.NONE) {
        const cur = next.get(k);
        if (cur) {
          const rest = cur.rdata.filter((x) => x !== toHex(r.rdata));
          if (rest.length === 0) next.delete(k);
          else next.set(k, { ...cur, rdata: rest });
        }
      } else {
        return this.#answer(msg, RCODE.FORMERR, {}, sign);
      }
    }
    this.rrsets.clear();
    for (const [k, v] of next) this.rrsets.set(k, v);
    return this.#answer(msg, RCODE.NOERROR, {}, sign);
  }

  #soa(): WireRecord {
    const rdata = new Writer().name(`ns1.${this.options.zone}`).name(`hostmaster.${this.options.zone}`).u32(1).u32(3600).u32(900).u32(604800).u32(300).finish();
    return { name: this.options.zone, type: TYPE.SOA, class: CLASS.IN, ttl: 300, rdata };
  }

  #tsigError(msg: DecodedMessage, name: string, algorithm: string, error: number, timeSigned: number): Uint8Array {
    // §5.2: BADKEY and BADSIG answers are unsigned: a TSIG record with an empty MAC.
    const body = this.#encode(msg, RCODE.NOTAUTH, {});
    const rdata = new Writer().name(algorithm).u48(timeSigned).u16(300).u16(0).u16(msg.header.id).u16(error).u16(0).finish();
    const w = new Writer().bytes(body);
    w.patch16(10, 1);
    w.bytes(encodeName(name)).u16(TYPE.TSIG).u16(CLASS.ANY).u32(0).u16(rdata.length).bytes(rdata);
    return w.finish();
  }

  #encode(msg: DecodedMessage, rcode: number, o: AnswerParts): Uint8Array {
    const w = new Writer();
    const q = msg.questions[0];
    const answers = o.answers ?? [];
    const authority = o.authority ?? [];
    w.u16(msg.header.id)
      .u8(0x80 | (msg.header.opcode << 3) | (o.aa ? 0x04 : 0) | (o.tc ? 0x02 : 0))
      .u8(rcode)
      .u16(q ? 1 : 0)
      .u16(answers.length)
      .u16(authority.length)
      .u16(0);
    if (q) w.name(q.name).u16(q.type).u16(q.class);
    for (const r of [...answers, ...authority]) writeRecord(w, r);
    return w.finish();
  }

  #answer(msg: DecodedMessage, rcode: number, o: AnswerParts, sign: Sign | undefined): Uint8Array {
    const body = this.#encode(msg, rcode, o);
    if (!sign) return body;
    return signMessage(body, sign.key, {
      timeSigned: sign.timeSigned ?? this.options.now(),
      requestMac: sign.requestMac,
      ...(sign.error === undefined ? {} : { error: sign.error }),
      ...(sign.other === undefined ? {} : { other: sign.other }),
    }).wire;
  }
}

interface Sign {
  readonly key: TsigKey;
  readonly requestMac: Uint8Array;
  readonly error?: number;
  readonly other?: Uint8Array;
  readonly timeSigned?: number;
}

interface AnswerParts {
  readonly aa?: boolean;
  readonly tc?: boolean;
  readonly answers?: readonly WireRecord[];
  readonly authority?: readonly WireRecord[];
}
