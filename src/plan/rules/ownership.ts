/**
 * ownership: mailpool changes nothing at a name whose `_mailpool.<name>` TXT marker does not
 * name this controller. First in the registry and never bypassed, not even by --force (the
 * `adopt` command is the explicit way to take a pool: src/plan/adopt.ts).
 */
import { markerName, markerOwner } from "../../ownership.js";
import type { PoolRule } from "./rule.js";

export const ownership = {
  name: "ownership",
  summary: "changes nothing at a name whose ownership marker does not name this controller",
  judges: "pool",
  bypass: "never",
  check({ pool, current, actions, ctx }) {
    const owner = markerOwner(current.marker);
    if (owner === ctx.controllerId) return undefined;
    const why =
      owner === undefined
        ? `no ownership marker at ${markerName(pool.name)} TXT; run \`mailpool adopt\` to let this controller (${ctx.controllerId}) manage it`
        : `${markerName(pool.name)} names controller ${owner}, not ${ctx.controllerId}`;
    return actions.length > 0 || owner !== undefined ? { why, alarm: `not managed by this controller: ${why}` } : { why };
  },
} as const satisfies PoolRule;
