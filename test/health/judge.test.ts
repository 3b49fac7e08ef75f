import { describe, expect, it } from "vitest";
import { confirmHealth } from "../../src/health/confirm.js";
import { HysteresisJudge } from "../../src/health/hysteresis.js";
import { addressKey, type AddressResult, type ProbeFn } from "../../src/health/probe-round.js";
import { BUILTIN_CHECKS } from "../../src/probes/builtin-checks.js";
import type { CheckSpec, Observation } from "../../src/probes/types.js";
import { pool } from "../helpers/pools.js";

const checks: Record<string, CheckSpec> = { smtp: { name: "smtp", ...BUILTIN_CHECKS.smtp! } as CheckSpec };
const obs = (ok: boolean): Observation => ({ ok, reason: ok ? "ok" : "connection refused by 192.0.2.11:25", latencyMs: 1, phases: [], warnings: [] });
const result = (ok: boolean): AddressResult => ({ ok, reason: ok ? "ok" : "smtp: connection refused", observations: { smtp: obs(ok) } });

describe("HysteresisJudge (daemon)", () => {
  const p = pool({ rise: 2, fall: 3, addresses: ["192.0.2.10"] });
  const round = (judge: HysteresisJudge, ok: boolean) => judge.observe([p], new Map([[addressKey(p.name, "192.0.2.10"), result(ok)]]));

  it("starts unknown and needs `rise` passes in a row to call a member up", () => {
    const j = new HysteresisJudge();
    expect(j.verdict(p.name, "192.0.2.10").health).toBe("unknown");
    round(j, true);
    expect(j.verdict(p.name, "192.0.2.10").health).toBe("unknown");
    expect(round(j, true)).toEqual([{ pool: p.name, address: "192.0.2.10", from: "unknown", to: "up" }]);
  });

  it("needs `fall` failures in a row to call an up member down; a pass resets the count", () => {
    const j = new HysteresisJudge();
    round(j, true);
    round(j, true);
    round(j, false);
    round(j, false);
    round(j, true);
    round(j, false);
    round(j, false);
    expect(j.verdict(p.name, "192.0.2.10").health).toBe("up");
    round(j, false);
    const v = j.verdict(p.name, "192.0.2.10");
    expect(v.health).toBe("down");
    expect(v.reason).toBe("3 failure(s) in a row: smtp: connection refused");
  });

  it("forgets addresses that left the config", () => {
    const j = new HysteresisJudge();
    round(j, true);
    j.retain([pool({ addresses: ["192.0.2.99"] })]);
    expect(j.verdict(p.name, "192.0.2.10").health).toBe("unknown");
  });
});

describe("confirmHealth (one-shot)", () => {
  /** A probe that answers from a script per address and counts calls. */
  function scripted(script: Record<string, boolean[]>) {
    const calls: Record<string, number> = {};
    const probe: ProbeFn = async (target) => {
      const n = (calls[target.host] = (calls[target.host] ?? 0) + 1);
      const seq = script[target.host] ?? [true];
      return obs(seq[Math.min(n - 1, seq.length - 1)]!);
    };
    return { probe, calls };
  }
  const noSleep = async () => undefined;

  it("judges a member in DNS down only after `fall` failed probes in this run", async () => {
    const p = pool({ fall: 3, rise: 2, addresses: ["192.0.2.10", "192.0.2.11"] });
    const { probe, calls } = scripted({ "192.0.2.11": [false, false, false] });
    const { view } = await confirmHealth({ pools: [p], checks, probe, inDns: () => true, signal: AbortSignal.timeout(5000), sleep: noSleep });
    expect(view(p.name, "192.0.2.11")).toMatchObject({ health: "down", reason: expect.stringContaining("3 of 3 probe(s) failed") });
    expect(calls).toEqual({ "192.0.2.10": 1, "192.0.2.11": 3 });
    expect(view(p.name, "192.0.2.10").health).toBe("up");
  });

  it("calls a flapping member unknown, so nothing changes", async () => {
    const p = pool({ fall: 3, addresses: ["192.0.2.11"] });
    const { probe } = scripted({ "192.0.2.11": [false, true, false] });
    const { view } = await confirmHealth({ pools: [p], checks, probe, inDns: () => true, signal: AbortSignal.timeout(5000), sleep: noSleep });
    expect(view(p.name, "192.0.2.11")).toMatchObject({ health: "unknown", reason: expect.stringContaining("flapping") });
  });

  it("reinstates an absent member only after `rise` passes in this run", async () => {
    const p = pool({ rise: 2, addresses: ["192.0.2.11"] });
    const { probe, calls } = scripted({ "192.0.2.11": [true, true] });
    const { view } = await confirmHealth({ pools: [p], checks, probe, inDns: () => false, signal: AbortSignal.timeout(5000), sleep: noSleep });
    expect(view(p.name, "192.0.2.11").health).toBe("up");
    expect(calls["192.0.2.11"]).toBe(2);
  });

  it("waits confirmIntervalMs between confirmation rounds", async () => {
    const p = pool({ fall: 3, confirmIntervalMs: 1234, addresses: ["192.0.2.11"] });
    const { probe } = scripted({ "192.0.2.11": [false] });
    const waits: number[] = [];
    await confirmHealth({ pools: [p], checks, probe, inDns: () => true, signal: AbortSignal.timeout(5000), sleep: async (ms) => void waits.push(ms) });
    expect(waits).toEqual([1234, 1234]);
  });
});

describe("confirmHealth and standbys", () => {
  const noSleep = async () => undefined;
  const probeOf = (down: string[]) => {
    const calls: Record<string, number> = {};
    const probe: ProbeFn = async (t) => {
      calls[t.host] = (calls[t.host] ?? 0) + 1;
      return obs(!down.includes(t.host));
    };
    return { probe, calls };
  };

  it("does not spend confirmation probes on an idle standby", async () => {
    const p = pool({ rise: 3, addresses: ["192.0.2.10", "192.0.2.11"], standbys: { "192.0.2.11": "192.0.2.21" } });
    const { probe, calls } = probeOf([]);
    await confirmHealth({ pools: [p], checks, probe, inDns: (_p, a) => a !== "192.0.2.21", signal: AbortSignal.timeout(5000), sleep: noSleep });
    expect(calls["192.0.2.21"]).toBe(1);
  });

  it("confirms the standby of a failing member so it can take over", async () => {
    const p = pool({ rise: 3, fall: 3, addresses: ["192.0.2.10", "192.0.2.11"], standbys: { "192.0.2.11": "192.0.2.21" } });
    const { probe, calls } = probeOf(["192.0.2.11"]);
    const { view } = await confirmHealth({ pools: [p], checks, probe, inDns: (_p, a) => a !== "192.0.2.21", signal: AbortSignal.timeout(5000), sleep: noSleep });
    expect(calls["192.0.2.21"]).toBe(3);
    expect(view(p.name, "192.0.2.21").health).toBe("up");
    expect(view(p.name, "192.0.2.11").health).toBe("down");
  });
});
