import { afterEach, describe, expect, it } from "vitest";
import { ProviderConfigError, ProviderError, type RRsetKey } from "../../../providers/types.js";
import type { Route53Native } from "../../../providers/route53/record-sets.js";
import { signal, startRig, type Rig } from "./harness.js";

const SMTP = "smtp.example.com";
const keys = (name = SMTP): RRsetKey[] => [
  { name, type: "A" },
  { name, type: "AAAA" },
  { name: `_mailpool.${name}`, type: "TXT" },
];

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

describe("Route 53 provider: hosted zone", () => {
  it("uses hostedZoneId as given, with or without the /hostedzone/ prefix", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.10"] });
    const p = await rig.provider({ hostedZoneId: `/hostedzone/${rig.zoneId}` });
    const got = await p.read([{ name: SMTP, type: "A" }], signal());
    expect(got.map((r) => r.values)).toEqual([["192.0.2.10"]]);
    expect(rig.fake.requests("ListHostedZonesByName")).toHaveLength(0);
    expect(rig.fake.requests("ListResourceRecordSets")[0]?.path).toBe(`/2013-04-01/hostedzone/${rig.zoneId}/rrset`);
  });

  it("looks the zone up by name and picks the public or the private one", async () => {
    rig = await startRig({ zone: "example.org" });
    const pub = rig.fake.addZone("example.com", { id: "ZPUBLIC" });
    const priv = rig.fake.addZone("example.com.", { id: "ZPRIVATE", privateZone: true });
    rig.fake.addZone("sub.example.com", { id: "ZSUB" });
    rig.fake.put(pub.id, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.1"] });
    rig.fake.put(priv.id, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["10.0.0.1"] });

    const publicProvider = await rig.provider({ zoneName: "Example.COM." });
    expect((await publicProvider.read([{ name: SMTP, type: "A" }], signal()))[0]?.values).toEqual(["192.0.2.1"]);
    const privateProvider = await rig.provider({ zoneName: "example.com", privateZone: true });
    expect((await privateProvider.read([{ name: SMTP, type: "A" }], signal()))[0]?.values).toEqual(["10.0.0.1"]);

    const lookups = rig.fake.requests("ListHostedZonesByName");
    expect(lookups).toHaveLength(2);
    expect(lookups[0]?.query.dnsname).toBe("example.com.");
    // The zone is looked up once per provider, not once per read.
    await privateProvider.read([{ name: SMTP, type: "A" }], signal());
    expect(rig.fake.requests("ListHostedZonesByName")).toHaveLength(2);
  });

  it("follows ListHostedZonesByName pages while the name still matches", async () => {
    rig = await startRig({ zone: "example.org" });
    // 101 public zones named example.com and the private one last: a second page is needed.
    for (let i = 0; i < 101; i++) rig.fake.addZone("example.com", { id: `ZA${String(i).padStart(3, "0")}` });
    const priv = rig.fake.addZone("example.com", { id: "ZZPRIVATE", privateZone: true });
    rig.fake.put(priv.id, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["10.0.0.9"] });
    const p = await rig.provider({ zoneName: "example.com", privateZone: true });
    expect((await p.read([{ name: SMTP, type: "A" }], signal()))[0]?.values).toEqual(["10.0.0.9"]);
    const lookups = rig.fake.requests("ListHostedZonesByName");
    expect(lookups).toHaveLength(2);
    expect(lookups[1]?.query).toMatchObject({ dnsname: "example.com.", hostedzoneid: "ZA100" });
  });

  it("says which zones exist when the wanted kind is missing, and refuses an ambiguous name", async () => {
    rig = await startRig({ zone: "example.com" });
    const p = await rig.provider({ zoneName: "example.com", privateZone: true });
    const err = await p.read(keys(), signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderConfigError);
    expect((err as Error).message).toMatch(/no private hosted zone named example\.com; found Z\w+ \(public\) — set privateZone: false/);

    rig.fake.addZone("example.com", { id: "ZSECOND" });
    const q = await rig.provider({ zoneName: "example.com" });
    await expect(q.read(keys(), signal())).rejects.toThrow(/2 public hosted zones are named example\.com .*set hostedZoneId/);
  });

  it("refuses pools outside the zone it found by name", async () => {
    rig = await startRig({ zone: "example.com" });
    const p = await rig.provider({ zoneName: "example.com" }, [{ name: "smtp.example.net", recordStyle: "simple" }]);
    await expect(p.read(keys("smtp.example.net"), signal())).rejects.toThrow(/smtp\.example\.net are not inside hosted zone example\.com/);
  });

  it("reports an unknown hosted zone id as a config error", async () => {
    rig = await startRig();
    const p = await rig.provider({ hostedZoneId: "ZNOSUCH" });
    const err = await p.read(keys(), signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderConfigError);
    expect((err as Error).message).toMatch(/No hosted zone found with ID: ZNOSUCH/);
  });
});

describe("Route 53 provider: reading RRsets", () => {
  it("reads a simple RRset, the marker unquoted, and nothing for absent types", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.11", "192.0.2.10"] });
    rig.fake.put(rig.zoneId, { name: `_mailpool.${SMTP}.`, type: "TXT", ttl: 300, values: ['"mailpool owner=ctl-test"'] });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    const got = await p.read(keys(), signal());
    expect(got.map(({ name, type, ttl, values, drift }) => ({ name, type, ttl, values, drift }))).toEqual([
      { name: SMTP, type: "A", ttl: 300, values: ["192.0.2.11", "192.0.2.10"], drift: undefined },
      { name: `_mailpool.${SMTP}`, type: "TXT", ttl: 300, values: ["mailpool owner=ctl-test"], drift: undefined },
    ]);
    expect((got[0]?.native as Route53Native).sets).toEqual([
      { Name: `${SMTP}.`, Type: "A", TTL: 300, ResourceRecords: [{ Value: "192.0.2.11" }, { Value: "192.0.2.10" }] },
    ]);
  });

  it("decodes Route 53's \\052 escape and matches names case-insensitively", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: "*.MX.example.com", type: "A", ttl: 300, values: ["192.0.2.7"] });
    const p = await rig.provider();
    const got = await p.read([{ name: "*.mx.example.com", type: "A" }], signal());
    expect(got[0]?.name).toBe("*.mx.example.com");
    expect(got[0]?.values).toEqual(["192.0.2.7"]);
    // The listing started at the escaped name Route 53 returns and that it accepts back.
    expect(rig.fake.requests("ListResourceRecordSets")[0]?.query.name).toBe("*.mx.example.com.");
    expect(((got[0]?.native as Route53Native).sets[0]?.Name)).toBe("\\052.mx.example.com.");
  });

  it("reads multivalue record sets as one RRset: union of values, lowest TTL, each set's own TTL", async () => {
    rig = await startRig();
    const mv = (id: string, value: string, ttl = 300) =>
      rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl, values: [value], setIdentifier: id, multiValueAnswer: true });
    mv("mailpool-192.0.2.10", "192.0.2.10", 600);
    mv("mailpool-192.0.2.11", "192.0.2.11", 300);
    mv("hand-made", "192.0.2.12", 600);
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "AAAA", ttl: 300, values: ["2001:DB8::1"], setIdentifier: "v6", multiValueAnswer: true });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "multivalue" }]);
    const got = await p.read(keys(), signal());
    const a = got.find((r) => r.type === "A")!;
    expect([...a.values].sort()).toEqual(["192.0.2.10", "192.0.2.11", "192.0.2.12"]);
    expect(a.ttl).toBe(300);
    expect(a.drift).toBeUndefined();
    expect(a.records?.map((r) => [r.value, r.ttl]).sort()).toEqual([["192.0.2.10", 600], ["192.0.2.11", 300], ["192.0.2.12", 600]]);
    expect((a.native as Route53Native).sets.map((s) => s.SetIdentifier)).toEqual(["hand-made", "mailpool-192.0.2.10", "mailpool-192.0.2.11"]);
    const aaaa = got.find((r) => r.type === "AAAA")!;
    expect(aaaa.values).toEqual(["2001:db8::1"]);
    expect(aaaa.drift).toBeUndefined();
  });

  it("reports a record style that differs from the pool's as drift", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.10"] });
    rig.fake.put(rig.zoneId, { name: `mx.example.com.`, type: "A", ttl: 300, values: ["192.0.2.20"], setIdentifier: "x", multiValueAnswer: true });
    const p = await rig.provider({}, [
      { name: SMTP, recordStyle: "multivalue" },
      { name: "mx.example.com", recordStyle: "simple" },
    ]);
    const got = await p.read([{ name: SMTP, type: "A" }, { name: "mx.example.com", type: "A" }], signal());
    expect(got[0]?.drift).toEqual([`${SMTP} A is one simple record set but the pool's recordStyle is multivalue`]);
    expect(got[1]?.drift).toEqual(["mx.example.com A is 1 multivalue answer record set(s) but the pool's recordStyle is simple"]);
  });

  it("refuses to manage weighted or alias records at a pool name", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.10"], setIdentifier: "blue", weight: 10 });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    const err = await p.read(keys(), signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).transient).toBe(false);
    expect((err as Error).message).toMatch(/smtp\.example\.com A uses a routing policy other than simple or multivalue answer \(record set "blue"\)/);
  });

  it("reads only the names it needs: starts at the name and stops once past it", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.10"] });
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "MX", ttl: 300, values: ["10 mx.example.com."] });
    for (let i = 0; i < 700; i++) {
      rig.fake.put(rig.zoneId, { name: `host${i}.example.com.`, type: "A", ttl: 300, values: ["198.51.100.1"] });
      rig.fake.put(rig.zoneId, { name: `host${i}.${SMTP}.`, type: "A", ttl: 300, values: ["198.51.100.2"] });
    }
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    const got = await p.read(keys(), signal());
    expect(got.map((r) => `${r.name} ${r.type}`)).toEqual([`${SMTP} A`]);
    // One page per name even though the zone holds 1,400 more record sets after each name.
    expect(rig.fake.requests("ListResourceRecordSets").map((r) => r.query.name)).toEqual([`${SMTP}.`, `_mailpool.${SMTP}.`]);
  });

  it("reads a pool's name and its _mailpool marker, which sort next to each other, with one request", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.10"] });
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "AAAA", ttl: 300, values: ["2001:db8::10"] });
    rig.fake.put(rig.zoneId, { name: `_mailpool.${SMTP}.`, type: "TXT", ttl: 300, values: ['"mailpool owner=ctl-test"'] });
    rig.fake.put(rig.zoneId, { name: `a.${SMTP}.`, type: "A", ttl: 300, values: ["198.51.100.2"] });
    rig.fake.put(rig.zoneId, { name: `www.example.com.`, type: "A", ttl: 300, values: ["198.51.100.1"] });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    const got = await p.read(keys(), signal());
    expect(got.map((r) => `${r.name} ${r.type} ${r.values.join(",")}`)).toEqual([
      `${SMTP} A 192.0.2.10`,
      `${SMTP} AAAA 2001:db8::10`,
      `_mailpool.${SMTP} TXT mailpool owner=ctl-test`,
    ]);
    expect(rig.fake.requests("ListResourceRecordSets").map((r) => r.query.name)).toEqual([`${SMTP}.`]);
  });

  it("knows the marker absent when the listing passes the pool's subtree, still with one request", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.10"] });
    rig.fake.put(rig.zoneId, { name: `www.example.com.`, type: "A", ttl: 300, values: ["198.51.100.1"] });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    const got = await p.read(keys(), signal());
    expect(got.map((r) => `${r.name} ${r.type}`)).toEqual([`${SMTP} A`]);
    expect(rig.fake.requests("ListResourceRecordSets")).toHaveLength(1);
  });

  it("pages through more record sets at one name than fit in a page (NextRecordName/Type/Identifier)", async () => {
    rig = await startRig();
    for (let i = 0; i < 12; i++) {
      rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: [`192.0.2.${i}`], setIdentifier: `mailpool-192.0.2.${i}`, multiValueAnswer: true });
      rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "AAAA", ttl: 300, values: [`2001:db8::${i}`], setIdentifier: `v6-${i}`, multiValueAnswer: true });
    }
    rig.fake.put(rig.zoneId, { name: `zzz.${SMTP}.`, type: "A", ttl: 300, values: ["198.51.100.1"] });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "multivalue" }], { pageSize: 5 });
    const got = await p.read([{ name: SMTP, type: "A" }, { name: SMTP, type: "AAAA" }], signal());
    expect(got.find((r) => r.type === "A")?.values).toHaveLength(12);
    expect(got.find((r) => r.type === "AAAA")?.values).toHaveLength(12);
    const lists = rig.fake.requests("ListResourceRecordSets");
    expect(lists).toHaveLength(5);
    expect(lists[1]?.query).toMatchObject({ name: `${SMTP}.`, type: "A", maxitems: "5" });
    expect(lists.map((r) => r.query.type)).toEqual([undefined, "A", "A", "AAAA", "AAAA"]);
    expect(lists.slice(1).every((r) => r.query.identifier !== undefined)).toBe(true);
  });

  it("pages past the default MaxItems of 300", async () => {
    rig = await startRig();
    for (let i = 0; i < 320; i++) {
      rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: [`10.0.${i >> 8}.${i & 255}`], setIdentifier: `s${i}`, multiValueAnswer: true });
    }
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "multivalue" }]);
    const got = await p.read([{ name: SMTP, type: "A" }], signal());
    expect(got[0]?.values).toHaveLength(320);
    expect(rig.fake.requests("ListResourceRecordSets").map((r) => r.query.maxitems)).toEqual(["300", "300"]);
  });
});
