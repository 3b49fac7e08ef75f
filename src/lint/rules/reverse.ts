/** Reverse DNS of the MX hosts: a PTR for each address, whose name resolves back to it. */
import { addressesOf, conclusive, describeAnswer, failedLookups, hostEvidence } from "../answers.js";
import type { Finding, Observations } from "../types.js";
import { finding } from "./finding.js";

export function reverseRules(obs: Observations): Finding[] {
  const out: Finding[] = [];
  for (const [address, a] of Object.entries(obs.ptr)) {
    if (!conclusive(a)) continue;
    const names = a.answers.filter((r) => r.type === "PTR" && r.name === a.name).map((r) => r.data);
    if (names.length === 0) {
      out.push(
        finding({
          id: "ptr-missing",
          severity: "warning",
          subject: address,
          message: `the MX address ${address} has no PTR record: many receiving servers distrust or refuse mail from an address without reverse DNS`,
          evidence: [describeAnswer(a)],
          fix: `ask whoever holds ${address}'s reverse zone (usually the network's provider) for "${a.name}. IN PTR <the MX host name>."`,
          rfc: "RFC 1912 §2.1",
        }),
      );
      continue;
    }
    const hosts = names.map((n) => obs.hosts[n]);
    if (hosts.some((h) => h === undefined || failedLookups(h).length > 0)) continue;
    if (hosts.some((h) => addressesOf(h).includes(address))) continue;
    out.push(
      finding({
        id: "ptr-not-forward-confirmed",
        severity: "warning",
        subject: address,
        message: `the MX address ${address} has PTR ${names.join(", ")}, but that name does not resolve back to ${address} (not forward-confirmed): receivers checking FCrDNS treat it as no reverse DNS`,
        evidence: [describeAnswer(a), ...hosts.flatMap(hostEvidence)],
        fix: `make the PTR name an A/AAAA record for ${address}, or change the PTR to a name that has ${address}`,
        rfc: "RFC 1912 §2.1",
      }),
    );
  }
  return out;
}
