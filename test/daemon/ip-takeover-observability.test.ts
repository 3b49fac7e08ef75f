import { describe, expect, it } from "vitest";
import { MemoryProvider } from "../../providers/memory/index.js";
import { transitions } from "../../src/alerts/events.js";
import { parseConfig } from "../../src/config/load.js";
import { runCycle } from "../../src/controller/cycle.js";
import { createRuntime } from "../../src/controller/runtime.js";
import { Metrics } from "../../src/daemon/metrics.js";
import { buildStatus } from "../../src/daemon/status.js";
import { HysteresisJudge } from "../../src/health/hysteresis.js";
import type { ProbeFn } from "../../src/health/probe-round.js";
import { createLogger } from "../../src/log.js";
import { MemoryIpAdapter } from "../fakes/memory-ip-adapter.js";

const FLOAT = "192.0.2.10";
const HOST = "10.0.0.4";
const STANDBY = "10.0.0.5";
const config = parseConfig(
  `controllerId: t
defaults: { rise: 1, fall: 1 }
providers: { mem: { type: memory } }
ipTakeover: { onprem: { type: exec, command: [/bin/false] } }
pools:
  - name: smtp.example.com
    provider: mem
    checks: [smtp]
    members:
      - { address: ${FLOAT}, label: mx1, hostAddress: ${HOST}, ipTakeover: { via: onprem, standby: ${STANDBY} } }
      - { address: 192.0.2.11, label: mx2 }`,
  { env: {} },
);

/** Two cycles of the daemon: everything up, then mx1's host dies and its address moves. */
async function twoCycles() {
  const ip = new MemoryIpAdapter();
  ip.set(FLOAT, { kind: "host", host: HOST });
  const down = new Set<string>();
  const probe: ProbeFn = async (t) =>
    down.has(t.host) ? { ok: false, reason: `connection refused by ${t.host}:25`, latencyMs: 1, phases: [], warnings: [] } : { ok: true, reason: "ok", latencyMs: 1, phases: [], warnings: [] };
  const provider = new MemoryProvider([
    { name: "smtp.example.com", type: "A", ttl: 300, values: [FLOAT, "192.0.2.11"] },
    { name: "_mailpool.smtp.example.com", type: "TXT", ttl: 300, values: ["mailpool owner=t"] },
  ]);
  const runtime = createRuntime(config, createLogger("silent"), { probe, providers: new Map([["mem", provider]]), ipAdapters: new Map([["onprem", ip]]), sleep: async () => undefined });
  const judge = new HysteresisJudge();
  const first = await runCycle(runtime, { dryRun: false, judge, signal: AbortSignal.timeout(5000) });
  down.add(HOST);
  const second = await runCycle(runtime, { dryRun: false, judge, signal: AbortSignal.timeout(5000) });
  return { first, second };
}

describe("IP takeover: alerts, metrics, /status", () => {
  it("alerts on the move with the verification, and on the host going down", async () => {
    const { first, second } = await twoCycles();
    const events = transitions(first, second, { now: 0, controllerId: "t", instance: "i" });
    expect(events.map((e) => [e.kind, e.address])).toEqual([
      ["member_down", HOST],
      ["ip_takeover", FLOAT],
    ]);
    expect(events[0]!.summary).toBe(`mx1's own address ${HOST} in smtp.example.com is down: 1 failure(s) in a row: smtp: connection refused by ${HOST}:25`);
    expect(events[1]).toMatchObject({ severity: "warning", provider: "onprem" });
    expect(events[1]!.summary).toContain(`${FLOAT} moved to standby ${STANDBY}`);
    expect(events[1]!.summary).toContain(`standby ${STANDBY} answers on ${FLOAT}`);
  });

  it("counts moves by kind and result and exposes who holds each address", async () => {
    const { first, second } = await twoCycles();
    const m = new Metrics({ version: "test", defaultMetrics: false });
    m.record("g", first, 1000, 10);
    expect(await m.render()).toContain(`mailpool_ip_address_holder{pool="smtp.example.com",address="${FLOAT}",holder="member"} 1`);
    m.record("g", second, 2000, 10);
    const text = await m.render();
    expect(text).toContain('mailpool_ip_moves_total{kind="takeover-ip",result="ok"} 1');
    expect(text).toContain(`mailpool_ip_address_holder{pool="smtp.example.com",address="${FLOAT}",holder="standby"} 1`);
    expect(text).not.toContain('holder="member"');
  });

  it("/status shows who holds each address", async () => {
    const { second } = await twoCycles();
    const status = buildStatus({
      config,
      version: "test",
      identity: "i",
      startedAt: 0,
      now: 0,
      dryRun: false,
      leader: true,
      groups: [{ schedule: config.schedule, pools: ["smtp.example.com"], skippedTicks: 0, running: false, lastReport: second }],
    }) as { pools: { ipTakeover: unknown[] }[] };
    expect(status.pools[0]!.ipTakeover).toEqual([
      { address: FLOAT, member: "mx1", holder: "standby", hostAddress: HOST, standby: STANDBY, via: "onprem", detail: expect.stringContaining("moved this cycle") },
    ]);
  });
});
