/** The MX RRset itself: missing, null MX, targets that are aliases, literals or unresolvable. */
import { addressesOf, cnameChain, conclusive, describeAnswer, failedLookups, hostEvidence, isAddressLiteral, mxRecords } from "../answers.js";
import type { Finding, Observations } from "../types.js";
import { finding } from "./finding.js";

export function mxRules(obs: Observations): Finding[] {
  if (!conclusive(obs.mx)) return [];
  const out: Finding[] = [];
  const evidence = [describeAnswer(obs.mx)];
  if (obs.mx.rcode === "NXDOMAIN") {
    return [
      finding({
        id: "domain-missing",
        severity: "error",
        subject: obs.domain,
        message: `${obs.domain} does not exist in DNS (NXDOMAIN): mail to it bounces`,
        evidence,
        fix: "create the zone (or fix the domain's spelling or delegation)",
        rfc: "RFC 5321 §5.1",
      }),
    ];
  }
  const records = mxRecords(obs);
  if (records.length === 0) {
    return [
      finding({
        id: "mx-missing",
        severity: "warning",
        subject: obs.domain,
        message: `${obs.domain} has no MX: senders fall back to its A/AAAA record (the implicit MX), which is rarely the mail server`,
        evidence,
        fix: `add "${obs.domain}. IN MX 10 mail.${obs.domain}." (or a null MX "MX 0 ." when the domain takes no mail)`,
        rfc: "RFC 5321 §5.1",
      }),
    ];
  }
  const nulls = records.filter((r) => r.exchange === "");
  if (nulls.length > 0) {
    out.push(
      records.length === 1
        ? finding({
            id: "mx-null",
            severity: "info",
            subject: obs.domain,
            message: `${obs.domain} has a null MX: it declares that it accepts no mail`,
            evidence,
            fix: "nothing, if the domain takes no mail; otherwise replace the null MX with real MX records",
            rfc: "RFC 7505 §3",
          })
        : finding({
            id: "mx-null-mixed",
            severity: "error",
            subject: obs.domain,
            message: `${obs.domain} has a null MX next to ${records.length - 1} other MX record(s); a null MX must be the only one`,
            evidence,
            fix: "remove the null MX (MX 0 .) or the other MX records",
            rfc: "RFC 7505 §3",
          }),
    );
  }
  for (const r of records) {
    if (r.exchange === "") continue;
    if (isAddressLiteral(r.exchange)) {
      out.push(
        finding({
          id: "mx-address-literal",
          severity: "error",
          subject: r.exchange,
          message: `the MX target ${r.exchange} is an address, not a host name; senders look it up as a name and find nothing`,
          evidence,
          fix: `give the address a name (mail.${obs.domain}. IN A ${r.exchange.replace(/^\[|\]$/g, "")}) and point the MX at that name`,
          rfc: "RFC 1035 §3.3.9, RFC 5321 §5.1",
        }),
      );
      continue;
    }
    const host = obs.hosts[r.exchange];
    if (!host) continue;
    const chain = cnameChain(host);
    if (chain.length > 1) {
      out.push(
        finding({
          id: "mx-cname",
          severity: "error",
          subject: r.exchange,
          message: `the MX target ${r.exchange} is an alias (CNAME → ${chain.slice(1).join(" → ")}); an MX must name a host with its own A/AAAA`,
          evidence: [...evidence, ...hostEvidence(host)],
          fix: `point the MX at ${chain.at(-1)} directly, or replace the CNAME at ${r.exchange} with A/AAAA records`,
          rfc: "RFC 2181 §10.3, RFC 5321 §5.1",
        }),
      );
    }
    if (addressesOf(host).length === 0 && failedLookups(host).length === 0) {
      out.push(
        finding({
          id: "mx-no-address",
          severity: "error",
          subject: r.exchange,
          message: `the MX target ${r.exchange} has no A or AAAA record: senders cannot reach it`,
          evidence: [...evidence, ...hostEvidence(host)],
          fix: `add A/AAAA records for ${r.exchange}, or remove that MX`,
          rfc: "RFC 5321 §5.1",
        }),
      );
    }
  }
  return out;
}
