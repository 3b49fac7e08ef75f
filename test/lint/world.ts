/**
 * A recorded DNS world for the lint's unit tests: records written like zone-file lines, answered
 * with the semantics of a resolver (RD set: aa clear) and of an authoritative server (RD clear:
 * aa set), CNAMEs followed, NXDOMAIN for names with no records. Some servers can misbehave (lame,
 * stale serial, silent). `observe` runs the real gathering step over it and returns the
 * Observations the rules judge.
 */
import { gather, type GatherOptions } from "../../src/lint/gather.js";
import { serverText, type DnsQuery, type DnsServer } from "../../src/lint/dns-query.js";
import type { DnsAnswer, Observations, Rr } from "../../src/lint/types.js";
import type { Observation, Prober } from "../../src/probes/types.js";

export const RESOLVER: DnsServer = { host: "127.0.0.53", port: 53 };

/** A clean example.com: two MX in two networks and operators, two NS likewise, service names, SRV, PTRs. */
export const CLEAN: readonly string[] = [
  "example.com 3600 SOA ns1.example.com hostmaster.example.com 2026010101 3600 900 604800 300",
  "example.com 3600 NS ns1.example.com",
  "example.com 3600 NS ns.other.net",
  "example.com 3600 MX 10 mx1.example.com",
  "example.com 3600 MX 20 mx.other.net",
  "ns1.example.com 3600 A 192.0.2.53",
  "ns.other.net 3600 A 198.51.100.53",
  "mx1.example.com 300 A 192.0.2.25",
  "mx.other.net 300 A 198.51.100.25",
  "smtp.example.com 300 A 192.0.2.25",
  "imap.example.com 300 A 192.0.2.25",
  "_submission._tcp.example.com 3600 SRV 0 1 587 smtp.example.com",
  "_imap._tcp.example.com 3600 SRV 0 1 143 imap.example.com",
  "_imaps._tcp.example.com 3600 SRV 0 1 993 imap.example.com",
  "_pop3s._tcp.example.com 3600 SRV 0 0 0 .",
  "25.2.0.192.in-addr.arpa 3600 PTR mx1.example.com",
  "25.100.51.198.in-addr.arpa 3600 PTR mx.other.net",
];

/** CLEAN without the lines starting with any of `drop`, plus `add`. */
export const edit = (drop: readonly string[], add: readonly string[] = [], base: readonly string[] = CLEAN): string[] => [
  ...base.filter((l) => !drop.some((d) => l.startsWith(d))),
  ...add,
];

export type ServerBehaviour = "lame" | "silent" | "unreachable" | { readonly serial: number };

export interface World {
  readonly records: readonly string[];
  /** By "host:port": how a name server misbehaves when asked without recursion. */
  readonly servers?: Readonly<Record<string, ServerBehaviour>>;
  /** Answers for the resolver that fail: "name type" → rcode or "timeout". */
  readonly failures?: Readonly<Record<string, string>>;
}

const parse = (line: string): Rr => {
  const [name = "", ttl = "0", type = "", ...data] = line.split(/\s+/);
  return { name, type, ttl: Number(ttl), data: data.join(" ") };
};

/** The answer a server gives for name/type in `world`. */
export function answer(world: World, server: DnsServer, name: string, type: string, recursion: boolean): DnsAnswer {
  const base = { server: serverText(server), name, type, recursion, authorities: [] as Rr[] };
  const behaviour = recursion ? undefined : world.servers?.[serverText(server)];
  if (behaviour === "silent") return { ...base, answers: [], error: "timeout after 1000 ms (UDP)" };
  if (behaviour === "unreachable") return { ...base, answers: [], error: "network unreachable from here (ENETUNREACH)" };
  if (behaviour === "lame") return { ...base, rcode: "REFUSED", aa: false, answers: [] };
  const failure = recursion ? world.failures?.[`${name} ${type}`] : undefined;
  if (failure === "timeout") return { ...base, answers: [], error: "timeout after 1000 ms (UDP)" };
  if (failure !== undefined) return { ...base, rcode: failure, aa: false, answers: [] };
  const rrs = world.records.map(parse);
  const answers: Rr[] = [];
  let at = name;
  for (let hops = 0; hops < 8; hops++) {
    const here = rrs.filter((r) => r.name === at && r.type === type);
    if (here.length > 0) {
      answers.push(...here);
      break;
    }
    const cname = rrs.find((r) => r.name === at && r.type === "CNAME");
    if (!cname || type === "CNAME") break;
    answers.push(cname);
    at = cname.data;
  }
  const serial = typeof behaviour === "object" ? behaviour.serial : undefined;
  const shown = answers.map((r) => (r.type === "SOA" && serial !== undefined ? { ...r, data: r.data.replace(/^(\S+ \S+ )\d+/, `$1${serial}`) } : r));
  const exists = rrs.some((r) => r.name === at || r.name.endsWith(`.${at}`));
  return { ...base, rcode: exists ? "NOERROR" : "NXDOMAIN", aa: !recursion, answers: shown };
}

export const worldQuery = (world: World, asked: DnsAnswer[] = []): DnsQuery => async (server, name, type, options) => {
  const a = answer(world, server, name, type, options.recursion);
  asked.push(a);
  return a;
};

/** An SMTP prober answering from a table by address: accepted unless the address is listed. */
export function fakeProber(refusals: Readonly<Record<string, Partial<Observation>>> = {}, calls: { host: string; rcptTo?: string }[] = []): Prober {
  return async (target, check) => {
    calls.push({ host: target.host, ...(check.rcptTo !== undefined ? { rcptTo: check.rcptTo } : {}) });
    return { ok: true, reason: "ok", latencyMs: 1, phases: [], warnings: [], rcptReply: "250 2.1.5 Ok", ...refusals[target.host] };
  };
}

export function observe(world: World, over: Partial<GatherOptions> = {}): Promise<Observations> {
  return gather({
    domain: "example.com",
    resolver: RESOLVER,
    nsPort: 53,
    smtpPort: 25,
    timeoutMs: 1000,
    queryBudget: 300,
    concurrency: 4,
    signal: new AbortController().signal,
    query: worldQuery(world),
    probe: fakeProber(),
    ...over,
  });
}
