import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ProviderConfigError, ProviderError } from "../../../providers/types.js";
import { createCloudflareProvider } from "../../../providers/cloudflare/index.js";
import { LimiterRegistry } from "../../../providers/cloudflare/limited-fetch.js";
import { CloudflareFake, DEFAULT_TOKEN } from "../../fakes/cloudflare-server.js";
import { POOL, context, harness, seedA, signal, type Harness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.close();
  h = undefined;
});

const A = { name: POOL, type: "A" as const };
const fail = (p: Promise<unknown>) => p.then(
  () => {
    throw new Error("expected a failure");
  },
  (e: unknown) => e as Error,
);

/** Everything a person or a log could see of an error and of the provider's logs. */
const visible = (err: Error, hh: Harness) => `${err.message} ${String(err)} ${err.stack ?? ""} ${JSON.stringify(hh.ctx.logger.entries)}`;

describe("Cloudflare failures", () => {
  it("turns a 429 with a long Retry-After into a transient ProviderError with retryAfterMs, without the SDK waiting", async () => {
    h = await harness();
    h.fake.inject({ status: 429, retryAfter: "30" });
    const p = await h.provider({ maxRetries: 2 });
    const err = await fail(p.read([A], signal()));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).transient).toBe(true);
    expect((err as ProviderError).retryAfterMs).toBe(30_000);
    expect(err.message).toContain("rate limited (429, code 971");
    // The SDK did not sleep 30 s and retry on its own: the controller decides, with its signal.
    expect(h.fake.requests).toHaveLength(1);
  });

  it("lets the SDK retry a 429 with a short Retry-After itself", async () => {
    h = await harness();
    seedA(h, "192.0.2.10");
    h.fake.inject({ status: 429, retryAfter: "0" });
    const p = await h.provider({ maxRetries: 2 });
    const [rrset] = await p.read([A], signal());
    expect(rrset!.values).toEqual(["192.0.2.10"]);
    expect(h.fake.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it("reads an HTTP-date Retry-After", async () => {
    h = await harness();
    h.fake.inject({ status: 429, retryAfter: new Date(Date.now() + 60_000).toUTCString() });
    const p = await h.provider();
    const err = (await fail(p.read([A], signal()))) as ProviderError;
    expect(err.retryAfterMs).toBeGreaterThan(50_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it("turns 5xx into a transient ProviderError after the SDK's own retries (maxRetries)", async () => {
    h = await harness();
    h.fake.inject({ status: 503, times: 5 });
    // A generous per-request deadline: on a starved machine a timed-out attempt would be retried
    // too, and this test counts the retries of the 503s alone.
    const p = await h.provider({ maxRetries: 1, timeoutMs: 60_000 });
    const err = (await fail(p.read([A], signal()))) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.transient).toBe(true);
    expect(err.message).toContain("failed with 503");
    expect(h.fake.requests).toHaveLength(2); // first try + 1 retry
  });

  it("turns a refused connection into a transient ProviderError", async () => {
    const port = await closedPort();
    const p = await createCloudflareProvider(
      { type: "cloudflare", zoneId: "0".repeat(32), apiToken: DEFAULT_TOKEN, baseUrl: `http://127.0.0.1:${port}/client/v4`, maxRetries: 0 },
      context(),
      { limiters: new LimiterRegistry() },
    );
    const err = (await fail(p.read([A], signal()))) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.transient).toBe(true);
    expect(err.message).toContain("Connection error");
  });

  it("reports an unknown token (401) as a non-transient error that names the permission, never the token", async () => {
    h = await harness();
    const token = "wrong-token-secret-ABCDEFGHIJKLMNOP";
    const p = await h.provider({ apiToken: token });
    const err = (await fail(p.read([A], signal()))) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.transient).toBe(false);
    expect(err.message).toContain("(401, code 9109: Invalid access token)");
    expect(err.message).toContain("Zone.DNS:Edit");
    expect(visible(err, h)).not.toContain(token);
  });

  it("reports a token not allowed on the zone (403) as a non-transient error", async () => {
    const allowed = "token-for-another-zone-0123456789";
    h = await harness({ tokens: { [allowed]: { zones: ["f".repeat(32)] } } });
    const p = await h.provider({ apiToken: allowed });
    const err = (await fail(p.read([A], signal()))) as ProviderError;
    expect(err.transient).toBe(false);
    expect(err.message).toContain(`(403, code 10000: Authentication error): the API token is invalid, expired, or lacks permission on zone ${h.zoneId}`);
    expect(visible(err, h)).not.toContain(allowed);
  });

  it("recognises an auth failure sent as 400 with code 9106", async () => {
    h = await harness();
    h.fake.inject({ status: 400, code: 9106, message: "Authentication failed" });
    const p = await h.provider();
    const err = (await fail(p.read([A], signal()))) as ProviderError;
    expect(err.transient).toBe(false);
    expect(err.message).toContain("lacks permission");
  });

  it("points at the zone id when the zone does not exist (7003)", async () => {
    h = await harness();
    const p = await h.provider({ zoneId: "e".repeat(32) });
    const err = (await fail(p.read([A], signal()))) as ProviderError;
    expect(err.transient).toBe(false);
    expect(err.message).toContain(`code 7003: Could not route to /client/v4/zones/${"e".repeat(32)}/dns_records`);
    expect(err.message).toContain(`check that zone ${"e".repeat(32)} exists`);
  });

  it("redacts the token even when the server echoes it back", async () => {
    h = await harness();
    h.fake.inject({ status: 400, code: 9000, message: `bad header Bearer ${DEFAULT_TOKEN}` });
    const p = await h.provider();
    const err = (await fail(p.read([A], signal()))) as ProviderError;
    expect(err.message).toContain("bad header Bearer [redacted]");
    expect(visible(err, h)).not.toContain(DEFAULT_TOKEN);
  });

  it("writes and logs a batch without ever logging the token", async () => {
    h = await harness();
    const p = await h.provider();
    await p.apply([{ key: A, before: null, after: { ttl: 300, values: ["192.0.2.10"] }, pool: POOL }], signal());
    expect(h.ctx.logger.entries.some((e) => e.msg === "cloudflare batch 1/1 applied")).toBe(true);
    expect(JSON.stringify(h.ctx.logger.entries)).not.toContain(DEFAULT_TOKEN);
  });
});

describe("Cloudflare configuration", () => {
  it("errors clearly when neither apiToken nor CLOUDFLARE_API_TOKEN is set", async () => {
    const err = await fail(createCloudflareProvider({ type: "cloudflare", zoneId: "0".repeat(32) }, context({ env: {} })));
    expect(err).toBeInstanceOf(ProviderConfigError);
    expect(err.message).toContain("providers.cf.apiToken: no Cloudflare API token");
  });

  it("refuses an apiToken that still holds ${…}", async () => {
    const err = await fail(
      createCloudflareProvider({ type: "cloudflare", zoneId: "0".repeat(32), apiToken: "${CLOUDFLARE_API_TOKEN}" }, context()),
    );
    expect(err.message).toContain("unexpanded");
  });

  it("rejects a config with both or neither of zoneId and zoneName", async () => {
    const both = await fail(
      createCloudflareProvider({ type: "cloudflare", zoneId: "0".repeat(32), zoneName: "example.com", apiToken: "t" }, context()),
    );
    expect(both.message).toContain("set exactly one of zoneId or zoneName");
    const neither = await fail(createCloudflareProvider({ type: "cloudflare", apiToken: "t" }, context()));
    expect(neither.message).toContain("providers.cf.zoneId: set exactly one of zoneId or zoneName");
  });

  it("takes the token from CLOUDFLARE_API_TOKEN and the URL from CLOUDFLARE_BASE_URL in ctx.env", async () => {
    const fake = await CloudflareFake.start();
    try {
      const zoneId = fake.addZone("example.com");
      fake.seed(zoneId, { name: POOL, type: "A", content: "192.0.2.10" });
      const p = await createCloudflareProvider(
        { type: "cloudflare", zoneId },
        context({ env: { CLOUDFLARE_API_TOKEN: DEFAULT_TOKEN, CLOUDFLARE_BASE_URL: fake.baseUrl } }),
        { limiters: new LimiterRegistry() },
      );
      const [rrset] = await p.read([A], signal());
      expect(rrset!.values).toEqual(["192.0.2.10"]);
    } finally {
      await fake.close();
    }
  });
});

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
