/** Pure helpers that read recorded answers: what every rule needs, and the evidence text. */
import { isIP } from "node:net";
import type { DnsAnswer, HostObservation, Observations, Rr } from "./types.js";

/** Client service names (RFC 2219 aliases) looked up under the domain. */
export const SERVICE_LABELS = ["smtp", "submission", "imap", "pop", "pop3"] as const;
/** RFC 6186 SRV owners looked up under the domain. */
export const SRV_LABELS = ["_submission._tcp", "_imap._tcp", "_imaps._tcp", "_pop3s._tcp"] as const;

const shown = (name: string): string => (name === "" ? "." : name);

/** "MX example.com @127.0.0.1:53 (recursive): NOERROR aa, 10 mx1.example.com ttl 3600". */
export function describeAnswer(a: DnsAnswer): string {
  const head = `${a.type} ${shown(a.name)} @${a.server} (${a.recursion ? "recursive" : "non-recursive"})`;
  if (a.error !== undefined) return `${head}: no answer, ${a.error}`;
  const flags = `${a.rcode ?? "?"}${a.aa ? " aa" : ""}`;
  const rrs = a.answers.map((r) => `${r.type === a.type && r.name === a.name ? "" : `${shown(r.name)} ${r.type} `}${r.data} ttl ${r.ttl}`);
  return `${head}: ${flags}${rrs.length ? `, ${rrs.join("; ")}` : ", no records"}`;
}

export const answered = (a: DnsAnswer | undefined): a is DnsAnswer & { rcode: string } =>
  a !== undefined && a.error === undefined && a.rcode !== undefined;

/** NOERROR or NXDOMAIN: the server said what exists. Anything else is a failed lookup. */
export const conclusive = (a: DnsAnswer | undefined): boolean =>
  answered(a) && (a.rcode === "NOERROR" || a.rcode === "NXDOMAIN");

export interface MxRecord {
  readonly preference: number;
  /** "" for a null MX (RFC 7505). */
  readonly exchange: string;
  readonly ttl: number;
}

export function mxRecords(obs: Observations): MxRecord[] {
  return obs.mx.answers
    .filter((r) => r.type === "MX" && r.name === obs.domain)
    .map((r) => {
      const [pref = "0", exchange = ""] = r.data.split(" ");
      return { preference: Number(pref), exchange: exchange === "." ? "" : exchange, ttl: r.ttl };
    })
    .sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange));
}

/** True for an MX/SRV target that is an address in disguise: "192.0.2.1" or "[192.0.2.1]". */
export const isAddressLiteral = (name: string): boolean => isIP(name.replace(/^\[|\]$/g, "")) !== 0;

/** The CNAME chain from `name` as recorded in the host's lookups: [name, target, …]. */
export function cnameChain(host: HostObservation): string[] {
  const chain = [host.name];
  const cnames = new Map<string, string>();
  for (const l of host.lookups) for (const r of l.answers) if (r.type === "CNAME") cnames.set(r.name, r.data);
  for (let next = cnames.get(host.name); next !== undefined && !chain.includes(next); next = cnames.get(next)) chain.push(next);
  return chain;
}

/** The host's A and AAAA records (at the end of any CNAME chain). */
export function addressRecords(host: HostObservation): Rr[] {
  const owners = new Set(cnameChain(host));
  const seen = new Set<string>();
  const out: Rr[] = [];
  for (const l of host.lookups) {
    for (const r of l.answers) {
      if ((r.type === "A" || r.type === "AAAA") && owners.has(r.name) && !seen.has(r.data)) {
        seen.add(r.data);
        out.push(r);
      }
    }
  }
  return out;
}

export const addressesOf = (host: HostObservation | undefined): string[] =>
  host ? addressRecords(host).map((r) => r.data) : [];

/** The lookups of a host that failed (timeout, SERVFAIL, budget): its absence of addresses is not proven. */
export const failedLookups = (host: HostObservation): DnsAnswer[] => host.lookups.filter((l) => !conclusive(l));

/** "192.0.2.0/24" or "2001:db8:1::/48": the network the rules treat as one site. */
export function networkOf(address: string): string {
  if (isIP(address) === 4) return `${address.split(".").slice(0, 3).join(".")}.0/24`;
  const groups = expandV6(address).slice(0, 3).map((g) => g.replace(/^0+(?=.)/, ""));
  return `${groups.join(":")}::/48`;
}

/**
 * The networks every host has an address in (hosts without addresses left out): non-empty means
 * one network outage reaches them all, at least for that address family. [] for fewer than two.
 */
export function sharedNetworks(addressesPerHost: readonly (readonly string[])[]): string[] {
  const sets = addressesPerHost.filter((a) => a.length > 0).map((a) => new Set(a.map(networkOf)));
  if (sets.length < 2) return [];
  const [first, ...rest] = sets;
  return [...first!].filter((n) => rest.every((s) => s.has(n))).sort();
}

function expandV6(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t];
}

/**
 * The operator of a name server or mail host, guessed from its name: the last two labels
 * (awsdns-01.org, google.com). A heuristic without the Public Suffix List, so names under
 * co.uk and the like group too coarsely; it errs towards reporting "one provider".
 */
export const providerOf = (name: string): string => name.split(".").slice(-2).join(".");

/** in-addr.arpa / ip6.arpa name of an address. */
export function reverseName(address: string): string {
  if (isIP(address) === 4) return `${address.split(".").reverse().join(".")}.in-addr.arpa`;
  return `${expandV6(address)
    .map((g) => g.padStart(4, "0"))
    .join("")
    .split("")
    .reverse()
    .join(".")}.ip6.arpa`;
}

/** The SOA serial in an answer, when there is one. */
export function soaSerial(a: DnsAnswer): number | undefined {
  const soa = a.answers.find((r) => r.type === "SOA");
  const serial = soa ? Number(soa.data.split(" ")[2]) : NaN;
  return Number.isInteger(serial) ? serial : undefined;
}

export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  /** "" when the target is "." (service decidedly not offered, RFC 6186 §4). */
  readonly target: string;
}

export function srvRecords(a: DnsAnswer | undefined): SrvRecord[] {
  if (!a) return [];
  return a.answers
    .filter((r) => r.type === "SRV" && r.name === a.name)
    .map((r) => {
      const [priority = "0", weight = "0", port = "0", target = ""] = r.data.split(" ");
      return { priority: Number(priority), weight: Number(weight), port: Number(port), target: target === "." ? "" : target };
    });
}

/** Evidence lines for a host: each of its lookups. */
export const hostEvidence = (host: HostObservation | undefined): string[] => (host ? host.lookups.map(describeAnswer) : []);
