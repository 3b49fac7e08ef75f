/**
 * One DNS query over UDP (TCP when the answer is truncated), encoded and decoded with dns-packet.
 * node:dns cannot show the AA bit nor ask one particular server without recursion, and the lint
 * needs both. Bounded: one deadline for the whole query (UDP and any TCP retry), a byte bound on
 * a TCP answer, the caller's AbortSignal. Never throws for a failed query: the answer carries
 * the reason, since "the server did not answer" is itself an observation.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { randomInt } from "node:crypto";
import { connect, isIP } from "node:net";
import * as dnsPacket from "dns-packet";
import type { DnsAnswer, Rr } from "./types.js";

export interface DnsServer {
  readonly host: string;
  readonly port: number;
}

export interface QueryOptions {
  /** Set the RD bit (ask a resolver) or not (ask an authoritative server about its own zone). */
  readonly recursion: boolean;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Largest answer accepted over TCP (and UDP), bytes. Default 65535. */
  readonly maxBytes?: number;
}

/**
 * The start of the error of a query this host could not even send (no IPv6 route, say): says
 * nothing about the server, so rules must not read it as the server's silence.
 */
export const UNREACHABLE_FROM_HERE = "network unreachable from here";
const LOCAL_NETWORK_ERRORS = new Set(["ENETUNREACH", "EHOSTUNREACH", "EADDRNOTAVAIL", "EAFNOSUPPORT"]);

export type DnsQuery = (server: DnsServer, name: string, type: string, options: QueryOptions) => Promise<DnsAnswer>;

export const serverText = (s: DnsServer): string => (isIP(s.host) === 6 ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`);

/** "127.0.0.1:5353", "[::1]:53", "127.0.0.1" (port 53), "::1". */
export function parseServer(text: string, defaultPort = 53): DnsServer | undefined {
  const bracket = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text);
  const plain = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(text);
  const host = bracket?.[1] ?? (isIP(text) === 6 ? text : plain?.[1]);
  const port = Number((bracket ?? (isIP(text) === 6 ? undefined : plain))?.[2] ?? defaultPort);
  if (host === undefined || isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

const norm = (name: string): string => {
  const n = name.toLowerCase();
  return n === "." ? "" : n.endsWith(".") ? n.slice(0, -1) : n;
};

function rrData(a: dnsPacket.Answer): string {
  const d = (a as { data?: unknown }).data;
  switch (a.type) {
    case "A":
    case "AAAA":
      return String(d);
    case "CNAME":
    case "NS":
    case "PTR":
    case "DNAME":
      return norm(String(d)) || ".";
    case "MX": {
      const mx = d as dnsPacket.MxData;
      return `${mx.preference ?? 0} ${norm(mx.exchange) || "."}`;
    }
    case "SRV": {
      const srv = d as dnsPacket.SrvData;
      return `${srv.priority ?? 0} ${srv.weight ?? 0} ${srv.port} ${norm(srv.target) || "."}`;
    }
    case "SOA": {
      const s = d as dnsPacket.SoaData;
      return `${norm(s.mname)} ${norm(s.rname)} ${s.serial ?? 0} ${s.refresh ?? 0} ${s.retry ?? 0} ${s.expire ?? 0} ${s.minimum ?? 0}`;
    }
    case "TXT": {
      const parts = Array.isArray(d) ? d : [d];
      return parts.map((p) => JSON.stringify(Buffer.isBuffer(p) ? p.toString("utf8") : String(p))).join(" ");
    }
    default:
      return Buffer.isBuffer(d) ? `\\# ${d.length} ${d.toString("hex")}` : JSON.stringify(d);
  }
}

const toRrs = (list: readonly dnsPacket.Answer[] | undefined): Rr[] =>
  (list ?? []).filter((a) => a.type !== "OPT").map((a) => ({ name: norm(a.name), type: a.type, ttl: (a as { ttl?: number }).ttl ?? 0, data: rrData(a) }));

/** Sends one query; resolves with the decoded answer, never rejects. */
export const queryDns: DnsQuery = async (server, name, type, options) => {
  const base = { server: serverText(server), name: norm(name), type, recursion: options.recursion };
  const fail = (error: string): DnsAnswer => ({ ...base, answers: [], authorities: [], error });
  if (options.signal.aborted) return fail("aborted");
  const id = randomInt(0, 65536);
  const packet: dnsPacket.Packet = {
    type: "query",
    id,
    flags: options.recursion ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type: type as dnsPacket.RecordType, name: base.name || ".", class: "IN" }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as dnsPacket.OptAnswer],
  };
  const deadline = performance.now() + options.timeoutMs;
  const maxBytes = options.maxBytes ?? 65_535;
  const accept = (reply: Buffer): dnsPacket.DecodedPacket | string => {
    let decoded: dnsPacket.DecodedPacket;
    try {
      decoded = dnsPacket.decode(reply);
    } catch (err) {
      return `undecodable answer (${reply.length} bytes): ${err instanceof Error ? err.message : String(err)}`;
    }
    if (decoded.id !== id || decoded.type !== "response") return "an answer that does not match the query";
    const q = decoded.questions?.[0];
    if (q && (norm(q.name) !== base.name || q.type !== type)) return `an answer for ${q.type} ${q.name}, not the question asked`;
    return decoded;
  };
  try {
    let decoded = await exchangeUdp(server, dnsPacket.encode(packet), accept, deadline, options.signal, maxBytes);
    if (typeof decoded === "string") return fail(decoded);
    if (decoded.flag_tc) {
      decoded = await exchangeTcp(server, dnsPacket.streamEncode(packet), accept, deadline, options.signal, maxBytes);
      if (typeof decoded === "string") return fail(decoded);
    }
    return {
      ...base,
      rcode: (decoded as { rcode?: string }).rcode ?? "NOERROR",
      aa: decoded.flag_aa,
      answers: toRrs(decoded.answers),
      authorities: toRrs(decoded.authorities),
    };
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
};

/** Races `work` against the deadline and the signal; `work` returns its cleanup. */
function bounded<T>(deadline: number, signal: AbortSignal, timeoutMs: () => string, work: (done: (v: T) => void) => () => void): Promise<T | string> {
  return new Promise((resolve) => {
    let cleanup: (() => void) | undefined;
    let settled = false;
    const finish = (v: T | string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      cleanup?.();
      resolve(v);
    };
    const onAbort = () => finish("aborted");
    const timer = setTimeout(() => finish(timeoutMs()), Math.max(0, deadline - performance.now()));
    signal.addEventListener("abort", onAbort, { once: true });
    cleanup = work(finish);
    if (settled) cleanup();
  });
}

function exchangeUdp(
  server: DnsServer,
  query: Buffer,
  accept: (reply: Buffer) => dnsPacket.DecodedPacket | string,
  deadline: number,
  signal: AbortSignal,
  maxBytes: number,
): Promise<dnsPacket.DecodedPacket | string> {
  const started = performance.now();
  return bounded<dnsPacket.DecodedPacket | string>(deadline, signal, () => `timeout after ${Math.round(deadline - started)} ms (UDP)`, (done) => {
    const socket: UdpSocket = createSocket(isIP(server.host) === 6 ? "udp6" : "udp4");
    socket.on("error", (err: NodeJS.ErrnoException) =>
      done(
        err.code === "ECONNREFUSED"
          ? "port unreachable (ICMP)"
          : LOCAL_NETWORK_ERRORS.has(err.code ?? "")
            ? `${UNREACHABLE_FROM_HERE} (${err.code})`
            : `UDP error: ${err.message}`,
      ),
    );
    socket.on("message", (msg, rinfo) => {
      // A datagram from elsewhere, or one that is not our answer, is ignored: keep waiting.
      if (rinfo.address !== server.host || rinfo.port !== server.port || msg.length > maxBytes) return;
      const r = accept(msg);
      if (typeof r !== "string") done(r);
    });
    socket.connect(server.port, server.host, () => socket.send(query));
    return () => socket.close();
  });
}

function exchangeTcp(
  server: DnsServer,
  query: Buffer,
  accept: (reply: Buffer) => dnsPacket.DecodedPacket | string,
  deadline: number,
  signal: AbortSignal,
  maxBytes: number,
): Promise<dnsPacket.DecodedPacket | string> {
  const started = performance.now();
  return bounded<dnsPacket.DecodedPacket | string>(deadline, signal, () => `timeout after ${Math.round(deadline - started)} ms (TCP, after a truncated UDP answer)`, (done) => {
    const socket = connect({ host: server.host, port: server.port });
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on("error", (err: NodeJS.ErrnoException) =>
      done(LOCAL_NETWORK_ERRORS.has(err.code ?? "") ? `${UNREACHABLE_FROM_HERE} (${err.code})` : `TCP error: ${err.code ?? err.message}`),
    );
    socket.on("connect", () => socket.write(query));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      const all = Buffer.concat(chunks);
      if (all.length < 2) return;
      const length = all.readUInt16BE(0);
      if (length > maxBytes) return done(`TCP answer of ${length} bytes is above the ${maxBytes}-byte bound`);
      if (received >= length + 2) done(accept(all.subarray(2, length + 2)));
    });
    socket.on("end", () => done("connection closed before the whole TCP answer"));
    return () => socket.destroy();
  });
}
