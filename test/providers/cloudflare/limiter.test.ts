import { afterEach, describe, expect, it } from "vitest";
import { LimiterRegistry, limitedFetch } from "../../../providers/cloudflare/limited-fetch.js";
import { RateLimiter } from "../../../src/util/rate-limiter.js";
import { CloudflareFake, DEFAULT_TOKEN } from "../../fakes/cloudflare-server.js";
import { POOL, harness, seedA, signal, type Harness } from "./helpers.js";

/** A virtual clock: sleeping advances it at once, so tests check the rate without waiting. */
function virtualClock() {
  const clock = { t: 0, slept: 0 };
  const now = () => clock.t;
  const sleep = async (ms: number) => {
    clock.t += ms;
    clock.slept += ms;
  };
  return { clock, make: (ratePerSecond: number, burst: number) => new RateLimiter({ ratePerSecond, burst, now, sleep }) };
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.close();
  h = undefined;
});

const A = { name: POOL, type: "A" as const };

describe("Cloudflare rate limiting", () => {
  it("keeps every request within requestsPer5Minutes: each request takes a token first", async () => {
    const vc = virtualClock();
    h = await harness({ now: () => vc.clock.t });
    seedA(h, "192.0.2.10");
    // 6 requests per 5 minutes: 0.02 per second, burst 6.
    const p = await h.provider({ requestsPer5Minutes: 6 }, { limiters: new LimiterRegistry(vc.make) });
    for (let i = 0; i < 10; i++) await p.read([A], signal());
    expect(h.fake.requests).toHaveLength(10);
    // Six went out in the burst; the other four waited 50 s each (virtual time).
    const times = h.fake.requests.map((r) => r.time);
    expect(times.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(times.slice(6)).toEqual([50_000, 100_000, 150_000, 200_000]);
  });

  it("shares one budget between provider blocks that use the same token, and not across tokens", async () => {
    const other = "second-token-0123456789abcdef";
    const vc = virtualClock();
    h = await harness({ tokens: { [DEFAULT_TOKEN]: { zones: "*" }, [other]: { zones: "*" } }, now: () => vc.clock.t });
    seedA(h, "192.0.2.10");
    const registry = new LimiterRegistry(vc.make);
    const p1 = await h.provider({ requestsPer5Minutes: 3 }, { limiters: registry });
    const p2 = await h.provider({ requestsPer5Minutes: 3 }, { limiters: registry });
    expect(registry.size).toBe(1);
    await p1.read([A], signal());
    await p2.read([A], signal());
    await p1.read([A], signal());
    expect(vc.clock.slept).toBe(0); // three requests: the burst
    await p2.read([A], signal());
    expect(vc.clock.slept).toBe(100_000); // the fourth waits for a refill (3 per 300 s)
    const p3 = await h.provider({ apiToken: other, requestsPer5Minutes: 3 }, { limiters: registry });
    expect(registry.size).toBe(2);
    await p3.read([A], signal());
    expect(vc.clock.slept).toBe(100_000); // another token, another budget
  });

  it("keys the registry by a hash of the token, never the token itself", () => {
    const seen: string[] = [];
    const registry = new LimiterRegistry((rate, burst) => {
      seen.push(`${rate}/${burst}`);
      return new RateLimiter({ ratePerSecond: rate, burst });
    });
    const a = registry.get("token-a", 1200);
    expect(registry.get("token-a", 1200)).toBe(a);
    expect(registry.get("token-b", 1200)).not.toBe(a);
    // 1,200 per 5 minutes = 4 per second sustained, burst 20.
    expect(seen).toEqual(["4/20", "4/20"]);
  });

  it("bounds the bytes of a response", async () => {
    const fake = await CloudflareFake.start();
    try {
      const zoneId = fake.addZone("example.com");
      for (let i = 0; i < 50; i++) fake.seed(zoneId, { name: POOL, type: "A", content: `10.0.0.${i}` });
      const f = limitedFetch({ limiter: new RateLimiter({ ratePerSecond: 100, burst: 100 }), maxResponseBytes: 2_000 });
      const url = `${fake.baseUrl}/zones/${zoneId}/dns_records?name.exact=${POOL}&type=A`;
      await expect(f(url, { headers: { authorization: `Bearer ${DEFAULT_TOKEN}` } })).rejects.toThrow(/larger than the 2000-byte bound/);
      const small = await f(`${fake.baseUrl}/zones?name=none`, { headers: { authorization: `Bearer ${DEFAULT_TOKEN}` } });
      expect(small.status).toBe(200);
    } finally {
      await fake.close();
    }
  });
});
