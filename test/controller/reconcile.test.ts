import { describe, expect, it } from "vitest";
import { MemoryProvider } from "../../providers/memory/index.js";
import { ConflictError, ProviderError, type Provider } from "../../providers/types.js";
import { reconcileProvider, type ReconcileOptions } from "../../src/controller/reconcile.js";
import { markerValue } from "../../src/ownership.js";
import { health, pool } from "../helpers/pools.js";

const FAST = { retries: 3, minTimeoutMs: 1, maxTimeoutMs: 5 };
const seeded = (values = ["192.0.2.10", "192.0.2.11", "192.0.2.12"], owner: string | null = "test") =>
  new MemoryProvider([
    { name: "smtp.example.com", type: "A", ttl: 300, values },
    ...(owner ? [{ name: "_mailpool.smtp.example.com", type: "TXT" as const, ttl: 300, values: [markerValue(owner)] }] : []),
  ]);
const run = (provider: MemoryProvider, over: Partial<ReconcileOptions> = {}) =>
  reconcileProvider({
    provider,
    providerName: "mem",
    pools: [pool()],
    health: health({ "192.0.2.11": "down" }),
    controllerId: "test",
    dryRun: false,
    signal: AbortSignal.timeout(10_000),
    retry: FAST,
    ...over,
  });
const aValues = (p: MemoryProvider) => p.get({ name: "smtp.example.com", type: "A" })?.values;

describe("reconcileProvider", () => {
  it("applies the plan as one compare-and-swap batch", async () => {
    const p = seeded();
    const r = await run(p);
    expect(r.error).toBeUndefined();
    expect(r.attempts).toBe(1);
    expect(aValues(p)).toEqual(["192.0.2.10", "192.0.2.12"]);
    expect(p.history).toHaveLength(1);
    expect(p.history[0]![0]!.before?.values).toEqual(["192.0.2.10", "192.0.2.11", "192.0.2.12"]);
  });

  it("never calls apply in a dry run", async () => {
    const p = seeded();
    const r = await run(p, { dryRun: true });
    expect(r.plans[0]!.actions.map((a) => a.kind)).toEqual(["remove"]);
    expect(r.applied).toBeNull();
    expect(p.applyCalls).toBe(0);
    expect(aValues(p)).toHaveLength(3);
  });

  it("re-reads and re-plans after a conflict, keeping the other writer's change", async () => {
    const p = seeded();
    const provider = Object.create(p) as MemoryProvider;
    let first = true;
    // Someone else adds an address between our first read and our write.
    provider.read = async (keys, signal) => {
      const out = await p.read(keys, signal);
      if (first) {
        first = false;
        p.set({ name: "smtp.example.com", type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11", "192.0.2.12", "198.51.100.9"] });
      }
      return out;
    };
    provider.apply = (c, s) => p.apply(c, s);
    const r = await reconcileProvider({ provider, providerName: "mem", pools: [pool()], health: health({ "192.0.2.11": "down" }), controllerId: "test", dryRun: false, signal: AbortSignal.timeout(10_000), retry: FAST });
    expect(r.error).toBeUndefined();
    expect(r.attempts).toBe(2);
    expect(aValues(p)).toEqual(["192.0.2.10", "192.0.2.12", "198.51.100.9"]);
    expect(r.plans[0]!.alarms).toContain("198.51.100.9 is in smtp.example.com but is not a configured member or standby; left alone");
  });

  it("retries transient failures and gives up after the configured retries with the error", async () => {
    const p = seeded();
    for (let i = 0; i < 4; i++) p.failNextApply("transient");
    const r = await run(p);
    expect(r.attempts).toBe(4);
    expect(r.error).toBeInstanceOf(ProviderError);
    expect(aValues(p)).toHaveLength(3);
  });

  it("does not retry a permanent failure", async () => {
    const p = seeded();
    p.failNextApply(new ProviderError("access denied", { transient: false }));
    const r = await run(p);
    expect(r.attempts).toBe(1);
    expect(r.error?.message).toBe("access denied");
  });

  it("adopt writes the marker in the same batch as the pool's changes", async () => {
    const p = seeded(undefined, null);
    const r = await run(p, { adopt: true });
    expect(r.error).toBeUndefined();
    expect(r.plans[0]!.actions.map((a) => a.kind)).toEqual(["adopt", "remove"]);
    expect(p.history).toHaveLength(1);
    expect(p.get({ name: "_mailpool.smtp.example.com", type: "TXT" })?.values).toEqual(["mailpool owner=test"]);
    expect(aValues(p)).toEqual(["192.0.2.10", "192.0.2.12"]);
  });

  it("adopt refuses a pool another controller owns, unless forced", async () => {
    const p = seeded(undefined, "other");
    const r = await run(p, { adopt: true });
    expect(r.plans[0]!.actions).toEqual([]);
    expect(r.plans[0]!.held[0]).toMatchObject({ rule: "ownership", action: { kind: "adopt", type: "TXT" }, why: expect.stringContaining("names controller other") });
    expect(r.plans[0]!.alarms[0]).toContain("names controller other");
    expect(p.applyCalls).toBe(0);
    const forced = await run(p, { adopt: true, force: true });
    expect(forced.error).toBeUndefined();
    expect(p.get({ name: "_mailpool.smtp.example.com", type: "TXT" })?.values).toEqual(["mailpool owner=test"]);
  });

  it("creates the RRset when a reinstated member is the first address of its family", async () => {
    const p = seeded();
    const v6 = pool({ addresses: ["192.0.2.10", "192.0.2.11", "192.0.2.12", "2001:db8::10"] });
    const r = await run(p, { pools: [v6], health: health({}) });
    expect(r.error).toBeUndefined();
    expect(p.get({ name: "smtp.example.com", type: "AAAA" })).toMatchObject({ ttl: 300, values: ["2001:db8::10"] });
  });
});

describe("reconcileProvider around the edges of a write", () => {
  it("reports a write that succeeded as applied even when the signal fires right after it", async () => {
    const p = seeded();
    const ac = new AbortController();
    const provider: Provider = {
      kind: "memory",
      read: (k, s) => p.read(k, s),
      apply: async (c, s) => {
        const r = await p.apply(c, s);
        ac.abort(new Error("SIGTERM"));
        return r;
      },
    };
    const r = await run(p, { provider, signal: ac.signal });
    expect(r.error).toBeUndefined();
    expect(r.applied?.applied).toBe(1);
    expect(aValues(p)).toEqual(["192.0.2.10", "192.0.2.12"]);
  });

  it("still plans and applies when leftover work (a failed reload) keeps failing, and reports it", async () => {
    const p = seeded();
    const provider: Provider = {
      kind: "memory",
      read: (k, s) => p.read(k, s),
      apply: (c, s) => p.apply(c, s),
      finishPending: async () => {
        throw new ProviderError("zone written earlier but the reload still fails: rndc: connection refused", { transient: false });
      },
    };
    const r = await run(p, { provider });
    expect(aValues(p)).toEqual(["192.0.2.10", "192.0.2.12"]);
    expect(r.applied?.applied).toBe(1);
    expect(r.error?.message).toContain("reload still fails");
  });

  it("never runs leftover work in a dry run", async () => {
    const p = seeded();
    let ran = 0;
    const provider: Provider = { kind: "memory", read: (k, s) => p.read(k, s), apply: (c, s) => p.apply(c, s), finishPending: async () => (ran++, []) };
    await run(p, { provider, dryRun: true });
    expect(ran).toBe(0);
    await run(p, { provider });
    expect(ran).toBe(1);
  });
});

describe("reconcileProvider reports what a failed apply had written", () => {
  it("counts a zone written whose reload failed as applied, and reports the failure", async () => {
    const p = seeded();
    const provider: Provider = {
      kind: "memory",
      read: (k, s) => p.read(k, s),
      apply: async (c, s) => {
        const r = await p.apply(c, s);
        throw new ProviderError("zone written (serial 2) but reload failed: rndc: connection refused", { transient: false, applied: r });
      },
    };
    const r = await run(p, { provider });
    expect(r.applied?.applied).toBe(1);
    expect(r.error?.message).toContain("reload failed");
  });

  it("folds in the batches an earlier, retried attempt wrote before a conflict", async () => {
    const p = seeded();
    let calls = 0;
    const provider: Provider = {
      kind: "memory",
      read: (k, s) => p.read(k, s),
      apply: async (c, s) => {
        calls += 1;
        if (calls === 1) throw new ConflictError("batch 2/2 refused; batch 1/2 was already written", undefined, { applied: { applied: 1, notes: ["batch 1/2: change C1"] } });
        return p.apply(c, s);
      },
    };
    const r = await run(p, { provider });
    expect(r.error).toBeUndefined();
    expect(r.applied?.applied).toBe(2);
    expect(r.applied?.notes[0]).toBe("earlier attempt: batch 1/2: change C1");
  });
});
