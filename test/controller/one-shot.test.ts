/**
 * One-shot runs (plan, apply, run --once, adopt: the CronJob) through runCycle without a daemon
 * judge: the read before probing goes through the retry policy like every later read, and a
 * re-plan after a conflict judges against what it re-read.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MemoryProvider } from "../../providers/memory/index.js";
import type { Provider } from "../../providers/types.js";
import { parseConfig } from "../../src/config/load.js";
import { runCycle } from "../../src/controller/cycle.js";
import { createRuntime } from "../../src/controller/runtime.js";
import type { ProbeFn } from "../../src/health/probe-round.js";
import { createLogger } from "../../src/log.js";
import { CONTROLLER, addresses, harness, seedA, seedMarker, type Harness } from "../providers/cloudflare/helpers.js";
import { startRig, type Rig } from "../providers/route53/harness.js";

const POOL = "smtp.example.com";

function config(members: string[], over: { rise?: number; fall?: number; controllerId?: string; retries?: number } = {}) {
  return parseConfig(
    `controllerId: ${over.controllerId ?? "t"}
defaults: { rise: ${over.rise ?? 2}, fall: ${over.fall ?? 2}, confirmIntervalMs: 0 }
retry: { retries: ${over.retries ?? 3}, minTimeoutMs: 1, maxTimeoutMs: 5 }
providers: { p: { type: memory } }
pools:
  - name: ${POOL}
    provider: p
    checks: [smtp]
    safety: { maxRemovePercent: 100 }
    members: [${members.map((a) => `{ address: ${a} }`).join(", ")}]`,
    { env: {} },
  );
}

const probeDown =
  (down: readonly string[], onProbe?: () => void): ProbeFn =>
  async (target) => {
    onProbe?.();
    return down.includes(target.host)
      ? { ok: false, reason: `connection refused by ${target.host}:25`, latencyMs: 1, phases: [], warnings: [] }
      : { ok: true, reason: "ok", latencyMs: 1, phases: [], warnings: [] };
  };

const run = (cfg: ReturnType<typeof config>, provider: Provider, probe: ProbeFn) =>
  runCycle(createRuntime(cfg, createLogger("silent"), { probe, providers: new Map([["p", provider]]), sleep: async () => {} }), {
    dryRun: false,
    signal: AbortSignal.timeout(20_000),
  });

let rig: Rig | undefined;
let cf: Harness | undefined;
afterEach(async () => {
  await rig?.close();
  await cf?.fake.close();
  rig = undefined;
  cf = undefined;
});

describe("one-shot: the first read before probing is retried", () => {
  it("survives Route 53 Throttling, PriorRequestNotComplete, a 503 and a reset connection on the first read", async () => {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: `${POOL}.`, type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11"] });
    rig.fake.put(rig.zoneId, { name: `_mailpool.${POOL}.`, type: "TXT", ttl: 300, values: ['"mailpool owner=t"'] });
    for (const fault of ["Throttling", "PriorRequestNotComplete", "ServiceUnavailable", "reset"] as const) {
      rig.fake.injectFault(fault, { action: "ListResourceRecordSets" });
    }
    const provider = await rig.provider({}, [{ name: POOL, recordStyle: "simple" }]);
    const report = await run(config(["192.0.2.10", "192.0.2.11"], { retries: 4 }), provider, probeDown(["192.0.2.11"]));
    const result = report.results[0]!;
    expect(result.error).toBeUndefined();
    expect(result.plans[0]!.actions).toEqual([expect.objectContaining({ kind: "remove", address: "192.0.2.11" })]);
    expect(rig.fake.find(rig.zoneId, POOL, "A").flatMap((s) => s.values)).toEqual(["192.0.2.10"]);
    // Four failed reads, then one that served both the judge and the plan.
    expect(result.attempts).toBe(5);
    expect(rig.fake.requests("ListResourceRecordSets").filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
  });

  it("survives a Cloudflare 429 with retry-after and a 500 on the first read", async () => {
    cf = await harness();
    seedMarker(cf);
    seedA(cf, "192.0.2.10");
    seedA(cf, "192.0.2.11");
    cf.fake.inject({ status: 429, retryAfter: "0", times: 1, when: ({ method }) => method === "GET" });
    cf.fake.inject({ status: 500, times: 1, when: ({ method }) => method === "GET" });
    const provider = await cf.provider();
    const report = await run(config(["192.0.2.10", "192.0.2.11"], { controllerId: CONTROLLER }), provider, probeDown(["192.0.2.11"]));
    const result = report.results[0]!;
    expect(result.error).toBeUndefined();
    expect(addresses(cf)).toEqual(["192.0.2.10"]);
    expect(result.attempts).toBe(3);
  });

  it("says how many attempts were really made when the read never succeeds", async () => {
    rig = await startRig();
    rig.fake.injectFault("Throttling", { count: 100, action: "ListResourceRecordSets" });
    const provider = await rig.provider({}, [{ name: POOL, recordStyle: "simple" }]);
    const report = await run(config(["192.0.2.10", "192.0.2.11"]), provider, probeDown([]));
    const result = report.results[0]!;
    expect(result.error?.message).toMatch(/Throttling/);
    expect(result.attempts).toBe(4); // retries: 3
    expect(rig.fake.requests("ListResourceRecordSets")).toHaveLength(4); // SDK maxAttempts 1 in the rig
  });

  it("does not retry a permanent failure of the first read", async () => {
    rig = await startRig();
    rig.fake.injectFault("AccessDenied", { count: 100, action: "ListResourceRecordSets" });
    const provider = await rig.provider({}, [{ name: POOL, recordStyle: "simple" }]);
    const report = await run(config(["192.0.2.10"]), provider, probeDown([]));
    expect(report.results[0]!.attempts).toBe(1);
    expect(report.results[0]!.error?.message).toMatch(/AccessDenied|not authorized/);
  });
});

describe("one-shot: a re-plan after a conflict keeps the judge's rules", () => {
  it("does not reinstate a member someone removed meanwhile on fewer than `rise` passes", async () => {
    const members = ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"];
    const provider = new MemoryProvider([
      { name: POOL, type: "A", ttl: 300, values: members },
      { name: `_mailpool.${POOL}`, type: "TXT", ttl: 300, values: ["mailpool owner=t"] },
    ]);
    // Between the read before probing and the write, someone takes .11 out by hand.
    let edited = false;
    const probe = probeDown(["192.0.2.10"], () => {
      if (!edited) {
        edited = true;
        provider.set({ name: POOL, type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.12", "192.0.2.13"] });
      }
    });
    const report = await run(config(members), provider, probe);
    const result = report.results[0]!;
    expect(result.error).toBeUndefined();
    expect(result.attempts).toBe(2); // the first write was refused as a conflict
    expect(provider.get({ name: POOL, type: "A" })?.values).toEqual(["192.0.2.12", "192.0.2.13"]);
    expect(result.plans[0]!.actions.map((a) => [a.kind, a.address])).toEqual([["remove", "192.0.2.10"]]);
  });

  it("does not remove an address someone re-added meanwhile on fewer than `fall` failures", async () => {
    const members = ["192.0.2.10", "192.0.2.11", "192.0.2.12"];
    const provider = new MemoryProvider([
      { name: POOL, type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.12"] },
      { name: `_mailpool.${POOL}`, type: "TXT", ttl: 300, values: ["mailpool owner=t"] },
    ]);
    // .11 is absent and failing (no change wanted); .10 fails too; someone re-adds .11 by hand.
    let edited = false;
    const probe = probeDown(["192.0.2.10", "192.0.2.11"], () => {
      if (!edited) {
        edited = true;
        provider.set({ name: POOL, type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11", "192.0.2.12"] });
      }
    });
    const report = await run(config(members, { fall: 3 }), provider, probe);
    const result = report.results[0]!;
    expect(result.error).toBeUndefined();
    // .10 failed 3 of 3 and goes; .11 failed once (it needed no confirmation while absent) and stays.
    expect(provider.get({ name: POOL, type: "A" })?.values).toEqual(["192.0.2.11", "192.0.2.12"]);
  });
});
