/** Client service names (smtp., submission., imap., pop.) and RFC 6186 SRV records. */
import { addressesOf, cnameChain, conclusive, describeAnswer, failedLookups, hostEvidence, mxRecords, srvRecords, SRV_LABELS } from "../answers.js";
import type { Finding, Observations } from "../types.js";
import { finding } from "./finding.js";

const GROUPS = [
  { what: "sending (outgoing) mail", labels: ["smtp", "submission"] },
  { what: "reading (incoming) mail", labels: ["imap", "pop", "pop3"] },
] as const;

export function serviceRules(obs: Observations): Finding[] {
  const out: Finding[] = [];
  for (const group of GROUPS) {
    const names = group.labels.map((l) => `${l}.${obs.domain}`);
    const hosts = names.map((n) => obs.hosts[n]).filter((h) => h !== undefined);
    if (hosts.length < names.length || hosts.some((h) => failedLookups(h).length > 0)) continue;
    if (hosts.some((h) => addressesOf(h).length > 0)) continue;
    out.push(
      finding({
        id: "service-name-missing",
        severity: "warning",
        subject: names.join(", "),
        message: `no client service name for ${group.what} resolves (${names.join(", ")}): clients must be configured with a machine's name, and the service cannot move without reconfiguring every client`,
        evidence: hosts.flatMap(hostEvidence),
        fix: `add ${names[0]} (A/AAAA, or a CNAME to the server) and tell users to configure that name`,
        rfc: "RFC 2219 §3",
      }),
    );
  }
  const serviceNames = new Set(GROUPS.flatMap((g) => g.labels.map((l) => `${l}.${obs.domain}`)));
  for (const r of mxRecords(obs)) {
    if (!serviceNames.has(r.exchange)) continue;
    out.push(
      finding({
        id: "service-name-is-mx",
        severity: "warning",
        subject: r.exchange,
        message: `the MX target ${r.exchange} is also the clients' server name: inbound mail and client access cannot be moved apart later`,
        evidence: [describeAnswer(obs.mx)],
        fix: `point the MX at a name of its own (mail.${obs.domain} or mx1.${obs.domain}, same address for now) and keep ${r.exchange} for clients`,
        rfc: "RFC 2219 §3",
      }),
    );
  }
  for (const label of SRV_LABELS) {
    const owner = `${label}.${obs.domain}`;
    const a = obs.srv[owner];
    if (!a || !conclusive(a)) continue;
    const records = srvRecords(a);
    if (records.length === 0) {
      out.push(
        finding({
          id: "srv-missing",
          severity: "info",
          subject: owner,
          message: `no ${owner} SRV record: mail clients cannot discover this service from the address alone`,
          evidence: [describeAnswer(a)],
          fix: `add "${owner}. IN SRV 0 1 ${defaultPort(label)} <server>." (or target "." when the service is not offered)`,
          rfc: "RFC 6186 §3",
        }),
      );
      continue;
    }
    for (const s of records) {
      if (s.target === "") continue;
      const host = obs.hosts[s.target];
      if (!host || failedLookups(host).length > 0) continue;
      if (addressesOf(host).length === 0) {
        out.push(
          finding({
            id: "srv-target-unresolvable",
            severity: "warning",
            subject: owner,
            message: `${owner} points at ${s.target}, which has no A or AAAA record`,
            evidence: [describeAnswer(a), ...hostEvidence(host)],
            fix: `point ${owner} at the server's name, or add A/AAAA records for ${s.target}`,
            rfc: "RFC 6186 §3, RFC 2782",
          }),
        );
      } else if (cnameChain(host).length > 1) {
        out.push(
          finding({
            id: "srv-target-cname",
            severity: "warning",
            subject: owner,
            message: `${owner} points at ${s.target}, an alias (CNAME); an SRV target must be a name with its own A/AAAA`,
            evidence: [describeAnswer(a), ...hostEvidence(host)],
            fix: `point ${owner} at ${cnameChain(host).at(-1)}`,
            rfc: "RFC 2782",
          }),
        );
      }
    }
  }
  return out;
}

const defaultPort = (label: string): number =>
  ({ _submission: 587, _imap: 143, _imaps: 993, _pop3s: 995 })[label.split(".")[0] as "_imap"] ?? 0;
