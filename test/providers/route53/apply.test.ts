import { afterEach, describe, expect, it } from "vitest";
import { ConflictError, ProviderError, type Provider, type RRset, type RRsetChange, type RRsetKey } from "../../../providers/types.js";
import { signal, startRig, type Rig } from "./harness.js";

const SMTP = "smtp.example.com";
const A: RRsetKey = { name: SMTP, type: "A" };
const MARKER: RRsetKey = { name: `_mailpool.${SMTP}`, type: "TXT" };

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

async function readOne(p: Provider, key: RRsetKey): Promise<RRset | null> {
  return (await p.read([key], signal())).find((r) => r.type === key.type) ?? null;
}
const change = (key: RRsetKey, before: RRset | null, after: RRsetChange["after"], pool = SMTP): RRsetChange => ({ key, before, after, pool });
const posts = () => rig.fake.requests("ChangeResourceRecordSets");
const mvSet = (value: string, extra: { ttl?: number; healthCheckId?: string; id?: string } = {}) => ({
  name: `${SMTP}.`,
  type: "A",
  ttl: extra.ttl ?? 300,
  values: [value],
  setIdentifier: extra.id ?? `mailpool-${value}`,
  multiValueAnswer: true,
  ...(extra.healthCheckId === undefined ? {} : { healthCheckId: extra.healthCheckId }),
});

describe("Route 53 provider: simple style writes", () => {
  it("replaces an RRset by a DELETE of exactly what was read plus a CREATE, in one batch", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11"] });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    const before = await readOne(p, A);
    const result = await p.apply([change(A, before, { ttl: 600, values: ["192.0.2.10", "192.0.2.12"] })], signal());
    expect(result.applied).toBe(1);
    expect(result.notes).toEqual([expect.stringMatching(/^change C\w+ PENDING \(1 RRset change\(s\), 2 record set change\(s\) in zone Z\w+\)$/)]);
    expect(posts()).toHaveLength(1);
    expect(posts()[0]?.changes).toEqual([
      { action: "DELETE", name: `${SMTP}.`, type: "A", values: ["192.0.2.10", "192.0.2.11"] },
      { action: "CREATE", name: `${SMTP}.`, type: "A", values: ["192.0.2.10", "192.0.2.12"] },
    ]);
    expect(rig.fake.find(rig.zoneId, SMTP, "A")).toEqual([{ name: `${SMTP}.`, type: "A", ttl: 600, values: ["192.0.2.10", "192.0.2.12"] }]);
  });

  it("creates a new RRset with a CREATE alone and deletes one with a DELETE alone", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "AAAA", ttl: 300, values: ["2001:db8::1"] });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    const aaaa = await readOne(p, { name: SMTP, type: "AAAA" });
    await p.apply(
      [change(A, null, { ttl: 300, values: ["192.0.2.10"] }), change({ name: SMTP, type: "AAAA" }, aaaa, null)],
      signal(),
    );
    expect(posts()[0]?.changes?.map((c) => `${c.action} ${c.type}`)).toEqual(["CREATE A", "DELETE AAAA"]);
    expect(rig.fake.find(rig.zoneId, SMTP, "AAAA")).toEqual([]);
    expect(rig.fake.find(rig.zoneId, SMTP, "A")[0]?.values).toEqual(["192.0.2.10"]);
  });

  it("writes the ownership marker in the same batch, quoted as Route 53 requires", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11"] });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    const before = await readOne(p, A);
    await p.apply(
      [change(A, before, { ttl: 300, values: ["192.0.2.10"] }), change(MARKER, null, { ttl: 300, values: ["mailpool owner=ctl-test"] })],
      signal(),
    );
    expect(posts()).toHaveLength(1);
    expect(posts()[0]?.changes?.at(-1)).toEqual({ action: "CREATE", name: `_mailpool.${SMTP}.`, type: "TXT", values: ['"mailpool owner=ctl-test"'] });
    expect((await readOne(p, MARKER))?.values).toEqual(["mailpool owner=ctl-test"]);
  });

  it("sends nothing when the live RRset already is what the change asks for", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.10"] });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    const before = await readOne(p, A);
    const result = await p.apply([change(A, before, { ttl: 300, values: ["192.0.2.10"] })], signal());
    expect(result.applied).toBe(0);
    expect(posts()).toHaveLength(0);
  });
});

describe("Route 53 provider: multivalue style writes", () => {
  it("touches only the members that change; an unchanged set keeps its health check", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, mvSet("192.0.2.10", { healthCheckId: "hc-10" }));
    rig.fake.put(rig.zoneId, mvSet("192.0.2.11"));
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "multivalue" }]);
    const before = await readOne(p, A);
    await p.apply([change(A, before, { ttl: 300, values: ["192.0.2.10", "192.0.2.12"] })], signal());
    expect(posts()[0]?.changes).toEqual([
      { action: "DELETE", name: `${SMTP}.`, type: "A", values: ["192.0.2.11"], setIdentifier: "mailpool-192.0.2.11" },
      { action: "CREATE", name: `${SMTP}.`, type: "A", values: ["192.0.2.12"], setIdentifier: "mailpool-192.0.2.12" },
    ]);
    expect(rig.fake.find(rig.zoneId, SMTP, "A")).toEqual([
      { ...mvSet("192.0.2.10", { healthCheckId: "hc-10" }) },
      { ...mvSet("192.0.2.12") },
    ]);
  });

  it("rewrites every set on a TTL change, keeping SetIdentifier and HealthCheckId", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, mvSet("192.0.2.10", { healthCheckId: "hc-10", id: "hand-made" }));
    rig.fake.put(rig.zoneId, mvSet("192.0.2.11"));
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "multivalue" }]);
    const before = await readOne(p, A);
    await p.apply([change(A, before, { ttl: 900, values: ["192.0.2.10", "192.0.2.11"] })], signal());
    expect(posts()[0]?.changes?.map((c) => `${c.action} ${c.setIdentifier}`)).toEqual([
      "DELETE hand-made",
      "DELETE mailpool-192.0.2.11",
      "CREATE hand-made",
      "CREATE mailpool-192.0.2.11",
    ]);
    expect(rig.fake.find(rig.zoneId, SMTP, "A")).toEqual([
      mvSet("192.0.2.10", { healthCheckId: "hc-10", id: "hand-made", ttl: 900 }),
      mvSet("192.0.2.11", { ttl: 900 }),
    ]);
  });

  it("switches a simple RRset to multivalue sets in one batch (DELETE first), with sanitised IPv6 identifiers", async () => {
    rig = await startRig();
    const AAAA: RRsetKey = { name: SMTP, type: "AAAA" };
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "AAAA", ttl: 300, values: ["2001:db8::1", "2001:db8::2"] });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "multivalue" }]);
    const before = await readOne(p, AAAA);
    expect(before?.drift).toHaveLength(1);
    await p.apply([change(AAAA, before, { ttl: 300, values: before!.values })], signal());
    expect(posts()).toHaveLength(1);
    expect(rig.fake.find(rig.zoneId, SMTP, "AAAA").map((s) => [s.setIdentifier, s.values, s.multiValueAnswer])).toEqual([
      ["mailpool-2001-db8--1", ["2001:db8::1"], true],
      ["mailpool-2001-db8--2", ["2001:db8::2"], true],
    ]);
    const again = await readOne(p, AAAA);
    expect(again?.drift).toBeUndefined();
  });

  it("warns that Route 53 answers at most 8 multivalue records", async () => {
    rig = await startRig();
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "multivalue" }]);
    const values = Array.from({ length: 9 }, (_, i) => `192.0.2.${i + 1}`);
    await p.apply([change(A, null, { ttl: 300, values })], signal());
    expect(rig.fake.find(rig.zoneId, SMTP, "A")).toHaveLength(9);
    expect(rig.logger.lines.filter((l) => l.level === "warn").map((l) => l.msg)).toEqual([
      "Route 53 answers at most 8 multivalue answer records per query; resolvers see a subset",
    ]);
  });
});

describe("Route 53 provider: compare-and-swap conflicts", () => {
  it("throws ConflictError and writes nothing when the RRset changed after the read", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11"] });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    const before = await readOne(p, A);
    // Someone else adds an address between our read and our write.
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11", "192.0.2.99"] });
    const err = await p
      .apply([change(A, before, { ttl: 300, values: ["192.0.2.10"] }), change(MARKER, null, { ttl: 300, values: ["mailpool owner=ctl-test"] })], signal())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/do not match the current values/);
    expect((err as ConflictError).key).toEqual(A);
    expect(rig.fake.find(rig.zoneId, SMTP, "A")[0]?.values).toEqual(["192.0.2.10", "192.0.2.11", "192.0.2.99"]);
    expect(rig.fake.find(rig.zoneId, MARKER.name, "TXT")).toEqual([]);
  });

  it("throws ConflictError when an RRset it creates appeared meanwhile, or one it deletes vanished", async () => {
    rig = await startRig();
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.50"] });
    await expect(p.apply([change(A, null, { ttl: 300, values: ["192.0.2.10"] })], signal())).rejects.toThrow(/but it already exists/);
    const before = await readOne(p, A);
    rig.fake.remove(rig.zoneId, SMTP, "A");
    const err = await p.apply([change(A, before, null)], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/but it was not found/);
  });

  it("recognises the legacy InvalidChangeBatch answer as a conflict too", async () => {
    rig = await startRig({ invalidChangeBatchStyle: "legacy" });
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    rig.fake.put(rig.zoneId, { name: `${SMTP}.`, type: "A", ttl: 300, values: ["192.0.2.50"] });
    await expect(p.apply([change(A, null, { ttl: 300, values: ["192.0.2.10"] })], signal())).rejects.toBeInstanceOf(ConflictError);
  });

  it("refuses, without sending anything, an RRset too large for any one request", async () => {
    rig = await startRig();
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    const huge = "y".repeat(33_000);
    const err = await p.apply([change(MARKER, null, { ttl: 300, values: [huge] })], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).transient).toBe(false);
    expect((err as Error).message).toMatch(/_mailpool\.smtp\.example\.com TXT needs 1 ResourceRecord elements, 33\d{3} value characters/);
    expect(posts()).toHaveLength(0);
  });
});

describe("Route 53 provider: batch limits", () => {
  const pools = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `p${i}.example.com`, recordStyle: "simple" as const }));

  async function seedAndChange(n: number, values: (i: number) => string[]): Promise<{ p: Provider; changes: RRsetChange[] }> {
    for (let i = 0; i < n; i++) rig.fake.put(rig.zoneId, { name: `p${i}.example.com.`, type: "A", ttl: 300, values: values(i) });
    const p = await rig.provider({}, pools(n));
    const read = await p.read(pools(n).map((pool) => ({ name: pool.name, type: "A" as const })), signal());
    const changes = read.map((r) => change({ name: r.name, type: "A" }, r, { ttl: 600, values: r.values.slice(1) }, r.name));
    return { p, changes };
  }

  function expectPairsTogether(): void {
    for (const post of posts()) {
      const deleted = post.changes!.filter((c) => c.action === "DELETE").map((c) => c.name);
      const created = post.changes!.filter((c) => c.action === "CREATE").map((c) => c.name);
      expect(created).toEqual(deleted);
    }
  }

  it("splits at 1,000 ResourceRecord elements, each RRset's DELETE and CREATE in the same request", async () => {
    rig = await startRig();
    const ipv4 = (i: number) => Array.from({ length: 20 }, (_, k) => `10.${i}.0.${k}`);
    const { p, changes } = await seedAndChange(30, ipv4);
    const result = await p.apply(changes, signal());
    expect(result.applied).toBe(30);
    expect(posts().map((r) => r.status)).toEqual([200, 200]);
    expect(result.notes).toEqual([expect.stringMatching(/^batch 1\/2: change C\w+ PENDING/), expect.stringMatching(/^batch 2\/2: change C\w+ PENDING/)]);
    expectPairsTogether();
    for (let i = 0; i < 30; i++) expect(rig.fake.find(rig.zoneId, `p${i}.example.com`, "A")[0]?.ttl).toBe(600);
  });

  it("splits at 32,000 value characters", async () => {
    rig = await startRig();
    const ipv6 = (i: number) => Array.from({ length: 20 }, (_, k) => `2001:db8:1234:5678:9abc:def0:${(4096 + i).toString(16)}:${(4096 + k).toString(16)}`);
    for (let i = 0; i < 24; i++) rig.fake.put(rig.zoneId, { name: `p${i}.example.com.`, type: "AAAA", ttl: 300, values: ipv6(i) });
    const p = await rig.provider({}, pools(24));
    const read = await p.read(pools(24).map((pool) => ({ name: pool.name, type: "AAAA" as const })), signal());
    const changes = read.map((r) => change({ name: r.name, type: "AAAA" }, r, { ttl: 600, values: r.values.slice(1) }, r.name));
    const result = await p.apply(changes, signal());
    expect(result.applied).toBe(24);
    expect(posts().map((r) => r.status)).toEqual([200, 200]);
    for (const post of posts()) {
      const chars = post.changes!.flatMap((c) => c.values).join("").length;
      expect(chars).toBeLessThanOrEqual(32_000);
    }
    expectPairsTogether();
  });

  it("reports that earlier batches were applied when a later one fails", async () => {
    rig = await startRig();
    const ipv4 = (i: number) => Array.from({ length: 20 }, (_, k) => `10.${i}.0.${k}`);
    const { p, changes } = await seedAndChange(30, ipv4);
    // A concurrent writer edits p29 (in the second batch) right before the second POST.
    rig.fake.onRequest((info) => {
      if (info.action === "ChangeResourceRecordSets" && posts().length === 2) {
        rig.fake.put(rig.zoneId, { name: "p29.example.com.", type: "A", ttl: 300, values: ["198.51.100.1"] });
      }
    });
    const err = await p.apply(changes, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/batch 2\/2 .*the 1 batch\(es\) before it were applied/);
    expect(rig.fake.find(rig.zoneId, "p0.example.com", "A")[0]?.ttl).toBe(600);
    expect(rig.fake.find(rig.zoneId, "p29.example.com", "A")[0]?.values).toEqual(["198.51.100.1"]);
  });
});

describe("Route 53 provider: waiting for INSYNC", () => {
  /** A clock that only moves when the provider sleeps. */
  function fakeClock() {
    let now = 0;
    return { now: () => now, sleep: async (ms: number) => void (now += ms) };
  }

  it("polls GetChange until INSYNC and says how long it took", async () => {
    rig = await startRig({ insyncAfterPolls: 2 });
    const clock = fakeClock();
    const p = await rig.provider({ waitForSync: { enabled: true, pollSeconds: 2, timeoutSeconds: 60 } }, [{ name: SMTP, recordStyle: "simple" }], clock);
    const result = await p.apply([change(A, null, { ttl: 300, values: ["192.0.2.10"] })], signal());
    expect(result.notes[1]).toMatch(/^change C\w+ INSYNC after 4\.0 s$/);
    expect(rig.fake.requests("GetChange")).toHaveLength(3);
  });

  it("gives up at the timeout and reports the change still PENDING", async () => {
    rig = await startRig({ insyncAfterPolls: 1_000_000 });
    const clock = fakeClock();
    const p = await rig.provider({ waitForSync: { enabled: true, pollSeconds: 2, timeoutSeconds: 60 } }, [{ name: SMTP, recordStyle: "simple" }], clock);
    const result = await p.apply([change(A, null, { ttl: 300, values: ["192.0.2.10"] })], signal());
    expect(result.notes[1]).toMatch(/^change C\w+ still PENDING after 60 s$/);
    expect(rig.fake.requests("GetChange")).toHaveLength(31);
  });

  it("does not poll when waitForSync is off", async () => {
    rig = await startRig();
    const p = await rig.provider({}, [{ name: SMTP, recordStyle: "simple" }]);
    await p.apply([change(A, null, { ttl: 300, values: ["192.0.2.10"] })], signal());
    expect(rig.fake.requests("GetChange")).toHaveLength(0);
  });
});
