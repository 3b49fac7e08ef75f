import { afterEach, describe, expect, it } from "vitest";
import { accountKey, accountLimiter } from "../../../providers/route53/account-limiter.js";
import type { RRsetKey } from "../../../providers/types.js";
import { RateLimiter } from "../../../src/util/rate-limiter.js";
import { signal, startRig, type Rig } from "./harness.js";

const KEY: RRsetKey[] = [{ name: "smtp.example.com", type: "A" }];

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

/** The most requests the log holds in any window of `ms` starting at a request. */
function busiestWindow(times: readonly number[], ms: number): number {
  let most = 0;
  for (const t of times) most = Math.max(most, times.filter((u) => u >= t && u - t < ms).length);
  return most;
}

class CountingLimiter extends RateLimiter {
  takes = 0;
  override take(s?: AbortSignal): Promise<void> {
    this.takes += 1;
    return super.take(s);
  }
}

describe("Route 53 provider: the account's rate limit", () => {
  it("spaces requests at requestsPerSecond (20/s: 30 requests span at least 1.3 s)", async () => {
    rig = await startRig();
    const p = await rig.provider({ requestsPerSecond: 20 }, [], { limiter: undefined });
    await p.read(KEY, signal()); // warm-up: the first request also sets up the connection
    await Promise.all(Array.from({ length: 30 }, () => p.read(KEY, signal())));
    const times = rig.fake.log.slice(1).map((r) => r.time);
    expect(times).toHaveLength(30);
    // 29 gaps of 50 ms = 1.45 s; an unlimited client sends all 30 within a few ms.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(1300);
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(22);
  });

  it("shares one limiter between providers of the same account", async () => {
    rig = await startRig();
    const first = await rig.provider({ requestsPerSecond: 20 }, [], { limiter: undefined });
    const second = await rig.provider({ requestsPerSecond: 20 }, [], { limiter: undefined });
    await first.read(KEY, signal());
    await second.read(KEY, signal());
    await Promise.all([
      ...Array.from({ length: 15 }, () => first.read(KEY, signal())),
      ...Array.from({ length: 15 }, () => second.read(KEY, signal())),
    ]);
    const times = rig.fake.log.slice(2).map((r) => r.time);
    expect(times).toHaveLength(30);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(1300);
  });

  it("keys accounts by endpoint and access key id or profile", () => {
    expect(accountKey(undefined, "AKID1", undefined)).toBe("https://route53.amazonaws.com|key:AKID1");
    expect(accountKey("http://127.0.0.1:9", undefined, undefined)).toBe("http://127.0.0.1:9|profile:default");
    const a = accountLimiter(accountKey("http://x", "AKID1", undefined), 5);
    expect(accountLimiter(accountKey("http://x", "AKID1", undefined), 5)).toBe(a);
    expect(accountLimiter(accountKey("http://x", "AKID2", undefined), 5)).not.toBe(a);
    expect(accountLimiter(accountKey("http://x", undefined, "ops"), 5)).not.toBe(a);
  });

  it("takes a token for every HTTP attempt, the SDK's own retries included", async () => {
    rig = await startRig();
    const limiter = new CountingLimiter({ ratePerSecond: 1000, burst: 1000 });
    rig.fake.injectFault("Throttling", { count: 2 });
    const p = await rig.provider({ maxAttempts: 3 }, [], { limiter });
    await p.read(KEY, signal());
    expect(rig.fake.log.map((r) => r.status)).toEqual([400, 400, 200]);
    expect(limiter.takes).toBe(3);
  });

  it("stops waiting for a token when the signal aborts", async () => {
    rig = await startRig();
    const limiter = new (class extends RateLimiter {
      outcomes: string[] = [];
      override take(s?: AbortSignal): Promise<void> {
        const t = super.take(s);
        t.then(() => this.outcomes.push("token"), () => this.outcomes.push("gave up"));
        return t;
      }
    })({ ratePerSecond: 0.2, burst: 1 });
    const p = await rig.provider({}, [], { limiter });
    await p.read(KEY, signal());
    const controller = new AbortController();
    const pending = p.read(KEY, controller.signal);
    setTimeout(() => controller.abort(new Error("shutting down")), 50);
    const err = await pending.catch((e: unknown) => e);
    expect((err as Error).name).toBe("AbortError");
    expect(controller.signal.aborted).toBe(true);
    expect(rig.fake.log).toHaveLength(1);
    // The cancelled call's wait ended too, rather than spending the next token later.
    await new Promise((r) => setTimeout(r, 20));
    expect(limiter.outcomes).toEqual(["token", "gave up"]);
  });
});
