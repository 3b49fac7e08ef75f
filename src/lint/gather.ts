/**
 * The I/O half of `mailpool lint`: asks DNS (and, for fallback MX hosts, SMTP) what the rules need
 * and records every answer into Observations. Bounded: a query budget (identical queries are
 * asked once), a concurrency limit, a per-query deadline, the caller's AbortSignal.
 *
 * Where answers come from: the domain's MX and NS, and everything outside the domain, from the
 * resolver (RD set). The SOA of the domain from each of its name servers' addresses without
 * recursion (lameness: the AA bit; serials). Names inside the domain from the first name server
 * that answered authoritatively, so TTLs are the zone's own and not a cache's countdown; when
 * that server gives no authoritative answer (a delegated subzone), from the resolver.
 */
import { builtinCheck } from "../probes/builtin-checks.js";
import { probeSmtp } from "../probes/smtp.js";
import type { CheckSpec, Prober } from "../probes/types.js";
import { isInZone } from "../util/names.js";
import { addressRecords, cnameChain, isAddressLiteral, reverseName, SERVICE_LABELS, srvRecords, SRV_LABELS } from "./answers.js";
import { queryDns, serverText, type DnsQuery, type DnsServer } from "./dns-query.js";
import type { DnsAnswer, HostObservation, NameServerObservation, Observations, PoolRef, RcptObservation } from "./types.js";


export interface GatherOptions {
  readonly domain: string;
  readonly resolver: DnsServer;
  /** Port the domain's own name servers are asked on: 53 (tests use a high port). */
  readonly nsPort: number;
  /** Port of the RCPT check to fallback MX hosts: 25 (tests use a high port). */
  readonly smtpPort: number;
  /** Deadline of one DNS query, and of one SMTP dialogue. */
  readonly timeoutMs: number;
  /** Most DNS queries for this domain; beyond it lookups are recorded as not made. */
  readonly queryBudget: number;
  /** Most DNS queries in flight at once. */
  readonly concurrency: number;
  readonly signal: AbortSignal;
  /** Run the RCPT dialogue against each fallback MX (default true). */
  readonly rcpt?: boolean;
  /** EHLO name of the RCPT dialogue. */
  readonly ehloName?: string;
  /** Pools of the config in this domain (coverage rules); undefined without a config. */
  readonly pools?: readonly PoolRef[];
  /** DNS transport; defaults to UDP/TCP queries (dns-query.ts). */
  readonly query?: DnsQuery;
  /** SMTP prober; defaults to the smtp probe. */
  readonly probe?: Prober;
}

/** A counting semaphore: at most `n` tasks run at once, the rest wait in order. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

export async function gather(o: GatherOptions): Promise<Observations> {
  const query = o.query ?? queryDns;
  const domain = o.domain;
  const limit = limiter(o.concurrency);
  const queries: (DnsAnswer | undefined)[] = [];
  const cache = new Map<string, Promise<DnsAnswer>>();
  let used = 0;
  let exhausted = false;

  const ask = (server: DnsServer, name: string, type: string, recursion: boolean): Promise<DnsAnswer> => {
    const key = `${serverText(server)} ${recursion ? "rd" : "nord"} ${name} ${type}`;
    const cached = cache.get(key);
    if (cached) return cached;
    const slot = queries.length;
    queries.push(undefined);
    let p: Promise<DnsAnswer>;
    if (used >= o.queryBudget) {
      exhausted = true;
      p = Promise.resolve({ server: serverText(server), name, type, recursion, answers: [], authorities: [], error: `not asked: the query budget of ${o.queryBudget} is used up` });
    } else {
      used++;
      p = limit(() => query(server, name, type, { recursion, timeoutMs: o.timeoutMs, signal: o.signal }));
    }
    p = p.then((a) => {
      queries[slot] = a;
      return a;
    });
    cache.set(key, p);
    return p;
  };
  const viaResolver = (name: string, type: string) => ask(o.resolver, name, type, true);

  const [mx, ns] = await Promise.all([viaResolver(domain, "MX"), viaResolver(domain, "NS")]);

  // Name servers: their addresses through the resolver, then the SOA from each address, no RD.
  const hostsByName = new Map<string, Promise<HostObservation>>();
  let authoritative: DnsServer | undefined;
  const lookup = async (name: string, type: string): Promise<DnsAnswer> => {
    if (authoritative && isInZone(name, domain)) {
      const a = await ask(authoritative, name, type, false);
      if (a.error === undefined && a.aa && (a.rcode === "NOERROR" || a.rcode === "NXDOMAIN")) return a;
    }
    return viaResolver(name, type);
  };
  const resolveHost = (name: string): Promise<HostObservation> => {
    const known = hostsByName.get(name);
    if (known) return known;
    const p = (async () => {
      const lookups = await Promise.all([lookup(name, "A"), lookup(name, "AAAA")]);
      // A CNAME whose target's records the answer did not carry: follow it (outside the zone, the resolver).
      const followed: DnsAnswer[] = [];
      for (const answer of lookups) {
        const chain = cnameChain({ name, lookups: [answer] });
        const last = chain.at(-1) ?? name;
        const carried = answer.answers.some((r) => r.type === answer.type && r.name === last);
        // The zone's own server already answered for its own target: no such record there.
        const settled = answer.aa === true && !answer.recursion && isInZone(last, domain);
        if (chain.length > 1 && !carried && !settled) {
          followed.push(await lookup(last, answer.type));
        }
      }
      return { name, lookups: [...lookups, ...followed] };
    })();
    hostsByName.set(name, p);
    return p;
  };

  const nsNames = [...new Set(ns.answers.filter((r) => r.type === "NS" && r.name === domain).map((r) => r.data))].sort();
  const nameServers: NameServerObservation[] = await Promise.all(
    nsNames.map(async (name) => {
      const lookups = await Promise.all([viaResolver(name, "A"), viaResolver(name, "AAAA")]);
      const host: HostObservation = { name, lookups };
      const soa = await Promise.all(addressRecords(host).map((r) => ask({ host: r.data, port: o.nsPort }, domain, "SOA", false)));
      return { name, host, soa };
    }),
  );
  // The first address (NS names in order) that answered the SOA authoritatively serves the zone.
  authoritative = nameServers
    .flatMap((server) => addressRecords(server.host).map((r, i) => ({ address: r.data, soa: server.soa[i] })))
    .filter(({ soa: a }) => a !== undefined && a.error === undefined && a.aa === true && a.rcode === "NOERROR" && a.answers.some((r) => r.type === "SOA"))
    .map(({ address }) => ({ host: address, port: o.nsPort }))[0];

  const exchanges = mx.answers
    .filter((r) => r.type === "MX" && r.name === domain)
    .map((r) => ({ preference: Number(r.data.split(" ")[0]), exchange: r.data.split(" ")[1] ?? "." }))
    .filter((m) => m.exchange !== "." && !isAddressLiteral(m.exchange));
  const srvNames = SRV_LABELS.map((l) => `${l}.${domain}`);
  const [mxHosts, , srvAnswers] = await Promise.all([
    Promise.all(exchanges.map((m) => resolveHost(m.exchange))),
    Promise.all(SERVICE_LABELS.map((l) => resolveHost(`${l}.${domain}`))),
    Promise.all(srvNames.map((n) => lookup(n, "SRV"))),
  ]);
  await Promise.all(srvAnswers.flatMap((a) => srvRecords(a).filter((s) => s.target !== "").map((s) => resolveHost(s.target))));

  // Reverse DNS of every MX host address, and the PTR names forward again.
  const mxAddresses = [...new Set(mxHosts.flatMap((h) => addressRecords(h).map((r) => r.data)))];
  const ptrAnswers = await Promise.all(mxAddresses.map((address) => viaResolver(reverseName(address), "PTR")));
  await Promise.all(ptrAnswers.flatMap((a) => a.answers.filter((r) => r.type === "PTR").map((r) => resolveHost(r.data))));

  // The RCPT dialogue with each fallback MX (every MX but the most preferred), first address each.
  const rcpt: RcptObservation[] = [];
  if (o.rcpt !== false && exchanges.length > 1) {
    const best = Math.min(...exchanges.map((m) => m.preference));
    const fallbacks = [...new Set(exchanges.filter((m) => m.preference > best).map((m) => m.exchange))];
    const recipient = `postmaster@${domain}`;
    const base = builtinCheck("smtp")!;
    const check: CheckSpec = {
      ...base,
      name: "lint-rcpt",
      port: o.smtpPort,
      timeoutMs: o.timeoutMs * 2,
      connectTimeoutMs: o.timeoutMs,
      ehloName: o.ehloName ?? base.ehloName,
      rcptTo: recipient,
    };
    const probe = o.probe ?? probeSmtp;
    const results = await Promise.all(
      fallbacks.map(async (host) => {
        const h = await resolveHost(host);
        const address = addressRecords(h)[0]?.data;
        if (address === undefined) return undefined;
        const obs = await probe({ host: address, port: o.smtpPort }, check, o.signal);
        const r: RcptObservation = {
          host,
          address,
          port: o.smtpPort,
          recipient,
          ok: obs.ok,
          reason: obs.reason,
          ...(obs.rcptReply !== undefined ? { rcptReply: obs.rcptReply } : {}),
        };
        return r;
      }),
    );
    for (const r of results) if (r) rcpt.push(r);
  }

  const hosts: Record<string, HostObservation> = {};
  for (const [name, p] of [...hostsByName].sort(([a], [b]) => a.localeCompare(b))) hosts[name] = await p;
  return {
    domain,
    resolver: serverText(o.resolver),
    mx,
    ns,
    nameServers,
    hosts,
    srv: Object.fromEntries(srvNames.map((n, i) => [n, srvAnswers[i]!])),
    ptr: Object.fromEntries(mxAddresses.map((a, i) => [a, ptrAnswers[i]!])),
    rcpt,
    ...(o.pools !== undefined ? { pools: o.pools } : {}),
    queries: queries.filter((a): a is DnsAnswer => a !== undefined),
    budget: { limit: o.queryBudget, used, exhausted },
  };
}
