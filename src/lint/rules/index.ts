/** The rule registry: each group is a pure function of the observations; the order is the report's. */
import { severityRank, type Finding, type Observations, type Rule } from "../types.js";
import { coverageRules } from "./coverage.js";
import { fallbackRules } from "./fallback.js";
import { lookupRules } from "./lookups.js";
import { mxRules } from "./mx.js";
import { nameServerRules } from "./nameservers.js";
import { reverseRules } from "./reverse.js";
import { serviceRules } from "./services.js";
import { ttlRules } from "./ttl.js";

export const RULES: readonly Rule[] = [lookupRules, mxRules, fallbackRules, serviceRules, ttlRules, nameServerRules, coverageRules, reverseRules];

/** Every finding for one domain, most severe first, then by id and subject. */
export function lint(obs: Observations): Finding[] {
  return RULES.flatMap((rule) => rule(obs)).sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id) || a.subject.localeCompare(b.subject),
  );
}
