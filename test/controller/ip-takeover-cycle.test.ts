import { describe, expect, it } from "vitest";
import { MemoryProvider } from "../../providers/memory/index.js";
import { parseConfig } from "../../src/config/load.js";
import { runCycle } from "../../src/controller/cycle.js";
import { createRuntime } from "../../src/controller/runtime.js";
import { HysteresisJudge } from "../../src/health/hysteresis.js";
import type { ProbeFn } from "../../src/health/probe-round.js";
import { createLogger } from "../../src/log.js";
import { renderJson, renderText } from "../../src/plan/render.js";
import type { Observation } from "../../src/probes/types.js";
import { MemoryIpAdapter } from "../fakes/memory-ip-adapter.js";

const FLOAT = "192.0.2.10";
const HOST = "10.0.0.4";
const STANDBY = "10.0.0.5";

const configText = (rise = 1, fall = 1) => `controllerId: t
defaults: { rise: ${rise}, fall: ${fall}, confirmIntervalMs: 0 }
providers: { mem: { type: memory } }
ipTakeover: { onprem: { type: exec, command: [/bin/false] } }
pools:
  - name: smtp.example.com
    provider: mem
    checks: [smtp]
    members:
      - { address: ${FLOAT}, label: mx1, hostAddress: ${HOST}, ipTakeover: { via: onprem, standby: ${STANDBY} } }
      - { address: 192.0.2.11, label: mx2 }`;

const ok = (greeting: string): Observation => ({ ok: true, reason: "ok", latencyMs: 1, phases: [], warnings: [], greeting });
const refused = (host: string): Observation => ({ ok: false, reason: `connection refused by ${host}:25`, latencyMs: 1, phases: [], warnings: [] });

/**
 * A network of hosts: `up` says which answer; the floating address answers as whichever host the
 * adapter says holds it (when `answersAfterMove`), each host with its own greeting.
 */
function network(ip: MemoryIpAdapter, up: Set<string>, opts: { answersAfterMove?: boolean } = {}) {
  const probes: string[] = [];
  const probe: ProbeFn = async (target) => {
    probes.push(target.host);
    let host = target.host;
    if (host === FLOAT) {
      const h = ip.holder(FLOAT);
      if (h?.kind !== "host" || (h.host === STANDBY && opts.answersAfterMove === false)) return refused(FLOAT);
      host = h.host;
    }
    return up.has(host) ? ok(`220 ${host} ESMTP`) : refused(target.host);
  };
  return { probe, probes };
}

function setup(rise = 1, fall = 1) {
  const config = parseConfig(configText(rise, fall), { env: {} });
  const provider = new MemoryProvider([
    { name: "smtp.example.com", type: "A", ttl: 300, values: [FLOAT, "192.0.2.11"] },
    { name: "_mailpool.smtp.example.com", type: "TXT", ttl: 300, values: ["mailpool owner=t"] },
  ]);
  const ip = new MemoryIpAdapter();
  ip.set(FLOAT, { kind: "host", host: HOST });
  return { config, provider, ip };
}
const signal = () => AbortSignal.timeout(5000);
const noSleep = async () => undefined;

describe("IP takeover in a cycle", () => {
  it("moves the address of a member whose host died to the healthy standby, and verifies the standby answers on it", async () => {
    const { config, provider, ip } = setup();
    const { probe, probes } = network(ip, new Set([STANDBY, "192.0.2.11"]));
    const runtime = createRuntime(config, createLogger("silent"), { probe, providers: new Map([["mem", provider]]), ipAdapters: new Map([["onprem", ip]]), sleep: noSleep });
    const report = await runCycle(runtime, { dryRun: false, judge: new HysteresisJudge(), signal: signal() });
    expect(ip.moves.map((m) => [m.action, m.to])).toEqual([["takeover", STANDBY]]);
    expect(ip.holder(FLOAT)).toEqual({ kind: "host", host: STANDBY });
    // The host and the standby are probed on their own addresses.
    expect(probes).toEqual(expect.arrayContaining([HOST, STANDBY, FLOAT]));
    const move = report.ipTakeover!.moves[0]!;
    expect(move).toMatchObject({ ok: true, verify: { ok: true, attempts: 1 } });
    expect(move.verify!.reason).toBe(`standby ${STANDBY} answers on ${FLOAT} (smtp greeting matches its own: "220 ${STANDBY} ESMTP")`);
    expect(report.ipTakeover!.addresses[0]).toMatchObject({ holder: "standby" });
    // DNS is left alone: the address lives on at the standby.
    expect(provider.applyCalls).toBe(0);
    const text = renderText(report);
    expect(text).toContain(`  ~ ip   takeover-ip ${FLOAT} → ${STANDBY}: mx1 (${FLOAT})'s host ${HOST} is down`);
    expect(text).toContain(`  ip takeover-ip ${FLOAT} verified: standby ${STANDBY} answers on ${FLOAT}`);
    expect(text).toContain("1 IP takeover(s), 0 IP return(s)");
    expect(text).toContain(`  host    ${HOST} (mx1's own address): down — 1 failure(s) in a row: smtp: connection refused by ${HOST}:25`);
    expect(text).toContain(`  standby ${STANDBY} (IP standby for mx1): up`);
    expect(JSON.parse(renderJson(report, { controllerId: "t", mode: "apply" })).ipTakeover.actions[0]).toMatchObject({ kind: "takeover-ip", address: FLOAT, to: STANDBY, via: "onprem" });
  });

  it("reports a move the standby does not answer on, after probing it again", async () => {
    const { config, provider, ip } = setup();
    const { probe } = network(ip, new Set([STANDBY, "192.0.2.11"]), { answersAfterMove: false });
    const sleeps: number[] = [];
    const runtime = createRuntime(config, createLogger("silent"), {
      probe,
      providers: new Map([["mem", provider]]),
      ipAdapters: new Map([["onprem", ip]]),
      sleep: async (ms) => void sleeps.push(ms),
    });
    const report = await runCycle(runtime, { dryRun: false, judge: new HysteresisJudge(), signal: signal() });
    expect(report.ipTakeover!.moves[0]!.verify).toEqual({ ok: false, attempts: 3, reason: `standby ${STANDBY} does not answer on ${FLOAT} after 3 probe(s): smtp: connection refused by ${FLOAT}:25` });
    expect(sleeps).toEqual([1000, 1000]);
  });

  it("dry run prints the move and moves nothing", async () => {
    const { config, provider, ip } = setup();
    const { probe } = network(ip, new Set([STANDBY, "192.0.2.11"]));
    const runtime = createRuntime(config, createLogger("silent"), { probe, providers: new Map([["mem", provider]]), ipAdapters: new Map([["onprem", ip]]) });
    const report = await runCycle(runtime, { dryRun: true, judge: new HysteresisJudge(), signal: signal() });
    expect(report.ipTakeover!.actions).toHaveLength(1);
    expect(ip.moves).toEqual([]);
    expect(ip.holder(FLOAT)).toEqual({ kind: "host", host: HOST });
    expect(renderText(report)).toContain("(dry run: nothing changed)");
  });

  it("refuses a move when someone moved the address after the read (compare-and-swap), and says so", async () => {
    const { config, provider, ip } = setup();
    const { probe } = network(ip, new Set([STANDBY, "192.0.2.11"]));
    ip.afterRead = () => {
      ip.afterRead = undefined;
      ip.set(FLOAT, { kind: "host", host: HOST }); // same holder, new version: someone touched it
    };
    const runtime = createRuntime(config, createLogger("silent"), { probe, providers: new Map([["mem", provider]]), ipAdapters: new Map([["onprem", ip]]) });
    const report = await runCycle(runtime, { dryRun: false, judge: new HysteresisJudge(), signal: signal() });
    expect(report.ipTakeover!.moves[0]).toMatchObject({ ok: false, conflict: true });
    expect(ip.moves).toEqual([]);
    expect(renderText(report)).toContain("FAILED (moved by someone else since the read; nothing changed)");
  });

  it("one shot: takes over only after `fall` failures of the host in this run (the member holds the address)", async () => {
    const { config, provider, ip } = setup(2, 2);
    let hostProbes = 0;
    const base = network(ip, new Set([STANDBY, "192.0.2.11"]));
    // The host fails once, then answers: not down, nothing moves.
    const flaky: ProbeFn = async (t, c, s) => (t.host === HOST ? (++hostProbes === 1 ? refused(HOST) : ok(`220 ${HOST} ESMTP`)) : base.probe(t, c, s));
    const runtime = createRuntime(config, createLogger("silent"), { probe: flaky, providers: new Map([["mem", provider]]), ipAdapters: new Map([["onprem", ip]]), sleep: noSleep });
    const report = await runCycle(runtime, { dryRun: false, signal: signal() });
    expect(hostProbes).toBe(2);
    expect(report.ipTakeover!.actions).toEqual([]);
    expect(ip.moves).toEqual([]);
    // Down twice in a row: it moves.
    const again = createRuntime(config, createLogger("silent"), { probe: base.probe, providers: new Map([["mem", provider]]), ipAdapters: new Map([["onprem", ip]]), sleep: noSleep });
    await runCycle(again, { dryRun: false, signal: signal() });
    expect(ip.moves.map((m) => m.action)).toEqual(["takeover"]);
  });

  it("one shot: returns the address only after `rise` passes of the member's host while the standby holds it", async () => {
    const { config, provider, ip } = setup(3, 2);
    ip.set(FLOAT, { kind: "host", host: STANDBY });
    const { probe, probes } = network(ip, new Set([HOST, STANDBY, "192.0.2.11"]));
    const runtime = createRuntime(config, createLogger("silent"), { probe, providers: new Map([["mem", provider]]), ipAdapters: new Map([["onprem", ip]]), sleep: noSleep });
    const report = await runCycle(runtime, { dryRun: false, signal: signal() });
    expect(probes.filter((h) => h === HOST)).toHaveLength(3);
    expect(report.ipTakeover!.actions.map((a) => a.kind)).toEqual(["return-ip"]);
    expect(ip.holder(FLOAT)).toEqual({ kind: "host", host: HOST });
    expect(report.ipTakeover!.moves[0]!.verify!.reason).toContain(`mx1's host ${HOST} answers on ${FLOAT}`);
  });

  it("holds the move under prober isolation (most members of two pools down at once) and moves nothing", async () => {
    const config = parseConfig(
      `${configText()}
  - { name: imap.example.com, provider: mem, checks: [imap], members: [{ address: 192.0.2.30 }, { address: 192.0.2.31 }] }`,
      { env: {} },
    );
    const { provider, ip } = setup();
    const { probe } = network(ip, new Set([STANDBY, "192.0.2.11"]));
    const runtime = createRuntime(config, createLogger("silent"), { probe, providers: new Map([["mem", provider]]), ipAdapters: new Map([["onprem", ip]]) });
    const report = await runCycle(runtime, { dryRun: false, judge: new HysteresisJudge(), signal: signal() });
    expect(report.proberIsolation).toContain("3 of 4 members across 2 pools failed at once");
    expect(report.ipTakeover!.actions).toEqual([]);
    expect(report.ipTakeover!.held).toEqual([expect.objectContaining({ rule: "proberIsolation", action: expect.objectContaining({ kind: "takeover-ip" }) })]);
    expect(ip.moves).toEqual([]);
    expect(renderText(report)).toContain(`  ! ip   takeover-ip ${FLOAT} → ${STANDBY} held by proberIsolation: 3 of 4 members`);
    // --force moves anyway.
    const forced = await runCycle(runtime, { dryRun: false, force: true, judge: new HysteresisJudge(), signal: signal() });
    expect(forced.ipTakeover!.moves).toEqual([expect.objectContaining({ ok: true })]);
  });

  it("an adapter that cannot read moves nothing and says why; DNS still plans", async () => {
    const { config, provider, ip } = setup();
    ip.read = async () => {
      throw new Error("status hook exited with code 3");
    };
    const { probe } = network(ip, new Set([STANDBY, "192.0.2.11"]));
    const runtime = createRuntime(config, createLogger("silent"), { probe, providers: new Map([["mem", provider]]), ipAdapters: new Map([["onprem", ip]]) });
    const report = await runCycle(runtime, { dryRun: false, judge: new HysteresisJudge(), signal: signal() });
    expect(report.ipTakeover!.alarms[0]!.text).toContain("cannot tell who holds 192.0.2.10 (onprem): status hook exited with code 3");
    expect(report.results[0]!.error).toBeUndefined();
  });
});
