import { describe, expect, it } from "vitest";
import { costOf, ROUTE53_LIMITS, splitIntoBatches, type ChangeUnit } from "../../../providers/route53/batches.js";
import type { Change } from "../../../providers/route53/route53-api.js";
import { ProviderError } from "../../../providers/types.js";

const rrset = (action: "CREATE" | "DELETE" | "UPSERT", name: string, values: string[]): Change => ({
  Action: action,
  ResourceRecordSet: { Name: name, Type: "A", TTL: 300, ResourceRecords: values.map((Value) => ({ Value })) },
});
const addresses = (n: number, prefix = "192.0.2.") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
/** One RRset's DELETE + CREATE, as the provider builds it. */
const unit = (i: number, values: string[]): ChangeUnit<number> => ({
  tag: i,
  changes: [rrset("DELETE", `p${i}.example.com.`, values), rrset("CREATE", `p${i}.example.com.`, values.slice(1))],
});

describe("costOf", () => {
  it("counts ResourceRecord elements and Value characters, UPSERT twice", () => {
    expect(costOf([rrset("CREATE", "a.", ["192.0.2.1", "192.0.2.22"])])).toEqual({ resourceRecords: 2, valueCharacters: 19, changes: 1 });
    expect(costOf([rrset("UPSERT", "a.", ["192.0.2.1", "192.0.2.22"])])).toEqual({ resourceRecords: 4, valueCharacters: 38, changes: 1 });
  });
});

describe("splitIntoBatches", () => {
  it("keeps everything in one batch when it fits", () => {
    const units = [unit(0, addresses(3)), unit(1, addresses(3))];
    expect(splitIntoBatches(units)).toHaveLength(1);
  });

  it("splits at 1,000 ResourceRecord elements without separating a DELETE from its CREATE", () => {
    // 30 units × (20 + 19) records = 1,170 > 1,000.
    const units = Array.from({ length: 30 }, (_, i) => unit(i, addresses(20)));
    const batches = splitIntoBatches(units);
    expect(batches.length).toBe(2);
    for (const b of batches) expect(costOf(b.flatMap((u) => u.changes)).resourceRecords).toBeLessThanOrEqual(1000);
    expect(batches.flat().map((u) => u.tag)).toEqual(units.map((u) => u.tag));
    for (const b of batches) for (const u of b) expect(u.changes.map((c) => c.Action)).toEqual(["DELETE", "CREATE"]);
  });

  it("splits at 32,000 Value characters before the record limit is reached", () => {
    const long = (i: number) => Array.from({ length: 20 }, (_, k) => `2001:db8:1234:5678:9abc:def0:${(1000 + i).toString(16)}:${(1000 + k).toString(16)}`);
    const units = Array.from({ length: 24 }, (_, i) => unit(i, long(i)));
    const total = costOf(units.flatMap((u) => u.changes));
    expect(total.resourceRecords).toBeLessThan(1000);
    expect(total.valueCharacters).toBeGreaterThan(32_000);
    const batches = splitIntoBatches(units);
    expect(batches.length).toBe(2);
    for (const b of batches) expect(costOf(b.flatMap((u) => u.changes)).valueCharacters).toBeLessThanOrEqual(32_000);
  });

  it("respects the Change element limit", () => {
    const units = Array.from({ length: 6 }, (_, i) => unit(i, addresses(2)));
    const batches = splitIntoBatches(units, { ...ROUTE53_LIMITS, changes: 4 });
    expect(batches.map((b) => b.length)).toEqual([2, 2, 2]);
  });

  it("refuses a unit that alone exceeds the limits, naming it", () => {
    const big: ChangeUnit<string> = { tag: "big.example.com A", changes: [rrset("UPSERT", "big.", addresses(501, "10.0."))] };
    expect(() => splitIntoBatches([big], ROUTE53_LIMITS, (t) => t)).toThrow(ProviderError);
    expect(() => splitIntoBatches([big], ROUTE53_LIMITS, (t) => t)).toThrow(/big\.example\.com A needs 1002 ResourceRecord elements/);
  });
});
