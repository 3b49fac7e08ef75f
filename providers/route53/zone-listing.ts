/**
 * Reading many pools from one hosted zone (issue 10). Listing name by name costs one
 * ListResourceRecordSets request per pool (its `_mailpool.` marker usually comes on the same
 * page), so 100 pools in a zone were 100 requests per cycle — 20 s of the account's 5 requests
 * per second. Listing the whole zone costs one request per 300 record sets however many pools
 * it holds. This module lists a whole zone, and decides which way is cheaper: by name while the
 * pools are few (a big zone with two pools is not paged through), the whole zone once they
 * outnumber the pages the zone's last full listing took (before any listing: more than
 * FEW_POOLS pools).
 */
import { ZoneListingChoice } from "../zone-listing-choice.js";

import { toProviderError } from "./errors.js";
import type { ResourceRecordSet, Route53Api } from "./route53-api.js";
import { fromRoute53Name } from "./wire-format.js";

/** Up to this many pool names, a zone is read name by name until its size is known. */
export const FEW_POOLS = 3;
/** A whole-zone listing longer than this is refused (300 × 2000 = 600,000 record sets). */
export const MAX_ZONE_PAGES = 2000;

/** The names that start a listing of their own: those not below another wanted name. */
export function topNames(names: readonly string[]): string[] {
  const set = new Set(names);
  return names.filter((n) => {
    for (let i = n.indexOf("."); i !== -1; i = n.indexOf(".", i + 1)) if (set.has(n.slice(i + 1))) return false;
    return true;
  });
}

/** The by-name/whole-zone rule, with this provider's threshold. */
export const zoneListingChoice = (): ZoneListingChoice => new ZoneListingChoice(FEW_POOLS);

/**
 * Every record set of the zone, grouped by (normalised) name, for the names asked about (names
 * with no record sets map to []). Pages until the listing ends; no assumption on its order.
 */
export async function listWholeZone(
  api: Route53Api,
  zoneId: string,
  names: readonly string[],
  pageSize: number,
  signal: AbortSignal,
): Promise<{ sets: Map<string, ResourceRecordSet[]>; pages: number }> {
  const sets = new Map<string, ResourceRecordSet[]>(names.map((n) => [n, []]));
  let start: { StartRecordName?: string; StartRecordType?: ResourceRecordSet["Type"]; StartRecordIdentifier?: string } = {};
  for (let page = 1; page <= MAX_ZONE_PAGES; page++) {
    let res;
    try {
      res = await api.listResourceRecordSets({ HostedZoneId: zoneId, MaxItems: pageSize, ...start }, signal);
    } catch (e) {
      throw toProviderError(e, `ListResourceRecordSets (whole zone, page ${page}) in zone ${zoneId}`);
    }
    for (const s of res.ResourceRecordSets ?? []) {
      const list = sets.get(fromRoute53Name(s.Name ?? ""));
      if (list) list.push(s);
    }
    if (!res.IsTruncated || res.NextRecordName === undefined) return { sets, pages: page };
    start = {
      StartRecordName: res.NextRecordName,
      ...(res.NextRecordType === undefined ? {} : { StartRecordType: res.NextRecordType }),
      ...(res.NextRecordIdentifier === undefined ? {} : { StartRecordIdentifier: res.NextRecordIdentifier }),
    };
  }
  throw toProviderError(new Error(`more than ${MAX_ZONE_PAGES} pages of record sets in the zone`), `ListResourceRecordSets in zone ${zoneId}`);
}
