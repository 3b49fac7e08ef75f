import { afterEach, describe, expect, it } from "vitest";
import type { RRset, RRsetKey } from "../../../providers/types.js";
import { FEW_KEYS, zoneListingChoice } from "../../../providers/cloudflare/zone-listing.js";
import { CONTROLLER, COMMENT, harness, signal, type Harness } from "./helpers.js";

const poolName = (i: number) => `p${i}.example.com`;
const keysOf = (name: string): RRsetKey[] => [
  { name, type: "A" },
  { name, type: "AAAA" },
  { name: `_mailpool.${name}`, type: "TXT" },
];
const plain = (sets: readonly RRset[]) =>
  sets.map((s) => ({ name: s.name, type: s.type, ttl: s.ttl, values: [...s.values].sort() })).sort((a, b) => `${a.name} ${a.type}`.localeCompare(`${b.name} ${b.type}`));

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.close();
  h = undefined;
});

/** `pools` pools (two A records and a marker each) and `others` unrelated A records. */
async function zoneWith(pools: number, others: number): Promise<Harness> {
  h = await harness();
  for (let i = 0; i < pools; i++) {
    for (const a of [`192.0.2.${1 + (i % 200)}`, `198.51.100.${1 + (i % 200)}`]) {
      h.fake.seed(h.zoneId, { name: poolName(i), type: "A", content: a, ttl: 300, comment: COMMENT });
    }
    h.fake.seed(h.zoneId, { name: `_mailpool.${poolName(i)}`, type: "TXT", content: `"mailpool owner=${CONTROLLER}"`, ttl: 300, comment: null });
  }
  for (let i = 0; i < others; i++) h.fake.seed(h.zoneId, { name: `host${i}.example.com`, type: "A", content: "203.0.113.9", ttl: 3600, comment: null });
  return h;
}
const gets = () => h!.fake.requests.filter((r) => r.method === "GET" && r.path.endsWith("/dns_records"));

describe("Cloudflare provider: reading many pools lists the zone by type", () => {
  it("reads 100 pools with one request per type (A, AAAA, TXT), the same RRsets as name by name", async () => {
    await zoneWith(100, 20);
    const names = Array.from({ length: 100 }, (_, i) => poolName(i));
    const many = await h!.provider();
    const first = await many.read(names.flatMap(keysOf), signal());
    expect(gets()).toHaveLength(3);
    expect(gets().every((r) => r.query["name.exact"] === undefined && r.query.name === undefined)).toBe(true);
    expect(first).toHaveLength(200);

    const byName: RRset[] = [];
    const one = await h!.provider({ requestsPer5Minutes: 1_000_000 });
    for (const name of names) byName.push(...(await one.read(keysOf(name), signal())));
    expect(gets()).toHaveLength(3 + 300);
    expect(plain(first)).toEqual(plain(byName));
  });

  it("pages through a type with more records than a page holds, and reads few pools name by name", async () => {
    await zoneWith(2, 30);
    const few = await h!.provider({}, { perPage: 5 });
    const sets = await few.read([poolName(0), poolName(1)].flatMap(keysOf), signal());
    expect(sets).toHaveLength(4);
    expect(gets()).toHaveLength(6); // 2 pools × 3 types, none paged (≤ FEW_KEYS pairs)
    expect(6).toBeLessThanOrEqual(FEW_KEYS);
  });

  it("keeps listing the zone by type while that takes fewer requests than the name/type pairs", async () => {
    // 4 pools = 12 pairs; 900 other A records: the zone's A listing alone is many pages of 5.
    await zoneWith(4, 900);
    const provider = await h!.provider({}, { perPage: 5 });
    const names = Array.from({ length: 4 }, (_, i) => poolName(i));
    const first = await provider.read(names.flatMap(keysOf), signal());
    const afterFirst = gets().length; // the zone listing (pages of 5000 records: one per type)
    expect(afterFirst).toBe(3);
    expect(first).toHaveLength(8);
    await provider.read(names.flatMap(keysOf), signal());
    expect(gets().length - afterFirst).toBe(3); // 3 pages < 12 pairs: still the zone
  });

  it("chooses names one by one when few, or when the zone's last listing took more pages than there are pairs", () => {
    const choice = zoneListingChoice();
    expect(choice.wholeZone(FEW_KEYS)).toBe(false);
    expect(choice.wholeZone(FEW_KEYS + 1)).toBe(true);
    choice.learned(20);
    expect(choice.wholeZone(12)).toBe(false);
    expect(choice.wholeZone(21)).toBe(true);
  });
});
