/** Lookups that failed (no answer, SERVFAIL, REFUSED from the resolver), and a used-up budget. */
import { conclusive, describeAnswer } from "../answers.js";
import type { Finding, Observations } from "../types.js";
import { finding } from "./finding.js";

export function lookupRules(obs: Observations): Finding[] {
  const out: Finding[] = [];
  for (const a of obs.queries) {
    // Questions to the domain's own servers: the name server rules judge those servers (lame,
    // silent), and a name they did not answer was asked of the resolver as well.
    if (!a.recursion) continue;
    if (a.error?.startsWith("not asked")) continue;
    if (conclusive(a)) continue;
    const key = a === obs.mx || a === obs.ns;
    out.push(
      finding({
        id: "lookup-failed",
        severity: key ? "error" : "warning",
        subject: `${a.name} ${a.type}`,
        message: `the lookup of ${a.type} ${a.name} failed (${a.error ?? a.rcode}); rules that need it could not judge it`,
        evidence: [describeAnswer(a)],
        fix: "check that the resolver (--resolver) answers and that the domain's name servers are reachable; then lint again",
        rfc: "RFC 1035 §4.1.1",
      }),
    );
  }
  if (obs.budget.exhausted) {
    out.push(
      finding({
        id: "lint-incomplete",
        severity: "warning",
        subject: obs.domain,
        message: `the query budget of ${obs.budget.limit} was used up; some lookups were not made and their rules are incomplete`,
        evidence: obs.queries.filter((a) => a.error?.startsWith("not asked")).slice(0, 5).map(describeAnswer),
        fix: "lint again with a larger --query-budget",
        rfc: "none (mailpool)",
      }),
    );
  }
  return out;
}
