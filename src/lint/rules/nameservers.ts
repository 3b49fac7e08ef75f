/** Name servers: at least two, in more than one network and at more than one operator, each authoritative, serials agreeing. */
import { addressRecords, addressesOf, conclusive, describeAnswer, failedLookups, hostEvidence, providerOf, sharedNetworks, soaSerial } from "../answers.js";
import { UNREACHABLE_FROM_HERE } from "../dns-query.js";
import type { Finding, Observations } from "../types.js";
import { finding } from "./finding.js";

export function nameServerRules(obs: Observations): Finding[] {
  if (!conclusive(obs.ns) || obs.ns.rcode === "NXDOMAIN") return [];
  const out: Finding[] = [];
  const servers = obs.nameServers;
  const nsEvidence = [describeAnswer(obs.ns)];
  if (servers.length < 2) {
    out.push(
      finding({
        id: "ns-too-few",
        severity: "error",
        subject: obs.domain,
        message: `${obs.domain} has ${servers.length} name server(s); with fewer than two, one outage makes the whole domain, mail included, vanish`,
        evidence: nsEvidence,
        fix: "add a secondary name server, ideally offsite (another network and operator), and list it in the NS RRset and at the parent",
        rfc: "RFC 1034 §4.1, RFC 2182 §5",
      }),
    );
  } else {
    const networks = sharedNetworks(servers.map((s) => addressesOf(s.host)));
    if (networks.length > 0) {
      out.push(
        finding({
          id: "ns-one-network",
          severity: "warning",
          subject: obs.domain,
          message: `every name server of ${obs.domain} has its address in ${networks.join(" and ")}: if that network goes down, senders cannot find even the fallback MX once their caches expire`,
          evidence: [...nsEvidence, ...servers.flatMap((s) => hostEvidence(s.host))],
          fix: "add a secondary name server hosted offsite, in another network",
          rfc: "RFC 2182 §3.1",
        }),
      );
    }
    const providers = [...new Set(servers.map((s) => providerOf(s.name)))];
    if (providers.length === 1) {
      out.push(
        finding({
          id: "ns-one-provider",
          severity: "warning",
          subject: obs.domain,
          message: `every name server of ${obs.domain} is under ${providers[0]}: one operator's outage or mistake takes the whole domain`,
          evidence: nsEvidence,
          fix: "add a secondary name server run by another operator",
          rfc: "RFC 2182 §3.1",
        }),
      );
    }
  }
  const serials = new Map<number, string[]>();
  for (const s of servers) {
    if (addressesOf(s.host).length === 0 && failedLookups(s.host).length === 0) {
      out.push(
        finding({
          id: "ns-no-address",
          severity: "error",
          subject: s.name,
          message: `the name server ${s.name} has no A or AAAA record: nobody can ask it`,
          evidence: hostEvidence(s.host),
          fix: `add A/AAAA records (and glue at the parent when ${s.name} is inside ${obs.domain}), or remove it from the NS RRset`,
          rfc: "RFC 1034 §4.2.2",
        }),
      );
    }
    addressRecords(s.host).forEach((r, i) => {
      const a = s.soa[i];
      // This host cannot reach that address family at all: no judgement of the server.
      if (!a || a.error?.startsWith(UNREACHABLE_FROM_HERE)) return;
      const serial = soaSerial(a);
      if (a.error === undefined && a.rcode === "NOERROR" && a.aa && serial !== undefined) {
        serials.set(serial, [...(serials.get(serial) ?? []), `${s.name} (${r.data})`]);
        return;
      }
      const how = a.error ?? (a.rcode !== "NOERROR" ? `it answered ${a.rcode}` : !a.aa ? "its answer is not authoritative (AA bit clear)" : "its answer has no SOA");
      out.push(
        finding({
          id: "ns-lame",
          severity: "error",
          subject: `${s.name} (${r.data})`,
          message: `the name server ${s.name} at ${r.data} is listed for ${obs.domain} but does not answer for it authoritatively: ${how} (lame delegation)`,
          evidence: [describeAnswer(a)],
          fix: `load the ${obs.domain} zone on ${s.name} (as a secondary of the primary), or remove ${s.name} from the NS RRset and the parent's delegation`,
          rfc: "RFC 1912 §2.8, RFC 8499 §7",
        }),
      );
    });
  }
  if (serials.size > 1) {
    const text = [...serials].map(([serial, who]) => `${serial} at ${who.join(", ")}`).join("; ");
    out.push(
      finding({
        id: "ns-serial-mismatch",
        severity: "warning",
        subject: obs.domain,
        message: `the name servers of ${obs.domain} serve different SOA serials (${text}): some answer from an old copy of the zone`,
        evidence: servers.flatMap((s) => s.soa.map(describeAnswer)),
        fix: "make the secondaries transfer the zone (NOTIFY, allow-transfer on the primary, check their logs); an older serial means a stale copy",
        rfc: "RFC 1034 §4.3.5, RFC 1996",
      }),
    );
  }
  return out;
}
