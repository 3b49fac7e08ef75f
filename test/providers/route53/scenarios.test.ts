/**
 * Whole read → plan → guard → apply rounds through the controller (reconcileProvider) against
 * the fake Route 53 server, with the real AWS SDK in between.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Provider } from "../../../providers/types.js";
import { reconcileProvider, type ReconcileOptions } from "../../../src/controller/reconcile.js";
import type { Health, HealthView, PoolSpec } from "../../../src/model.js";
import { signal, startRig, type Rig } from "./harness.js";

const NAME = "smtp.example.com";
const MARKER = `_mailpool.${NAME}.`;
const RETRY = { retries: 4, minTimeoutMs: 10, maxTimeoutMs: 50 };

function pool(recordStyle: PoolSpec["recordStyle"] = "simple", ttl = 300): PoolSpec {
  return {
    name: NAME,
    provider: "aws",
    ttl,
    checks: ["smtp"],
    rise: 1,
    fall: 1,
    confirmIntervalMs: 0,
    recordStyle,
    safety: { neverEmpty: true, minHealthy: 1, failOpen: true, maxRemovePercent: 50 },
    members: [
      { address: "192.0.2.10", label: "192.0.2.10" },
      { address: "192.0.2.11", label: "192.0.2.11", standby: "192.0.2.20" },
    ],
  };
}

/** Health from a table; addresses not listed are up. */
const health =
  (down: Record<string, Health> = {}): HealthView =>
  (_pool, address) => {
    const h = down[address] ?? "up";
    return { health: h, reason: h === "down" ? "timeout waiting for banner after 5000 ms" : "220 banner in 12 ms" };
  };

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

async function setup(recordStyle: PoolSpec["recordStyle"], live: string[], opts: { ttl?: number; marker?: boolean } = {}) {
  rig = await startRig();
  if (recordStyle === "simple") {
    rig.fake.put(rig.zoneId, { name: `${NAME}.`, type: "A", ttl: opts.ttl ?? 300, values: live });
  } else {
    for (const v of live) {
      rig.fake.put(rig.zoneId, { name: `${NAME}.`, type: "A", ttl: opts.ttl ?? 300, values: [v], setIdentifier: `mailpool-${v}`, multiValueAnswer: true });
    }
  }
  if (opts.marker !== false) rig.fake.put(rig.zoneId, { name: MARKER, type: "TXT", ttl: 300, values: ['"mailpool owner=ctl-test"'] });
  const spec = pool(recordStyle);
  const provider = await rig.provider({}, [{ name: NAME, recordStyle }]);
  return { spec, provider };
}

function reconcile(provider: Provider, spec: PoolSpec, view: HealthView, extra: Partial<ReconcileOptions> = {}) {
  return reconcileProvider({
    provider,
    providerName: "aws",
    pools: [spec],
    health: view,
    controllerId: "ctl-test",
    dryRun: false,
    signal: signal(),
    retry: RETRY,
    ...extra,
  });
}

const liveA = () => rig.fake.find(rig.zoneId, NAME, "A").flatMap((s) => s.values).sort();
const posts = () => rig.fake.requests("ChangeResourceRecordSets");

describe("scenarios: simple record style", () => {
  it("removes a dead member's address", async () => {
    const { spec, provider } = await setup("simple", ["192.0.2.10", "192.0.2.11"]);
    const result = await reconcile(provider, spec, health({ "192.0.2.11": "down", "192.0.2.20": "down" }));
    expect(result.error).toBeUndefined();
    expect(result.plans[0]?.actions.map((a) => `${a.kind} ${a.address}`)).toEqual(["remove 192.0.2.11"]);
    expect(result.applied?.applied).toBe(1);
    expect(liveA()).toEqual(["192.0.2.10"]);
  });

  it("reinstates a recovered member", async () => {
    const { spec, provider } = await setup("simple", ["192.0.2.10"]);
    const result = await reconcile(provider, spec, health());
    expect(result.plans[0]?.actions.map((a) => `${a.kind} ${a.address}`)).toEqual(["reinstate 192.0.2.11"]);
    expect(liveA()).toEqual(["192.0.2.10", "192.0.2.11"]);
  });

  it("hands a dead member's place to its standby", async () => {
    const { spec, provider } = await setup("simple", ["192.0.2.10", "192.0.2.11"]);
    const result = await reconcile(provider, spec, health({ "192.0.2.11": "down" }));
    expect(result.plans[0]?.actions.map((a) => `${a.kind} ${a.address}->${a.standby}`)).toEqual(["takeover 192.0.2.11->192.0.2.20"]);
    expect(liveA()).toEqual(["192.0.2.10", "192.0.2.20"]);
  });

  it("corrects a live TTL outside the configured one", async () => {
    const { spec, provider } = await setup("simple", ["192.0.2.10", "192.0.2.11"], { ttl: 3600 });
    const result = await reconcile(provider, spec, health());
    expect(result.plans[0]?.actions.map((a) => `${a.kind} ${a.fromTtl}->${a.toTtl}`)).toEqual(["ttl 3600->300"]);
    expect(rig.fake.find(rig.zoneId, NAME, "A")[0]?.ttl).toBe(300);
  });

  it("re-reads and re-plans when another writer changes the RRset between read and apply; nothing is lost", async () => {
    const { spec, provider } = await setup("simple", ["192.0.2.10", "192.0.2.11"]);
    let raced = false;
    rig.fake.onRequest((info) => {
      if (info.action === "ChangeResourceRecordSets" && !raced) {
        raced = true;
        rig.fake.put(rig.zoneId, { name: `${NAME}.`, type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11", "198.51.100.7"] });
      }
    });
    const result = await reconcile(provider, spec, health({ "192.0.2.11": "down", "192.0.2.20": "down" }));
    expect(result.error).toBeUndefined();
    expect(result.attempts).toBe(2);
    expect(posts().map((r) => r.status)).toEqual([400, 200]);
    expect(liveA()).toEqual(["192.0.2.10", "198.51.100.7"]);
    expect(result.plans[0]?.alarms).toEqual([expect.stringContaining("198.51.100.7 is in smtp.example.com but is not a configured member")]);
  });

  it("leaves an RRset without this controller's marker alone, and the plan says why", async () => {
    const { spec, provider } = await setup("simple", ["192.0.2.10", "192.0.2.11"], { marker: false });
    const result = await reconcile(provider, spec, health({ "192.0.2.11": "down", "192.0.2.20": "down" }));
    expect(result.error).toBeUndefined();
    expect(result.applied).toBeNull();
    expect(result.plans[0]?.actions).toEqual([]);
    expect(result.plans[0]?.held.map((h) => `${h.rule}: ${h.action.kind} ${h.action.address}`)).toEqual(["ownership: remove 192.0.2.11"]);
    expect(posts()).toHaveLength(0);
    expect(liveA()).toEqual(["192.0.2.10", "192.0.2.11"]);
  });

  it("sends no write request at all in dry-run", async () => {
    const { spec, provider } = await setup("simple", ["192.0.2.10", "192.0.2.11"]);
    const result = await reconcile(provider, spec, health({ "192.0.2.11": "down", "192.0.2.20": "down" }), { dryRun: true });
    expect(result.plans[0]?.actions.map((a) => a.kind)).toEqual(["remove"]);
    expect(result.applied).toBeNull();
    expect(rig.fake.log.filter((r) => r.method !== "GET")).toEqual([]);
  });
});

describe("scenarios: multivalue record style", () => {
  it("removes and reinstates members one record set at a time", async () => {
    const { spec, provider } = await setup("multivalue", ["192.0.2.10", "192.0.2.11"]);
    await reconcile(provider, spec, health({ "192.0.2.11": "down", "192.0.2.20": "down" }));
    expect(rig.fake.find(rig.zoneId, NAME, "A").map((s) => s.setIdentifier)).toEqual(["mailpool-192.0.2.10"]);
    expect(posts()[0]?.changes?.map((c) => `${c.action} ${c.setIdentifier}`)).toEqual(["DELETE mailpool-192.0.2.11"]);

    const back = await reconcile(provider, spec, health());
    expect(back.error).toBeUndefined();
    expect(rig.fake.find(rig.zoneId, NAME, "A").map((s) => s.setIdentifier)).toEqual(["mailpool-192.0.2.10", "mailpool-192.0.2.11"]);
    expect(posts()[1]?.changes?.map((c) => `${c.action} ${c.setIdentifier}`)).toEqual(["CREATE mailpool-192.0.2.11"]);
  });

  it("takes over with the standby and corrects the TTL of every set", async () => {
    const { spec, provider } = await setup("multivalue", ["192.0.2.10", "192.0.2.11"], { ttl: 60 });
    const result = await reconcile(provider, spec, health({ "192.0.2.11": "down" }));
    expect(result.error).toBeUndefined();
    expect(rig.fake.find(rig.zoneId, NAME, "A").map((s) => `${s.setIdentifier} ${s.ttl}`)).toEqual([
      "mailpool-192.0.2.10 300",
      "mailpool-192.0.2.20 300",
    ]);
  });

  it("leaves a stranger's record set alone while correcting the TTL of ours", async () => {
    const { spec, provider } = await setup("multivalue", ["192.0.2.10", "192.0.2.11"], { ttl: 60 });
    rig.fake.put(rig.zoneId, { name: `${NAME}.`, type: "A", ttl: 3600, values: ["198.51.100.7"], setIdentifier: "ops-relay", multiValueAnswer: true });
    const result = await reconcile(provider, spec, health());
    expect(result.error).toBeUndefined();
    expect(result.plans[0]!.alarms).toEqual(["198.51.100.7 is in smtp.example.com but is not a configured member or standby; left alone"]);
    expect(rig.fake.find(rig.zoneId, NAME, "A").map((s) => `${s.setIdentifier} ${s.ttl}`).sort()).toEqual([
      "mailpool-192.0.2.10 300",
      "mailpool-192.0.2.11 300",
      "ops-relay 3600",
    ]);
    const sent = posts().flatMap((p) => p.changes ?? []);
    expect(sent.some((c) => c.setIdentifier === "ops-relay")).toBe(false);
  });

  it("keeps a record set another writer adds between read and apply", async () => {
    const { spec, provider } = await setup("multivalue", ["192.0.2.10", "192.0.2.11"]);
    rig.fake.onRequest((info) => {
      if (info.action === "ChangeResourceRecordSets") {
        rig.fake.put(rig.zoneId, { name: `${NAME}.`, type: "A", ttl: 300, values: ["198.51.100.7"], setIdentifier: "theirs", multiValueAnswer: true });
      }
    });
    const result = await reconcile(provider, spec, health({ "192.0.2.11": "down", "192.0.2.20": "down" }));
    expect(result.error).toBeUndefined();
    expect(liveA()).toEqual(["192.0.2.10", "198.51.100.7"]);
  });
});

describe("scenarios: a CNAME at the pool's name", () => {
  it("is refused at the read with a clear error, and nothing is written", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${NAME}.`, type: "CNAME", ttl: 300, values: ["mail.example.net."] });
    rig.fake.put(rig.zoneId, { name: MARKER, type: "TXT", ttl: 300, values: ['"mailpool owner=ctl-test"'] });
    const provider = await rig.provider({}, [{ name: NAME, recordStyle: "simple" }]);
    const result = await reconcile(provider, pool("simple"), health());
    expect(result.error?.message).toMatch(/^smtp\.example\.com has a CNAME record set in zone .*, so it can hold no A or AAAA records \(RFC 1034 section 3\.6\.2; Route 53 refuses them too\)/);
    expect(posts()).toHaveLength(0);
  });

  it("the fake refuses an A record beside a CNAME as Route 53 does", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${NAME}.`, type: "CNAME", ttl: 300, values: ["mail.example.net."] });
    const provider = await rig.provider({}, [{ name: NAME, recordStyle: "simple" }]);
    const error = await provider
      .apply([{ key: { name: NAME, type: "A" }, before: null, after: { ttl: 300, values: ["192.0.2.10"] }, pool: NAME }], signal())
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/InvalidChangeBatch.*RRSet of type A with DNS name smtp\.example\.com\. is not permitted because a conflicting RRSet of type CNAME/);
  });
});

describe("scenarios: throttling", () => {
  it("converges through a throttling storm within bounded retries, staying under the rate", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${NAME}.`, type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11"] });
    rig.fake.put(rig.zoneId, { name: MARKER, type: "TXT", ttl: 300, values: ['"mailpool owner=ctl-test"'] });
    // Route 53's own rule (throttle above 10/s) plus a storm of throttles from elsewhere in the account.
    rig.fake.throttleAbovePerSecond = 10;
    rig.fake.injectFault("Throttling", { count: 5 });
    rig.fake.injectFault("PriorRequestNotComplete", { count: 1, action: "ChangeResourceRecordSets" });
    const provider = await rig.provider({ requestsPerSecond: 8, maxAttempts: 2 }, [{ name: NAME, recordStyle: "simple" }], { limiter: undefined });
    const result = await reconcile(provider, pool("simple"), health({ "192.0.2.11": "down", "192.0.2.20": "down" }), {
      retry: { retries: 6, minTimeoutMs: 10, maxTimeoutMs: 100 },
    });
    expect(result.error).toBeUndefined();
    expect(result.attempts).toBeGreaterThan(1);
    expect(result.attempts).toBeLessThanOrEqual(7);
    expect(liveA()).toEqual(["192.0.2.10"]);
    // The limiter kept the rate under Route 53's: the only throttles were the injected ones.
    expect(rig.fake.log.filter((r) => r.code === "Throttling")).toHaveLength(5);
    const times = rig.fake.log.map((r) => r.time);
    const busiest = Math.max(...times.map((t) => times.filter((u) => u >= t && u - t < 1000).length));
    expect(busiest).toBeLessThanOrEqual(9);
  });

  it("gives up after the retries and reports the error", async () => {
    rig = await startRig();
    rig.fake.injectFault("Throttling", { count: 100 });
    const provider = await rig.provider({}, [{ name: NAME, recordStyle: "simple" }]);
    const result = await reconcile(provider, pool("simple"), health(), { retry: { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 20 } });
    expect(result.attempts).toBe(3);
    expect(result.error?.message).toMatch(/Throttling: Rate exceeded/);
    expect(posts()).toHaveLength(0);
  });
});

describe("scenarios: a write whose reply was lost", () => {
  for (const maxAttempts of [1, 3]) {
    it(`reports the write as applied once the re-read shows it (SDK maxAttempts ${maxAttempts})`, async () => {
      rig = await startRig();
      rig.fake.put(rig.zoneId, { name: `${NAME}.`, type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11"] });
      rig.fake.put(rig.zoneId, { name: MARKER, type: "TXT", ttl: 300, values: ['"mailpool owner=ctl-test"'] });
      rig.fake.injectFault("lostReply", { action: "ChangeResourceRecordSets" });
      const spec = { ...pool("simple"), members: [pool().members[0]!, { address: "192.0.2.11", label: "192.0.2.11" }] };
      const provider = await rig.provider({ maxAttempts }, [{ name: NAME, recordStyle: "simple" }]);
      const result = await reconcile(provider, spec, health({ "192.0.2.11": "down" }));
      expect(result.error).toBeUndefined();
      expect(liveA()).toEqual(["192.0.2.10"]);
      // The write landed on the first request; nothing was written twice.
      expect(posts().filter((r) => r.status === 200 || r.status === 502).map((r) => r.status)).toEqual([502]);
      expect(result.plans[0]!.actions).toEqual([expect.objectContaining({ kind: "remove", address: "192.0.2.11" })]);
      expect(result.applied?.applied).toBe(1);
      expect(result.applied?.notes.join("\n")).toMatch(/attempt 1 failed .*but re-reading shows its changes live for smtp\.example\.com: the write landed and its reply was lost/);
    });
  }
});
