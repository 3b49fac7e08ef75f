import { afterEach, describe, expect, it } from "vitest";
import type { RRset, RRsetKey } from "../../../providers/types.js";
import { FEW_POOLS, topNames } from "../../../providers/route53/zone-listing.js";
import { signal, startRig, type Rig } from "./harness.js";

const poolName = (i: number) => `p${i}.example.com`;
const keysOf = (name: string): RRsetKey[] => [
  { name, type: "A" },
  { name, type: "AAAA" },
  { name: `_mailpool.${name}`, type: "TXT" },
];
/** What a read returned, in a comparable form (native data left out: it holds the listing order). */
const plain = (sets: readonly RRset[]) =>
  sets.map((s) => ({ name: s.name, type: s.type, ttl: s.ttl, values: [...s.values].sort() })).sort((a, b) => `${a.name} ${a.type}`.localeCompare(`${b.name} ${b.type}`));

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

/** `pools` pools with A and marker records, plus `others` unrelated record sets. */
async function zoneWith(pools: number, others: number): Promise<void> {
  rig = await startRig();
  for (let i = 0; i < pools; i++) {
    rig.fake.put(rig.zoneId, { name: `${poolName(i)}.`, type: "A", ttl: 300, values: [`192.0.2.${1 + (i % 200)}`, `198.51.100.${1 + (i % 200)}`] });
    rig.fake.put(rig.zoneId, { name: `_mailpool.${poolName(i)}.`, type: "TXT", ttl: 300, values: ['"mailpool owner=ctl-test"'] });
  }
  for (let i = 0; i < others; i++) rig.fake.put(rig.zoneId, { name: `host${i}.example.com.`, type: "A", ttl: 3600, values: ["203.0.113.9"] });
}

describe("Route 53 provider: reading many pools lists the zone once", () => {
  it("reads 100 pools with one ListResourceRecordSets request per cycle, the same RRsets as name by name", async () => {
    await zoneWith(100, 20);
    const names = Array.from({ length: 100 }, (_, i) => poolName(i));
    const many = await rig.provider();
    const first = await many.read(names.flatMap(keysOf), signal());
    expect(rig.fake.requests("ListResourceRecordSets")).toHaveLength(1);
    await many.read(names.flatMap(keysOf), signal());
    expect(rig.fake.requests("ListResourceRecordSets")).toHaveLength(2);
    expect(first).toHaveLength(200);

    // The same RRsets as reading each pool on its own.
    const byName: RRset[] = [];
    const one = await rig.provider();
    for (const name of names) byName.push(...(await one.read(keysOf(name), signal())));
    expect(plain(first)).toEqual(plain(byName));
  });

  it("pages through a zone larger than one page (small pages), missing nothing", async () => {
    await zoneWith(40, 30);
    const names = Array.from({ length: 40 }, (_, i) => poolName(i));
    const provider = await rig.provider({}, [], { pageSize: 25 });
    const sets = await provider.read([...names.flatMap(keysOf), ...keysOf("absent.example.com")], signal());
    // 40 × 2 + 30 + SOA + NS = 112 record sets: 5 pages of 25.
    expect(rig.fake.requests("ListResourceRecordSets")).toHaveLength(5);
    expect(sets).toHaveLength(80);
    expect(sets.find((s) => s.name === "absent.example.com")).toBeUndefined();
  });

  it("reads few pools name by name, without paging through a big zone", async () => {
    await zoneWith(FEW_POOLS, 900);
    const provider = await rig.provider({}, [], { pageSize: 100 });
    const names = Array.from({ length: FEW_POOLS }, (_, i) => poolName(i));
    const sets = await provider.read(names.flatMap(keysOf), signal());
    expect(rig.fake.requests("ListResourceRecordSets")).toHaveLength(FEW_POOLS);
    expect(sets).toHaveLength(2 * FEW_POOLS);
  });

  it("goes back to names one by one when the zone takes more pages than there are pools", async () => {
    await zoneWith(8, 900);
    const provider = await rig.provider({}, [], { pageSize: 100 });
    const names = Array.from({ length: 8 }, (_, i) => poolName(i));
    await provider.read(names.flatMap(keysOf), signal()); // first: the zone (10 pages), its size learned
    expect(rig.fake.requests("ListResourceRecordSets")).toHaveLength(10);
    const sets = await provider.read(names.flatMap(keysOf), signal());
    expect(rig.fake.requests("ListResourceRecordSets")).toHaveLength(18); // then 8, one per pool
    expect(sets).toHaveLength(16);
  });

  it("counts a marker below its pool as part of the pool's own listing", () => {
    expect(topNames(["a.example.com", "_mailpool.a.example.com", "b.example.com", "_mailpool.c.example.com"])).toEqual([
      "a.example.com",
      "b.example.com",
      "_mailpool.c.example.com",
    ]);
  });
});
