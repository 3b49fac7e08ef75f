/**
 * Packs the changes of one cycle into as few ChangeResourceRecordSets requests as Route 53's
 * limits allow (DNSLimitations.md, "Number of elements and characters in ChangeResourceRecordSets
 * requests"): at most 1,000 ResourceRecord elements and 32,000 characters in all Value elements
 * per request, UPSERT counting twice; and at most 1,000 Change elements. One RRset's DELETE and
 * CREATE are a unit that is never split across requests. Pure.
 */
import { ProviderError } from "../types.js";
import type { Change } from "./route53-api.js";

export interface BatchLimits {
  readonly resourceRecords: number;
  readonly valueCharacters: number;
  readonly changes: number;
}

export const ROUTE53_LIMITS: BatchLimits = { resourceRecords: 1000, valueCharacters: 32_000, changes: 1000 };

/** What one request's worth of changes costs against the limits. */
export function costOf(changes: readonly Change[]): { resourceRecords: number; valueCharacters: number; changes: number } {
  let resourceRecords = 0;
  let valueCharacters = 0;
  for (const c of changes) {
    const factor = c.Action === "UPSERT" ? 2 : 1;
    const records = c.ResourceRecordSet?.ResourceRecords ?? [];
    resourceRecords += records.length * factor;
    valueCharacters += records.reduce((n, r) => n + (r.Value ?? "").length, 0) * factor;
  }
  return { resourceRecords, valueCharacters, changes: changes.length };
}

/** A group of changes that must land in the same request, tagged with what it is for. */
export interface ChangeUnit<T> {
  readonly tag: T;
  readonly changes: readonly Change[];
}

/**
 * Splits units into batches in order, each within `limits`. A unit that alone exceeds the limits
 * cannot be sent at all: a non-transient ProviderError says which.
 */
export function splitIntoBatches<T>(
  units: readonly ChangeUnit<T>[],
  limits: BatchLimits = ROUTE53_LIMITS,
  describe: (tag: T) => string = String,
): ChangeUnit<T>[][] {
  const batches: ChangeUnit<T>[][] = [];
  let current: ChangeUnit<T>[] = [];
  let used = { resourceRecords: 0, valueCharacters: 0, changes: 0 };
  for (const unit of units) {
    const cost = costOf(unit.changes);
    if (cost.resourceRecords > limits.resourceRecords || cost.valueCharacters > limits.valueCharacters || cost.changes > limits.changes) {
      throw new ProviderError(
        `${describe(unit.tag)} needs ${cost.resourceRecords} ResourceRecord elements, ${cost.valueCharacters} value characters and ${cost.changes} changes in one request; Route 53 allows ${limits.resourceRecords}, ${limits.valueCharacters} and ${limits.changes}`,
        { transient: false },
      );
    }
    const fits =
      used.resourceRecords + cost.resourceRecords <= limits.resourceRecords &&
      used.valueCharacters + cost.valueCharacters <= limits.valueCharacters &&
      used.changes + cost.changes <= limits.changes;
    if (!fits && current.length > 0) {
      batches.push(current);
      current = [];
      used = { resourceRecords: 0, valueCharacters: 0, changes: 0 };
    }
    current.push(unit);
    used = {
      resourceRecords: used.resourceRecords + cost.resourceRecords,
      valueCharacters: used.valueCharacters + cost.valueCharacters,
      changes: used.changes + cost.changes,
    };
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
