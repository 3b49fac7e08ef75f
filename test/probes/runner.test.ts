import { getEventListeners, getMaxListeners } from "node:events";
import { describe, expect, it } from "vitest";
import type { Observation } from "../../src/probes/types.js";
import { spreadProbes } from "../../src/daemon/schedule.js";
import { probeRound } from "../../src/health/probe-round.js";
import { createProbeRunner } from "../../src/probes/index.js";
import { checkFor, listen, never, targetOf, until } from "./helpers.js";

describe("createProbeRunner", () => {
  it("never has more than `concurrency` connections open, and runs every probe", async () => {
    const l = await listen({ protocol: "smtp", behaviour: { greetingDelayMs: 100 } });
    const run = createProbeRunner({ concurrency: 2 });
    const results = await Promise.all(Array.from({ length: 10 }, () => run(targetOf(l), checkFor("smtp", "none"), never())));
    expect(results.map((r) => r.reason)).toEqual(Array(10).fill("ok"));
    expect(l.connections).toBe(10);
    expect(l.peak).toBe(2);
  });

  it("lets a queued probe leave the queue when its signal aborts, without connecting", async () => {
    const l = await listen({ protocol: "imap", behaviour: { greetingDelayMs: 300 } });
    const run = createProbeRunner({ concurrency: 1 });
    const first = run(targetOf(l), checkFor("imap", "none"), never());
    const ac = new AbortController();
    const queued = run(targetOf(l), checkFor("imap", "none"), ac.signal);
    const third = run(targetOf(l), checkFor("imap", "none"), never());
    await until(() => l.connections === 1, "the first connection");
    ac.abort();
    expect(await queued).toEqual({ ok: false, reason: "aborted", latencyMs: 0, phases: [], warnings: [] });
    expect(l.connections).toBe(1);
    expect((await first).ok).toBe(true);
    expect((await third).ok).toBe(true);
    expect(l.connections).toBe(2);
    expect(l.peak).toBe(1);
  });

  it("keeps one listener on the caller's signal however many probes share it, and does not lift its limit", async () => {
    const ac = new AbortController();
    const running: AbortSignal[] = [];
    const hang = async (_t: unknown, _c: unknown, signal: AbortSignal): Promise<Observation> => {
      running.push(signal);
      // What a dialogue does: listen to its own signal until the probe ends.
      return new Promise((resolve) => signal.addEventListener("abort", () => resolve({ ok: false, reason: "aborted", latencyMs: 0, phases: [], warnings: [] }), { once: true }));
    };
    const run = createProbeRunner({ concurrency: 8, probers: { smtp: hang, imap: hang, pop3: hang } });
    const probes = Array.from({ length: 50 }, () => run({ host: "127.0.0.1", port: 1 }, checkFor("smtp", "none"), ac.signal));
    await until(() => running.length === 8, "eight running probes");
    // 8 running and 42 queued probes: Node warns above 10 listeners on one signal.
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(1);
    // Unchanged: the default of a fresh signal on this Node (10 on Node 20, 0 on Node 24 and later).
    expect(getMaxListeners(ac.signal)).toBe(getMaxListeners(new AbortController().signal));
    ac.abort(new Error("cycle over"));
    const results = await Promise.all(probes);
    expect(results.every((r) => !r.ok && r.reason === "aborted")).toBe(true);
    expect(running).toHaveLength(8); // the queued ones never ran
  });

  it("passes its clock to the probers", async () => {
    const run = createProbeRunner({
      concurrency: 1,
      now: () => 42,
      probers: {
        smtp: async (_t, _c, _s, deps) => ({ ok: true, reason: `now=${deps?.now?.()}`, latencyMs: 0, phases: [], warnings: [] }),
        imap: async () => ({ ok: false, reason: "unused", latencyMs: 0, phases: [], warnings: [] }),
        pop3: async () => ({ ok: false, reason: "unused", latencyMs: 0, phases: [], warnings: [] }),
      },
    });
    expect((await run({ host: "127.0.0.1", port: 1 }, checkFor("smtp", "none"), never())).reason).toBe("now=42");
  });

  it("rejects a concurrency that is not a positive integer", () => {
    expect(() => createProbeRunner({ concurrency: 0 })).toThrow("Expected concurrency to be a positive integer, got 0");
    expect(() => createProbeRunner({ concurrency: 1.5 })).toThrow("got 1.5");
  });
});

/** A prober that counts what is in flight and finishes only when told to. */
function countingProber() {
  const state = { inFlight: 0, peak: 0, started: 0, signals: [] as AbortSignal[], finish: [] as Array<() => void> };
  const probe = (_t: unknown, _c: unknown, signal: AbortSignal): Promise<Observation> => {
    state.started++;
    state.inFlight++;
    state.peak = Math.max(state.peak, state.inFlight);
    state.signals.push(signal);
    return new Promise((resolve) =>
      state.finish.push(() => {
        state.inFlight--;
        resolve({ ok: true, reason: "ok", latencyMs: 0, phases: [], warnings: [] });
      }),
    );
  };
  /** Finishes every probe started so far; returns how many. */
  const finishAll = () => {
    const f = state.finish.splice(0);
    for (const done of f) done();
    return f.length;
  };
  return { state, finishAll, probers: { smtp: probe, imap: probe, pop3: probe } };
}

const flush = () => new Promise((r) => setImmediate(r));

describe("createProbeRunner queue: probes admitted as slots free", () => {
  it("keeps at most `concurrency` probes in flight over a 10,000-address round, and runs them all", async () => {
    const fake = countingProber();
    const run = createProbeRunner({ concurrency: 7, probers: fake.probers });
    const pools = Array.from({ length: 1000 }, (_, p) => ({
      name: `p${p}.example.`,
      checks: ["c"],
      members: Array.from({ length: 10 }, (_, m) => ({ address: `10.${p >> 8}.${p & 255}.${m}` })),
    })) as unknown as Parameters<typeof probeRound>[0];
    const round = probeRound(pools, { c: checkFor("smtp", "none") }, run, never());
    let finished = 0;
    while (finished < 10_000) {
      await flush();
      expect(fake.state.inFlight).toBeLessThanOrEqual(7);
      finished += fake.finishAll();
    }
    const results = await round;
    expect(results.size).toBe(10_000);
    expect([...results.values()].every((r) => r.ok)).toBe(true);
    expect(fake.state.peak).toBe(7);
    expect(fake.state.started).toBe(10_000);
  });

  it("holds no slot during the daemon's spread sleep, so every sleep of a round overlaps", async () => {
    const fake = countingProber();
    const run = createProbeRunner({ concurrency: 2, probers: fake.probers });
    const sleeping: Array<() => void> = [];
    const sleep = (_ms: number, _s: AbortSignal) => new Promise<void>((r) => sleeping.push(r));
    const spread = spreadProbes(run, 1000, () => 0.5, sleep);
    const probes = Array.from({ length: 20 }, (_, i) => spread({ host: `10.0.0.${i}`, port: 25 }, checkFor("smtp", "none"), never()));
    await flush();
    expect(sleeping).toHaveLength(20); // all twenty asleep at once, not two at a time
    expect(fake.state.started).toBe(0);
    for (const wake of sleeping.splice(0)) wake();
    await flush();
    expect(fake.state.inFlight).toBe(2); // the bound applies after the sleep
    let finished = 0;
    while (finished < 20) {
      finished += fake.finishAll();
      await flush();
      expect(fake.state.inFlight).toBeLessThanOrEqual(2);
    }
    expect((await Promise.all(probes)).every((r) => r.ok)).toBe(true);
  });

  it("answers every queued probe 'aborted' as soon as the signal aborts, while the running ones still run", async () => {
    const fake = countingProber();
    const run = createProbeRunner({ concurrency: 3, probers: fake.probers });
    const ac = new AbortController();
    const settled: string[] = [];
    const probes = Array.from({ length: 5000 }, (_, i) => run({ host: `10.0.${i >> 8}.${i & 255}`, port: 25 }, checkFor("smtp", "none"), ac.signal).then((o) => (settled.push(o.reason), o)));
    await flush();
    expect(fake.state.started).toBe(3);
    // A queued probe has no signal of its own yet: only the running three were handed one.
    expect(fake.state.signals).toHaveLength(3);
    ac.abort(new Error("cycle over"));
    await flush();
    // The running probes here ignore the abort and have not finished; the queued ones did not wait for them.
    expect(settled).toHaveLength(4997);
    expect(settled.every((r) => r === "aborted")).toBe(true);
    expect(fake.state.signals.every((s) => s.aborted)).toBe(true);
    fake.finishAll();
    await Promise.all(probes);
    expect(fake.state.started).toBe(3);
    // The slots came back: a later probe on a live signal runs at once.
    const later = run({ host: "10.9.9.9", port: 25 }, checkFor("smtp", "none"), never());
    await flush();
    expect(fake.state.started).toBe(4);
    fake.finishAll();
    expect((await later).ok).toBe(true);
  });
});
