import type { RRset } from "../providers/types.js";

/**
 * The ownership marker: a TXT RRset at `_mailpool.<pool name>` whose value names the controller
 * that manages the pool's A/AAAA RRsets. mailpool changes nothing at a name without its marker.
 */
export const markerName = (poolName: string): string => `_mailpool.${poolName}`;

export const markerValue = (controllerId: string): string => `mailpool owner=${controllerId}`;

/** The controller id a marker RRset names, or undefined when it is not a mailpool marker. */
export function markerOwner(rrset: RRset | undefined): string | undefined {
  if (!rrset) return undefined;
  for (const v of rrset.values) {
    const m = /^mailpool owner=(\S+)$/.exec(v.trim());
    if (m) return m[1];
  }
  return undefined;
}

/** The comment Cloudflare records carry, naming their manager. */
export const recordComment = (controllerId: string): string =>
  `managed by mailpool (owner=${controllerId})`;
