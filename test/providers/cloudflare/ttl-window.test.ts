/**
 * The Cloudflare provider writes TTLs only inside the window the config owns (TTL_MIN–TTL_MAX,
 * src/config/ttl-window.ts, the same bounds `pools[i].ttl` is checked against), never 1
 * ("automatic"): a change outside it is refused before any request is sent.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../../providers/types.js";
import { TTL_MAX, TTL_MIN } from "../../../src/config/ttl-window.js";
import { POOL, harness, seedA, signal, type Harness } from "./helpers.js";

let h: Harness;
afterEach(async () => {
  await h.fake.close();
});

const A = { name: POOL, type: "A" as const };

describe("Cloudflare TTL window", () => {
  it("writes the window's bounds and refuses a TTL just outside them, sending nothing", async () => {
    h = await harness();
    seedA(h, "192.0.2.10");
    const p = await h.provider();
    for (const ttl of [TTL_MIN - 1, TTL_MAX + 1, 1]) {
      const [before] = await p.read([A], signal());
      const e = await p.apply([{ key: A, before: before!, after: { ttl, values: ["192.0.2.10", "192.0.2.11"] }, pool: POOL }], signal()).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ProviderError);
      expect((e as Error).message).toBe(
        `Cloudflare: refusing to write ${POOL} A with TTL ${ttl} s: mailpool writes TTLs within ${TTL_MIN}–${TTL_MAX} s`,
      );
    }
    expect(h.fake.writes()).toEqual([]);
    for (const ttl of [TTL_MIN, TTL_MAX]) {
      const [before] = await p.read([A], signal());
      await p.apply([{ key: A, before: before!, after: { ttl, values: ["192.0.2.10"] }, pool: POOL }], signal());
      const [after] = await p.read([A], signal());
      expect(after?.ttl).toBe(ttl);
    }
  });
});
