/** Pools and the names mail really uses: pools nothing reaches, MX hosts no pool protects. */
import { cnameChain, describeAnswer, isAddressLiteral, mxRecords, srvRecords, SERVICE_LABELS } from "../answers.js";
import { isInZone } from "../../util/names.js";
import type { Finding, Observations } from "../types.js";
import { finding } from "./finding.js";

export function coverageRules(obs: Observations): Finding[] {
  if (obs.pools === undefined) return [];
  const pools = new Set(obs.pools.map((p) => p.name));
  const exchanges = mxRecords(obs).map((r) => r.exchange).filter((e) => e !== "" && !isAddressLiteral(e));
  const entry = [
    ...exchanges,
    ...SERVICE_LABELS.map((l) => `${l}.${obs.domain}`),
    ...Object.values(obs.srv).flatMap((a) => srvRecords(a).map((s) => s.target)).filter((t) => t !== ""),
  ];
  // A name is reached when it is an MX/service/SRV name or at the end of one's CNAME chain.
  const reached = new Set(entry.flatMap((n) => (obs.hosts[n] ? cnameChain(obs.hosts[n]) : [n])));
  const out: Finding[] = [];
  for (const pool of [...pools].sort()) {
    if (reached.has(pool)) continue;
    out.push(
      finding({
        id: "pool-unreached",
        severity: "warning",
        subject: pool,
        message: `mailpool keeps ${pool} true, but no MX, client service name (${SERVICE_LABELS.join(", ")}) or RFC 6186 SRV record of ${obs.domain} leads to it: nobody uses the pool`,
        evidence: [describeAnswer(obs.mx), ...Object.values(obs.srv).map(describeAnswer)],
        fix: `point the MX or a service name at ${pool} (a CNAME from smtp.${obs.domain}, say), or remove the pool from the config`,
        rfc: "RFC 5321 §5.1, RFC 6186 §3",
      }),
    );
  }
  for (const exchange of [...new Set(exchanges)]) {
    if (!isInZone(exchange, obs.domain)) continue;
    const chain = obs.hosts[exchange] ? cnameChain(obs.hosts[exchange]) : [exchange];
    if (chain.some((n) => pools.has(n))) continue;
    out.push(
      finding({
        id: "mx-unprotected",
        severity: "info",
        subject: exchange,
        message: `the MX host ${exchange} is in ${obs.domain} but no pool of the config keeps its addresses true: a dead member stays in its DNS`,
        evidence: [describeAnswer(obs.mx)],
        fix: `add a pool named ${exchange} to the config (its members are the addresses it has now)`,
        rfc: "none (mailpool)",
      }),
    );
  }
  return out;
}
