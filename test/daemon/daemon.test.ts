/**
 * The daemon as an operator meets it: ticks (driven by the test, not the clock), the HTTP
 * endpoints, metrics, spreading, skipped ticks, per-pool schedules and the stop sequence.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Provider } from "../../providers/types.js";
import { ProviderError } from "../../providers/types.js";
import type { MemoryProvider } from "../../providers/memory/memory-provider.js";
import { okObservation, CONFIG, sample, startHarness, type Harness } from "./harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const aValues = (p: MemoryProvider) => p.get({ name: "smtp.example.com", type: "A" })?.values.slice().sort();

describe("daemon endpoints", () => {
  it("/readyz is 503 until a first cycle completes, then 200; a provider failing afterwards shows in /status and metrics but does not flap it", async () => {
    let failRead = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let first = true;
    const wrap = (p: MemoryProvider): Provider => ({
      kind: "memory",
      read: async (keys, signal) => {
        if (first) {
          first = false;
          await gate;
        }
        if (failRead) throw new ProviderError("the API said no", { transient: false });
        return p.read(keys, signal);
      },
      apply: (c, s) => p.apply(c, s),
    });
    h = await startHarness(CONFIG(), { wrap });
    expect((await h.get("/readyz")).status).toBe(503);
    expect(await h.get("/healthz")).toEqual({ status: 200, text: "ok\n" });
    release();
    await h.cycles(1);
    expect((await h.get("/readyz")).status).toBe(200);

    failRead = true;
    await h.cycle();
    expect((await h.get("/readyz")).status).toBe(200);
    const status = JSON.parse((await h.get("/status")).text);
    expect(status.lastError.message).toContain("mem: the API said no");
    expect(status.pools[0]).toMatchObject({ name: "smtp.example.com", error: "the API said no" });
    const metrics = (await h.get("/metrics")).text;
    expect(sample(metrics, "mailpool_provider_errors_total", { provider: "mem", operation: "read", code: "error" })).toBe(1);
    expect(sample(metrics, "mailpool_cycles_total", { result: "error" })).toBe(1);
    expect(sample(metrics, "mailpool_cycles_total", { result: "ok" })).toBe(1);
  });

  it("/healthz turns 503 when the scheduler stops ticking (clock injected), and 200 again on the next tick", async () => {
    let t = 1_000_000;
    h = await startHarness(CONFIG(), { now: () => t, nextRunAt: () => t + 30_000 });
    await h.cycles(1);
    t += 60_000;
    expect((await h.get("/healthz")).status).toBe(200); // one interval late: not yet stuck
    t += 10 * 60_000;
    const stuck = await h.get("/healthz");
    expect(stuck.status).toBe(503);
    expect(stuck.text).toContain("schedule */30 * * * * *: no tick since");
    await h.cycle();
    expect((await h.get("/healthz")).status).toBe(200);
  });

  it("/status: pools, members with verdicts and reasons, the last plan, role and schedules", async () => {
    h = await startHarness(CONFIG());
    await h.cycles(1);
    h.down.add("192.0.2.11");
    await h.cycle();
    await h.cycle(); // fall = 2: now down, and removed
    const s = JSON.parse((await h.get("/status")).text);
    expect(s).toMatchObject({ controllerId: "ci", role: "single", applies: true, leaderElection: { enabled: false }, lastError: null });
    const mx2 = s.pools[0].members.find((m: { address: string }) => m.address === "192.0.2.11");
    expect(mx2).toMatchObject({ label: "mx2", role: "member", health: "down", reason: expect.stringContaining("connection refused") });
    expect(mx2.checks.smtp).toMatchObject({ ok: false, reason: "connection refused" });
    const plan = s.schedules[0].lastPlan;
    expect(plan.pools[0].actions).toEqual([expect.objectContaining({ kind: "remove", address: "192.0.2.11" })]);
    expect(s.schedules[0]).toMatchObject({ schedule: "*/30 * * * * *", pools: ["smtp.example.com"], skippedTicks: 0 });
    expect(aValues(h.provider)).toEqual(["192.0.2.10", "192.0.2.12"]);
  });

  it("/metrics: prom-client exposition with the documented series", async () => {
    h = await startHarness(CONFIG());
    await h.cycles(1);
    h.down.add("192.0.2.11");
    await h.cycle();
    await h.cycle();
    const m = (await h.get("/metrics")).text;
    expect(sample(m, "mailpool_build_info", { version: "9.9.9-test", nodejs: process.versions.node })).toBe(1);
    expect(sample(m, "mailpool_changes_applied_total", { kind: "remove" })).toBe(1);
    expect(sample(m, "mailpool_address_up", { pool: "smtp.example.com", address: "192.0.2.11", role: "member" })).toBe(0);
    expect(sample(m, "mailpool_address_up", { pool: "smtp.example.com", address: "192.0.2.10", role: "member" })).toBe(1);
    expect(sample(m, "mailpool_probe_success", { pool: "smtp.example.com", address: "192.0.2.11", check: "smtp" })).toBe(0);
    expect(sample(m, "mailpool_probes_total", { check: "smtp", result: "fail" })).toBe(2);
    expect(sample(m, "mailpool_probes_total", { check: "smtp", result: "ok" })).toBe(7);
    expect(sample(m, "mailpool_probe_duration_seconds_count", { check: "smtp", result: "ok" })).toBe(7);
    expect(sample(m, "mailpool_cycle_duration_seconds_count", { result: "ok" })).toBe(3);
    expect(sample(m, "mailpool_provider_requests_total", { provider: "mem", operation: "apply", code: "ok" })).toBe(1);
    expect(sample(m, "mailpool_leader")).toBe(1);
    expect(sample(m, "mailpool_skipped_ticks_total", { schedule: "*/30 * * * * *" }) ?? 0).toBe(0);
    expect(sample(m, "mailpool_last_successful_cycle_timestamp_seconds")).toBeGreaterThan(0);
    expect(m).toMatch(/^process_cpu_user_seconds_total /m);
    expect(m).toMatch(/^nodejs_heap_size_used_bytes /m);
  });

  it("a safety rule's hold is counted by kind and rule", async () => {
    h = await startHarness(CONFIG());
    await h.cycles(1);
    for (const a of ["192.0.2.10", "192.0.2.11", "192.0.2.12"]) h.down.add(a);
    await h.cycle();
    await h.cycle();
    const m = (await h.get("/metrics")).text;
    expect(sample(m, "mailpool_changes_held_total", { kind: "remove", rule: "failOpen" })).toBeGreaterThan(0);
    expect(aValues(h.provider)).toHaveLength(3);
  });
});

describe("daemon scheduling", () => {
  it("a tick while the previous cycle still runs is skipped and counted, not queued", async () => {
    let hold: Promise<void> | undefined;
    let release!: () => void;
    h = await startHarness(CONFIG(), {
      probe: async () => {
        await hold;
        return okObservation();
      },
    });
    await h.cycles(1);
    hold = new Promise((r) => (release = r));
    h.tickers[0]!.tick(); // starts a cycle that waits in its probes
    h.tickers[0]!.tick(); // skipped
    h.tickers[0]!.tick(); // skipped
    const m = (await h.get("/metrics")).text;
    expect(sample(m, "mailpool_skipped_ticks_total", { schedule: "*/30 * * * * *" })).toBe(2);
    expect(JSON.parse((await h.get("/status")).text).schedules[0]).toMatchObject({ skippedTicks: 2, running: true });
    release();
    await h.cycles(2);
    await new Promise((r) => setTimeout(r, 50));
    // Only one cycle ran for the three ticks.
    expect(h.log().filter((l) => l.msg === "cycle done")).toHaveLength(2);
  });

  it("spreads a cycle's probes over the configured share of the interval (the first cycle is not spread)", async () => {
    const T = 1_000_000;
    const waits: number[] = [];
    const randoms = [0, 0.5, 0.99];
    let i = 0;
    h = await startHarness(CONFIG("", "  probeSpreadPercent: 50"), {
      now: () => T,
      nextRunAt: () => T + 20_000,
      random: () => randoms[i++ % randoms.length]!,
      sleep: async (ms) => void waits.push(ms),
    });
    await h.cycles(1);
    expect(waits).toEqual([]);
    await h.cycle();
    // 50 % of the 20 s to the next tick: each of the three probes waits random × 10 s first.
    expect(waits.sort((a, b) => a - b)).toEqual([0, 5000, 9900]);
  });

  it("a pool with its own schedule runs on its own ticker; other pools are not probed then", async () => {
    const extra = `  - name: imap.example.com
    provider: mem
    checks: [imap]
    schedule: "*/5 * * * * *"
    members: [{ address: 192.0.2.30 }]`;
    h = await startHarness(CONFIG(extra));
    await h.cycles(2); // the first cycle of each schedule
    expect(h.tickers.map((t) => t.expression).sort()).toEqual(["*/30 * * * * *", "*/5 * * * * *"]);
    h.probed.length = 0;
    await h.cycle("*/5 * * * * *");
    expect(h.probed).toEqual(["192.0.2.30"]);
    const s = JSON.parse((await h.get("/status")).text);
    expect(s.pools.map((p: { name: string; schedule: string }) => [p.name, p.schedule])).toEqual([
      ["smtp.example.com", "*/30 * * * * *"],
      ["imap.example.com", "*/5 * * * * *"],
    ]);
  });
});

describe("daemon signals", () => {
  it("SIGTERM during an apply: no new tick, the apply finishes, exit 0; the change is written", async () => {
    let releaseApply!: () => void;
    let applying!: () => void;
    const inApply = new Promise<void>((r) => (applying = r));
    let slow = false;
    const wrap = (p: MemoryProvider): Provider => ({
      kind: "memory",
      read: (k, s) => p.read(k, s),
      apply: async (c, s) => {
        if (slow) {
          applying();
          await new Promise<void>((r) => (releaseApply = r));
        }
        return p.apply(c, s);
      },
    });
    h = await startHarness(CONFIG(), { wrap });
    await h.cycles(1);
    h.down.add("192.0.2.12");
    await h.cycle();
    slow = true;
    h.tickers[0]!.tick();
    await inApply;
    h.signals.emit("SIGTERM", "SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    expect(h.tickers[0]!.stopped).toBe(true);
    let finished = false;
    void h.done.then(() => (finished = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(finished).toBe(false); // waiting for the apply
    releaseApply();
    expect(await h.done).toBe(0);
    expect(aValues(h.provider)).toEqual(["192.0.2.10", "192.0.2.11"]);
    expect(h.exitCodes).toEqual([]);
    h = undefined;
  });

  it("an apply that outlasts shutdownGraceMs is aborted; a second signal exits at once", async () => {
    let applying!: () => void;
    const inApply = new Promise<void>((r) => (applying = r));
    let slow = false;
    const wrap = (p: MemoryProvider): Provider => ({
      kind: "memory",
      read: (k, s) => p.read(k, s),
      apply: async (c, s) => {
        if (slow) {
          applying();
          await new Promise<void>((_, reject) => s.addEventListener("abort", () => reject(s.reason), { once: true }));
        }
        return p.apply(c, s);
      },
    });
    h = await startHarness(CONFIG("", "  shutdownGraceMs: 300").replace("  shutdownGraceMs: 5000\n", ""), { wrap });
    await h.cycles(1);
    h.down.add("192.0.2.12");
    await h.cycle();
    slow = true;
    h.tickers[0]!.tick();
    await inApply;
    h.signals.emit("SIGINT", "SIGINT");
    h.signals.emit("SIGINT", "SIGINT");
    expect(h.exitCodes).toEqual([130]);
    expect(await h.done).toBe(0); // (exit is a stub here, so the first stop also completes)
    expect(aValues(h.provider)).toEqual(["192.0.2.10", "192.0.2.11", "192.0.2.12"]);
    expect(h.log().some((l) => l.msg === "second signal: exiting at once")).toBe(true);
    h = undefined;
  });
});
