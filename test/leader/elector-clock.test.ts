/**
 * The elector's timing rules with the clock and timers held by the test (no wall clock at all),
 * against an in-memory Lease API that keeps resourceVersion and answers 409 like the real one.
 */
import { describe, expect, it, vi } from "vitest";
import { LeaderElector, LeaseConflictError, monotonicNow, type LeaseApi, type LeaseObject, type LeaseRecord, type Timers } from "../../src/leader/elector.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

class ManualClock implements Timers {
  now = 1_000_000;
  /** How much earlier than due a timer fires, by this clock (real timers count whole loop milliseconds). */
  early = 0;
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #id = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    const t = { at: this.now + Math.max(0, ms), fn, id: ++this.#id };
    this.#timers.push(t);
    return t.id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }
  /** Moves time forward, firing due timers in order and letting promises settle between. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await settle();
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers[0];
      if (!next || next.at > end) break;
      this.#timers.shift();
      this.now = Math.max(this.now, next.at - this.early);
      next.fn();
    }
    this.now = end;
    await settle();
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

class MemoryLeases implements LeaseApi {
  readonly describe = "test/mailpool";
  lease: LeaseObject | undefined;
  #rv = 0;
  failing = new Set<string>();
  /** Clients whose requests get no answer (until their signal gives up). */
  hanging = new Set<string>();
  writes: { by: string | undefined; at: number }[] = [];
  constructor(private readonly clock: ManualClock) {}
  forClient(who: string): LeaseApi {
    const check = () => {
      if (this.failing.has(who)) throw new Error("connection refused");
    };
    const hang = (signal: AbortSignal) =>
      new Promise<never>((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true }));
    return {
      describe: this.describe,
      get: async (signal) => (this.hanging.has(who) ? hang(signal) : (check(), this.lease)),
      create: async (spec) => {
        check();
        if (this.lease) throw new LeaseConflictError("exists");
        return this.#write(spec);
      },
      replace: async (rv, spec) => {
        check();
        if (!this.lease || this.lease.resourceVersion !== rv) throw new LeaseConflictError("stale");
        return this.#write(spec);
      },
    };
  }
  get(): never {
    throw new Error("use forClient");
  }
  create(): never {
    throw new Error("use forClient");
  }
  replace(): never {
    throw new Error("use forClient");
  }
  #write(spec: LeaseRecord): LeaseObject {
    this.lease = { resourceVersion: String(++this.#rv), spec };
    this.writes.push({ by: spec.holderIdentity, at: this.clock.now });
    return this.lease;
  }
}

function setup() {
  const clock = new ManualClock();
  const leases = new MemoryLeases(clock);
  const make = (who: string, events: string[] = []) =>
    new LeaderElector({
      api: leases.forClient(who),
      identity: who,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      logger: silent,
      now: () => clock.now,
      random: () => 0,
      timers: clock,
      onChange: (l, why) => events.push(`${clock.now - 1_000_000} ${who} ${l ? "leader" : "follower"}: ${why}`),
    });
  return { clock, leases, make };
}

describe("elector timing (manual clock)", () => {
  it("a lease held by another is taken only after leaseDuration without change, by our own clock", async () => {
    const { clock, leases, make } = setup();
    // Someone else's lease, with a renewTime far in the past by *their* clock: irrelevant.
    leases.lease = { resourceVersion: "7", spec: { holderIdentity: "gone", leaseDurationSeconds: 15, renewTime: "2001-01-01T00:00:00.000000Z" } };
    const events: string[] = [];
    const b = make("b", events);
    b.start();
    await clock.advance(14_000);
    expect(b.isLeader()).toBe(false);
    expect(b.observedHolder).toBe("gone");
    await clock.advance(2_000); // 16 s since b first saw it
    expect(b.isLeader()).toBe(true);
    expect(leases.lease!.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    expect(events).toEqual(["16000 b leader: took over an expired lease from gone"]);
    await b.stop();
  });

  it("a holder that keeps renewing keeps the lease; the other never writes", async () => {
    const { clock, leases, make } = setup();
    const a = make("a");
    a.start();
    await clock.advance(1);
    expect(a.isLeader()).toBe(true);
    const b = make("b");
    b.start();
    await clock.advance(120_000);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(new Set(leases.writes.map((w) => w.by))).toEqual(new Set(["a"]));
    await a.stop();
    await b.stop();
  });

  it("a leader that cannot renew stops at its renew deadline, 5 s before another may take over", async () => {
    const { clock, leases, make } = setup();
    const events: string[] = [];
    const a = make("a", events);
    a.start();
    await clock.advance(1);
    const b = make("b", events);
    b.start();
    await clock.advance(4_000);
    const lastRenew = leases.writes.at(-1)!.at - 1_000_000;
    leases.failing.add("a");
    await clock.advance(30_000);
    const lost = events.find((e) => e.includes("a follower"))!;
    const won = events.find((e) => e.includes("b leader"))!;
    expect(lost).toBe(`${lastRenew + 10_000} a follower: renew deadline passed`);
    expect(Number(won.split(" ")[0])).toBeGreaterThanOrEqual(lastRenew + 15_000);
    expect(a.leadership.aborted).toBe(true);
    await a.stop();
    await b.stop();
  });

  it("a leader whose requests hang steps down at its renew deadline even when the deadline timer fires early", async () => {
    const { clock, leases, make } = setup();
    clock.early = 0.5;
    const events: string[] = [];
    const a = make("a", events);
    a.start();
    await clock.advance(1);
    await clock.advance(4_000);
    const lastRenew = leases.writes.at(-1)!.at - 1_000_000;
    leases.hanging.add("a"); // a's next request never returns: only the deadline timer can end its term
    await clock.advance(12_000);
    // No isLeader() call before this: the timer alone must have ended the term, at the deadline.
    expect(events.filter((e) => e.includes("a follower"))).toEqual([`${lastRenew + 10_000} a follower: renew deadline passed`]);
    expect(a.leadership.aborted).toBe(true);
    await a.stop();
  });

  it("rejects timings client-go would reject", () => {
    const clock = new ManualClock();
    const api = new MemoryLeases(clock).forClient("x");
    const base = { api, identity: "x", logger: silent, timers: clock, now: () => clock.now };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 1000 })).toThrow(/renewDeadline must be below leaseDuration/);
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 9000 })).toThrow(/retryPeriod/);
  });
});

describe("the elector's default clock", () => {
  it("does not follow a step of the system clock: a jump of two hours ahead or back neither ends the term nor shows in the deadlines", async () => {
    const clock = new ManualClock();
    const leases = new MemoryLeases(clock);
    const a = new LeaderElector({
      api: leases.forClient("a"),
      identity: "a",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      logger: silent,
      random: () => 0,
      timers: clock, // timers held by the test; the clock is the elector's own default
    });
    const before = monotonicNow();
    expect(Math.abs(before - Date.now())).toBeLessThan(60_000); // epoch milliseconds, as the Lease's times need
    a.start();
    await settle();
    expect(a.isLeader()).toBe(true);
    const real = Date.now();
    const spy = vi.spyOn(Date, "now");
    try {
      spy.mockReturnValue(real + 2 * 3_600_000);
      expect(a.isLeader()).toBe(true); // Date.now as the clock: "renew deadline passed"
      spy.mockReturnValue(real - 2 * 3_600_000);
      expect(a.isLeader()).toBe(true);
      expect(monotonicNow()).toBeGreaterThanOrEqual(before);
      expect(monotonicNow() - before).toBeLessThan(60_000);
    } finally {
      spy.mockRestore();
    }
    await a.stop();
  });
});
