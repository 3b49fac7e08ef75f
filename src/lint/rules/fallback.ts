/** Fallback MX: one MX only, all MX in one network or at one provider, a fallback that refuses the mail. */
import { addressesOf, conclusive, describeAnswer, hostEvidence, isAddressLiteral, mxRecords, providerOf, sharedNetworks } from "../answers.js";
import type { Finding, Observations } from "../types.js";
import { finding } from "./finding.js";

export function fallbackRules(obs: Observations): Finding[] {
  if (!conclusive(obs.mx)) return [];
  const records = mxRecords(obs);
  if (records.some((r) => r.exchange === "")) return []; // a null MX takes no mail at all
  const hosts = [...new Set(records.map((r) => r.exchange).filter((e) => !isAddressLiteral(e)))];
  if (hosts.length === 0) return [];
  const evidence = [describeAnswer(obs.mx)];
  const out: Finding[] = [];
  if (hosts.length === 1) {
    out.push(
      finding({
        id: "mx-single",
        severity: "warning",
        subject: obs.domain,
        message: `${obs.domain} has one MX host (${hosts[0]}) and no fallback: while it is down, mail queues on senders all over the Internet`,
        evidence,
        fix: `add a fallback MX with a higher preference, ideally offsite, that queues ${obs.domain}'s mail: "${obs.domain}. IN MX 20 fallback.${obs.domain}."`,
        rfc: "RFC 5321 §5.1",
      }),
    );
  } else {
    const networks = sharedNetworks(hosts.map((h) => addressesOf(obs.hosts[h])));
    if (networks.length > 0) {
      out.push(
        finding({
          id: "mx-one-network",
          severity: "warning",
          subject: obs.domain,
          message: `every MX host of ${obs.domain} has its address in ${networks.join(" and ")}: one network outage takes all of them`,
          evidence: [...evidence, ...hosts.flatMap((h) => hostEvidence(obs.hosts[h]))],
          fix: "put a fallback MX in another network (another /24 or /48, better another site)",
          rfc: "RFC 5321 §5.1",
        }),
      );
    }
    const providers = [...new Set(hosts.map(providerOf))];
    if (providers.length === 1) {
      out.push(
        finding({
          id: "mx-one-provider",
          severity: "warning",
          subject: obs.domain,
          message: `every MX host of ${obs.domain} is under ${providers[0]}: one operator's failure takes all of them`,
          evidence,
          fix: "add a fallback MX run by another operator (a cooperating partner's MX, with its consent)",
          rfc: "RFC 5321 §5.1",
        }),
      );
    }
  }
  for (const r of obs.rcpt) {
    const dialogue =
      r.rcptReply !== undefined
        ? `SMTP ${r.address}:${r.port} (${r.host}): EHLO, MAIL FROM:<>, RCPT TO:<${r.recipient}> → ${r.rcptReply}, RSET, QUIT (no DATA)`
        : `SMTP ${r.address}:${r.port} (${r.host}): ${r.reason}`;
    if (r.ok) continue;
    out.push(
      r.rcptReply !== undefined
        ? finding({
            id: "mx-fallback-refuses",
            severity: "error",
            subject: r.host,
            message: `the fallback MX ${r.host} refuses mail for ${obs.domain}: ${r.reason}; when the primary is down, mail bounces instead of queuing`,
            evidence: [dialogue],
            fix: `have ${r.host} accept (relay and queue) mail for ${obs.domain}: add it to the relay domains of that server`,
            rfc: "RFC 5321 §5.1, §7.1",
          })
        : finding({
            id: "mx-fallback-unreachable",
            severity: "warning",
            subject: r.host,
            message: `the fallback MX ${r.host} could not be asked whether it takes mail for ${obs.domain}: ${r.reason}`,
            evidence: [dialogue],
            fix: `make sure ${r.host} (${r.address}) answers SMTP on port ${r.port}`,
            rfc: "RFC 5321 §5.1",
          }),
    );
  }
  return out;
}
