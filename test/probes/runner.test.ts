import { getEventListeners, getMaxListeners } from "node:events";
import { describe, expect, it } from "vitest";
import type { Observation } from "../../src/probes/types.js";
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
