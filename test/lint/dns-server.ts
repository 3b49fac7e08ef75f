/**
 * A tiny authoritative DNS server on loopback (UDP and TCP on one port) answering from a World,
 * for the DNS client's tests and the CLI's: real datagrams and segments, dns-packet on the wire.
 * Misbehaviours: "truncate" (UDP answers carry TC and no records, so the client must use TCP),
 * "silent" (no answer), "wrong-id-first" (a stray answer with another id comes first),
 * "huge-tcp" (UDP answers truncated, and over TCP a length prefix of 65535, then nothing).
 */
import { createSocket } from "node:dgram";
import { createServer, type AddressInfo, type Socket } from "node:net";
import * as dnsPacket from "dns-packet";
import type { Rr } from "../../src/lint/types.js";
import { answer, type World } from "./world.js";

export type Misbehaviour = "none" | "truncate" | "silent" | "wrong-id-first" | "huge-tcp";

export interface TestDnsServer {
  readonly host: string;
  readonly port: number;
  readonly udpQueries: number;
  readonly tcpQueries: number;
  /** The RD bit of each query received. */
  readonly rd: boolean[];
  misbehave: Misbehaviour;
  stop(): Promise<void>;
}

const toAnswer = (r: Rr): dnsPacket.Answer => {
  const [a = "", b = "", c = "", d = "", ...rest] = r.data.split(" ");
  const base = { name: r.name, ttl: r.ttl };
  switch (r.type) {
    case "MX":
      return { ...base, type: "MX", data: { preference: Number(a), exchange: b } };
    case "SRV":
      return { ...base, type: "SRV", data: { priority: Number(a), weight: Number(b), port: Number(c), target: d } };
    case "SOA":
      return { ...base, type: "SOA", data: { mname: a, rname: b, serial: Number(c), refresh: Number(d), retry: Number(rest[0]), expire: Number(rest[1]), minimum: Number(rest[2]) } };
    default:
      return { ...base, type: r.type as "A", data: r.data };
  }
};

export async function startTestDnsServer(world: World, host = "127.0.0.1"): Promise<TestDnsServer> {
  let udpQueries = 0;
  let tcpQueries = 0;
  const rd: boolean[] = [];
  const reply = (query: Buffer, viaTcp: boolean): Buffer | undefined => {
    const q = dnsPacket.decode(query);
    const question = q.questions?.[0];
    if (!question) return undefined;
    rd.push(q.flag_rd);
    const a = answer(world, { host, port: 53 }, question.name.toLowerCase(), question.type, q.flag_rd);
    if (a.error !== undefined) return undefined;
    const truncated = (state.misbehave === "truncate" || state.misbehave === "huge-tcp") && !viaTcp;
    const rcodeBits = ({ NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as Record<string, number>)[a.rcode ?? "NOERROR"] ?? 0;
    return dnsPacket.encode({
      type: "response",
      id: q.id ?? 0,
      flags: (a.aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | (q.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | rcodeBits,
      questions: [question],
      answers: truncated ? [] : a.answers.map(toAnswer),
    });
  };
  const udp = createSocket("udp4");
  udp.on("message", (msg, rinfo) => {
    udpQueries++;
    if (state.misbehave === "silent") return;
    const r = reply(msg, false);
    if (!r) return;
    if (state.misbehave === "wrong-id-first") {
      const stray = Buffer.from(r);
      stray.writeUInt16BE((r.readUInt16BE(0) + 1) % 65536, 0);
      udp.send(stray, rinfo.port, rinfo.address);
    }
    udp.send(r, rinfo.port, rinfo.address);
  });
  const sockets = new Set<Socket>();
  const tcp = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      tcpQueries++;
      if (state.misbehave === "huge-tcp") return void socket.write(Buffer.from([0xff, 0xff]));
      const r = reply(buffered.subarray(2, 2 + buffered.readUInt16BE(0)), true);
      if (!r) return;
      const length = Buffer.alloc(2);
      length.writeUInt16BE(r.length);
      socket.end(Buffer.concat([length, r]));
    });
  });
  await new Promise<void>((resolve) => tcp.listen({ host, port: 0 }, () => resolve()));
  const port = (tcp.address() as AddressInfo).port;
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind({ address: host, port }, () => resolve());
  });
  const state: TestDnsServer = {
    host,
    port,
    get udpQueries() {
      return udpQueries;
    },
    get tcpQueries() {
      return tcpQueries;
    },
    rd,
    misbehave: "none",
    async stop() {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => tcp.close(() => r())), new Promise<void>((r) => udp.close(() => r()))]);
    },
  };
  return state;
}
