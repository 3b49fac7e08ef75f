import { describe, expect, it } from "vitest";
import { MemoryProvider } from "../../providers/memory/index.js";
import { parseConfig } from "../../src/config/load.js";
import { runCycle } from "../../src/controller/cycle.js";
import { createRuntime } from "../../src/controller/runtime.js";
import { HysteresisJudge } from "../../src/health/hysteresis.js";
import type { ProbeFn } from "../../src/health/probe-round.js";
import { createLogger } from "../../src/log.js";

const config = parseConfig(
  `controllerId: t
defaults: { rise: 1, fall: 1 }
providers: { mem: { type: memory } }
pools:
  - { name: smtp.example.com, provider: mem, checks: [smtp], members: [{ address: 192.0.2.10 }, { address: 192.0.2.11 }] }`,
  { env: {} },
);

describe("runCycle (daemon judge)", () => {
  it("does not count an aborted round as failures: a cycle cut short leaves health unchanged", async () => {
    const provider = new MemoryProvider([
      { name: "smtp.example.com", type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11"] },
      { name: "_mailpool.smtp.example.com", type: "TXT", ttl: 300, values: ["mailpool owner=t"] },
    ]);
    const ac = new AbortController();
    const probe: ProbeFn = async (target) => {
      if (target.host === "192.0.2.11") ac.abort(new Error("cycle timeout"));
      return { ok: false, reason: "aborted", latencyMs: 0, phases: [], warnings: [] };
    };
    const runtime = createRuntime(config, createLogger("silent"), { probe, providers: new Map([["mem", provider]]) });
    const judge = new HysteresisJudge();
    await expect(runCycle(runtime, { dryRun: false, judge, signal: ac.signal })).rejects.toThrow("cycle timeout");
    expect(judge.verdict("smtp.example.com", "192.0.2.10").health).toBe("unknown");
    expect(provider.applyCalls).toBe(0);
  });

  it("removes a member the judge calls down, through the configured provider", async () => {
    const provider = new MemoryProvider([
      { name: "smtp.example.com", type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11"] },
      { name: "_mailpool.smtp.example.com", type: "TXT", ttl: 300, values: ["mailpool owner=t"] },
    ]);
    const probe: ProbeFn = async (target) =>
      target.host === "192.0.2.11"
        ? { ok: false, reason: "connection refused by 192.0.2.11:25", latencyMs: 1, phases: [], warnings: [] }
        : { ok: true, reason: "ok", latencyMs: 1, phases: [], warnings: [] };
    const runtime = createRuntime(config, createLogger("silent"), { probe, providers: new Map([["mem", provider]]) });
    const report = await runCycle(runtime, { dryRun: false, judge: new HysteresisJudge(), signal: AbortSignal.timeout(5000) });
    expect(report.results[0]!.plans[0]!.actions).toEqual([expect.objectContaining({ kind: "remove", address: "192.0.2.11" })]);
    expect(provider.get({ name: "smtp.example.com", type: "A" })?.values).toEqual(["192.0.2.10"]);
  });
});
