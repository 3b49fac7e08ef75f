/**
 * The fake Cloudflare API enforces the rules the provider relies on; these tests drive it with
 * the real SDK (and raw fetch where the SDK would not send the request at all).
 */
import Cloudflare from "cloudflare";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CloudflareFake, DEFAULT_TOKEN } from "../../fakes/cloudflare-server.js";

let fake: CloudflareFake;
let zoneId: string;
let sdk: Cloudflare;
beforeEach(async () => {
  fake = await CloudflareFake.start();
  zoneId = fake.addZone("example.com");
  sdk = new Cloudflare({ apiToken: DEFAULT_TOKEN, apiKey: null, apiEmail: null, userServiceKey: null, baseURL: fake.baseUrl, maxRetries: 0, logLevel: "off" });
});
afterEach(async () => {
  await fake.close();
});

const raw = (path: string, init: RequestInit = {}) =>
  fetch(`${fake.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${DEFAULT_TOKEN}`, ...(init.headers ?? {}) } });

const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    const err = e as { status: number; errors: { code: number; message: string }[] };
    return { status: err.status, codes: err.errors.map((x) => x.code) };
  }
  throw new Error("expected an API error");
};

describe("fake Cloudflare API", () => {
  it("answers in the v4 envelope with result_info", async () => {
    fake.seed(zoneId, { name: "a.example.com", type: "A", content: "192.0.2.1" });
    const res = await raw(`/zones/${zoneId}/dns_records?name.exact=a.example.com&type=A`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["errors", "messages", "result", "result_info", "success"]);
    expect(body.result_info).toEqual({ page: 1, per_page: 100, count: 1, total_count: 1, total_pages: 1 });
    const [rec] = body.result as { id: string }[];
    expect(rec!.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it("requires a bearer token (401 code 10000 without, 9109 for an unknown one)", async () => {
    const none = await fetch(`${fake.baseUrl}/zones`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { errors: { code: number }[] }).errors[0]!.code).toBe(10000);
    const bad = new Cloudflare({ apiToken: "nope", apiKey: null, apiEmail: null, userServiceKey: null, baseURL: fake.baseUrl, maxRetries: 0, logLevel: "off" });
    expect(await errorOf(bad.zones.list({ name: "example.com" }))).toEqual({ status: 401, codes: [9109] });
  });

  it("accepts the SDK's name.exact filter and rejects parameters it does not implement", async () => {
    fake.seed(zoneId, { name: "a.example.com", type: "A", content: "192.0.2.1" });
    fake.seed(zoneId, { name: "b.a.example.com", type: "A", content: "192.0.2.2" });
    const page = await sdk.dns.records.list({ zone_id: zoneId, name: { exact: "a.example.com" }, type: "A" });
    expect(page.result.map((r) => r.content)).toEqual(["192.0.2.1"]);
    expect((await raw(`/zones/${zoneId}/dns_records?name[exact]=a.example.com`)).status).toBe(400);
    expect((await raw(`/zones/${zoneId}/dns_records?per_page=0`)).status).toBe(400);
  });

  it("runs a batch in order deletes → patches → puts → posts: a post may reuse a deleted record's content", async () => {
    const old = fake.seed(zoneId, { name: "a.example.com", type: "A", content: "192.0.2.1" });
    const res = await sdk.dns.records.batch({
      zone_id: zoneId,
      posts: [{ name: "a.example.com", type: "A", content: "192.0.2.1", ttl: 300, proxied: false }],
      deletes: [{ id: old.id }],
    });
    expect(res.deletes!.map((r) => r.id)).toEqual([old.id]);
    expect(res.posts).toHaveLength(1);
    expect(fake.records(zoneId).map((r) => r.content)).toEqual(["192.0.2.1"]);
    expect(fake.records(zoneId)[0]!.id).not.toBe(old.id);
  });

  it("fails a whole batch on its first bad item and changes nothing", async () => {
    const a = fake.seed(zoneId, { name: "a.example.com", type: "A", content: "192.0.2.1" });
    fake.seed(zoneId, { name: "a.example.com", type: "A", content: "192.0.2.2" });
    const snapshot = fake.records(zoneId);
    expect(
      await errorOf(
        sdk.dns.records.batch({
          zone_id: zoneId,
          deletes: [{ id: a.id }],
          posts: [{ name: "a.example.com", type: "A", content: "192.0.2.2", ttl: 300 }],
        }),
      ),
    ).toEqual({ status: 400, codes: [81058] });
    expect(await errorOf(sdk.dns.records.batch({ zone_id: zoneId, deletes: [{ id: a.id }, { id: "0".repeat(32) }] }))).toEqual({
      status: 404,
      codes: [81044],
    });
    expect(fake.records(zoneId)).toEqual(snapshot);
  });

  it("enforces TTL 1 or 60–86400, proxied only on A/AAAA/CNAME, comments up to 100 characters", async () => {
    const post = (p: Record<string, unknown>) =>
      errorOf(sdk.dns.records.batch({ zone_id: zoneId, posts: [{ name: "t.example.com", type: "A", content: "192.0.2.9", ttl: 300, ...p } as never] }));
    expect(await post({ ttl: 30 })).toEqual({ status: 400, codes: [9021] });
    expect(await post({ ttl: 86401 })).toEqual({ status: 400, codes: [9021] });
    expect(await post({ type: "TXT", content: '"x"', proxied: true })).toEqual({ status: 400, codes: [9004] });
    expect(await post({ comment: "x".repeat(101) })).toEqual({ status: 400, codes: [9102] });
    expect(await post({ content: "2001:db8::1" })).toEqual({ status: 400, codes: [9005] });
    await sdk.dns.records.batch({ zone_id: zoneId, posts: [{ name: "t.example.com", type: "A", content: "192.0.2.9", ttl: 1 }] });
    expect(fake.records(zoneId, "t.example.com")[0]!.ttl).toBe(1);
  });

  it("refuses a batch over its size limit", async () => {
    fake.batchSizeLimit = 2;
    const posts = ["192.0.2.1", "192.0.2.2", "192.0.2.3"].map((content) => ({ name: "a.example.com", type: "A" as const, content, ttl: 300 }));
    expect(await errorOf(sdk.dns.records.batch({ zone_id: zoneId, posts }))).toEqual({ status: 400, codes: [81063] });
    expect(fake.records(zoneId)).toEqual([]);
  });

  it("answers 403 for a zone the token may not use", async () => {
    const other = fake.addZone("other.example");
    const limited = await CloudflareFake.start({ tokens: { t: { zones: [zoneId] } } });
    try {
      const z = limited.addZone("other.example", other);
      const c = new Cloudflare({ apiToken: "t", apiKey: null, apiEmail: null, userServiceKey: null, baseURL: limited.baseUrl, maxRetries: 0, logLevel: "off" });
      expect(await errorOf(c.dns.records.list({ zone_id: z }))).toEqual({ status: 403, codes: [10000] });
    } finally {
      await limited.close();
    }
  });

  it("injects 429 with retry-after and logs every request", async () => {
    fake.inject({ status: 429, retryAfter: "7" });
    const res = await raw("/zones");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect((await raw("/zones")).status).toBe(200);
    expect(fake.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ["GET", "/client/v4/zones", 429],
      ["GET", "/client/v4/zones", 200],
    ]);
  });
});
