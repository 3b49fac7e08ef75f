/** TTLs of the MX hosts' and service names' A/AAAA records: 300–900 s, as the pools keep theirs. */
import { TTL_MAX, TTL_MIN } from "../../config/schema.js";
import { addressRecords, hostEvidence, mxRecords, SERVICE_LABELS } from "../answers.js";
import { isInZone } from "../../util/names.js";
import type { Finding, Observations } from "../types.js";
import { finding } from "./finding.js";

export function ttlRules(obs: Observations): Finding[] {
  const names = [...new Set([...mxRecords(obs).map((r) => r.exchange), ...SERVICE_LABELS.map((l) => `${l}.${obs.domain}`)])];
  const out: Finding[] = [];
  for (const name of names) {
    // Only the domain's own names: another operator's TTLs are theirs to choose.
    if (name === "" || !isInZone(name, obs.domain)) continue;
    const host = obs.hosts[name];
    if (!host) continue;
    const records = addressRecords(host).filter((r) => isInZone(r.name, obs.domain));
    const long = records.filter((r) => r.ttl > TTL_MAX);
    const short = records.filter((r) => r.ttl < TTL_MIN);
    if (long.length > 0) {
      out.push(
        finding({
          id: "ttl-too-long",
          severity: "warning",
          subject: name,
          message: `${name} has address records with TTL ${Math.max(...long.map((r) => r.ttl))} s, above ${TTL_MAX} s: after a failover, caches keep sending clients to the old address that long`,
          evidence: hostEvidence(host),
          fix: `set the TTL of ${name}'s A/AAAA records to ${TTL_MIN}–${TTL_MAX} s (the MX RRset itself may keep a long TTL)`,
          rfc: "RFC 1035 §3.2.1, RFC 1912 §2.2",
        }),
      );
    }
    if (short.length > 0) {
      out.push(
        finding({
          id: "ttl-too-short",
          severity: "warning",
          subject: name,
          message: `${name} has address records with TTL ${Math.min(...short.map((r) => r.ttl))} s, below ${TTL_MIN} s: caches barely help and every lookup goes to your name servers`,
          evidence: hostEvidence(host),
          fix: `set the TTL of ${name}'s A/AAAA records to ${TTL_MIN}–${TTL_MAX} s`,
          rfc: "RFC 1035 §3.2.1, RFC 1912 §2.2",
        }),
      );
    }
  }
  return out;
}
