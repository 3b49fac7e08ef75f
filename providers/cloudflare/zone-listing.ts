/**
 * Reading many pools from one Cloudflare zone (issue 10). Listing by name and type costs one
 * GET per name and type — A, AAAA and the marker TXT of each pool — so 100 pools in a zone were
 * 300 requests a cycle, and 1,000 pools 250 % of a token's 1,200 requests per 5 minutes in every
 * cycle. Listing the zone's records of each type costs one GET per ZONE_PER_PAGE records of that
 * type however many pools there are. By name while the name/type pairs are few (a big zone with
 * one pool is not paged through); the zone once they outnumber the pages its last listing took
 * (before any listing: more than FEW_KEYS pairs, i.e. more than three pools).
 */
import { ZoneListingChoice } from "../zone-listing-choice.js";

export const FEW_KEYS = 9;
/** Records per page of a zone listing (the API allows up to 5,000,000; responses stay a few MB). */
export const ZONE_PER_PAGE = 5000;

/** The by-name/whole-zone rule, with this provider's threshold. */
export const zoneListingChoice = (): ZoneListingChoice => new ZoneListingChoice(FEW_KEYS);
