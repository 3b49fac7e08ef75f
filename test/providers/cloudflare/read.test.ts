import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { createCloudflareProvider } from "../../../providers/cloudflare/index.js";
import { ProviderConfigError } from "../../../providers/types.js";
import type { CloudflareNative } from "../../../providers/cloudflare/records.js";
import { DEFAULT_TOKEN } from "../../fakes/cloudflare-server.js";
import { COMMENT, POOL, ZONE, context, harness, seedA, seedMarker, signal, type Harness } from "./helpers.js";

let h: Harness;
afterEach(async () => {
  await h.fake.close();
});

const listRequests = (hh: Harness, type: string, name = POOL) =>
  hh.fake.requests.filter((r) => r.method === "GET" && r.path.endsWith("/dns_records") && r.query["name.exact"] === name && r.query.type === type);

describe("Cloudflare read", () => {
  it("reads a round robin of separate records as one RRset, with ids in native", async () => {
    h = await harness();
    const a = seedA(h, "192.0.2.10");
    const b = seedA(h, "192.0.2.11");
    seedA(h, "192.0.2.99", { name: `mx.${POOL}` }); // another name: not part of the RRset
    h.fake.seed(h.zoneId, { name: POOL, type: "AAAA", content: "2001:DB8::0:1", ttl: 300, comment: COMMENT });
    const p = await h.provider();
    const rrsets = await p.read([{ name: POOL, type: "A" }, { name: POOL, type: "AAAA" }, { name: `_mailpool.${POOL}`, type: "TXT" }], signal());
    const A = rrsets.find((r) => r.type === "A")!;
    expect(A.values).toEqual(["192.0.2.10", "192.0.2.11"]);
    expect(A.ttl).toBe(300);
    expect(A.drift).toBeUndefined();
    const native = A.native as CloudflareNative;
    expect(native.zoneId).toBe(h.zoneId);
    expect(native.records.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
    expect(native.records[0]).toMatchObject({ content: "192.0.2.10", ttl: 300, proxied: false, comment: COMMENT });
    expect(rrsets.find((r) => r.type === "AAAA")!.values).toEqual(["2001:db8::1"]);
    // Absent RRsets are simply not returned.
    expect(rrsets.find((r) => r.type === "TXT")).toBeUndefined();
  });

  it("sends the SDK's exact-name filter (name.exact) and the type filter", async () => {
    h = await harness();
    seedA(h, "192.0.2.10");
    const p = await h.provider();
    await p.read([{ name: "SMTP.Example.COM.", type: "A" }], signal());
    const reqs = listRequests(h, "A");
    expect(reqs).toHaveLength(1);
    expect(reqs[0]!.query).toMatchObject({ "name.exact": POOL, type: "A", page: "1", per_page: "100" });
  });

  it("finds the zone by name once, then reuses its id", async () => {
    h = await harness();
    seedA(h, "192.0.2.10");
    const p = await h.provider({ zoneName: ZONE });
    await p.read([{ name: POOL, type: "A" }], signal());
    const rrsets = await p.read([{ name: POOL, type: "A" }], signal());
    expect(rrsets[0]!.values).toEqual(["192.0.2.10"]);
    const zoneLookups = h.fake.requests.filter((r) => r.path === "/client/v4/zones");
    expect(zoneLookups).toHaveLength(1);
    expect(zoneLookups[0]!.query.name).toBe(ZONE);
  });

  it("says clearly when the zone name is not visible to the token", async () => {
    h = await harness({ tokens: { [DEFAULT_TOKEN]: { zones: "*", zoneRead: false } } });
    const p = await h.provider({ zoneName: ZONE });
    const err = await p.read([{ name: POOL, type: "A" }], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderConfigError);
    expect((err as Error).message).toContain("no zone named example.com is visible to this API token");
  });

  it("reads every page of a large RRset and stops by total_pages, not by an empty page", async () => {
    // A server that answers pages past the end with the last page again (non-empty): a client
    // waiting for an empty page would loop or duplicate records.
    h = await harness({ pastLastPage: "repeat-last" });
    for (let i = 0; i < 250; i++) seedA(h, `10.1.${Math.floor(i / 200)}.${i % 200}`);
    const p = await h.provider();
    const [A] = await p.read([{ name: POOL, type: "A" }], signal());
    expect(A!.values).toHaveLength(250);
    expect(new Set(A!.values).size).toBe(250);
    const reqs = listRequests(h, "A");
    expect(reqs.map((r) => r.query.page)).toEqual(["1", "2", "3"]);
    // The last page was short and non-empty; nothing asked for page 4.
    expect(reqs.every((r) => r.status === 200)).toBe(true);
  });

  it("stops after the last full page when total_pages says so", async () => {
    h = await harness({ pastLastPage: "repeat-last" });
    for (let i = 0; i < 21; i++) seedA(h, `10.2.0.${i}`);
    const p = await h.provider({}, { perPage: 7 });
    const [A] = await p.read([{ name: POOL, type: "A" }], signal());
    expect(A!.values).toHaveLength(21);
    expect(listRequests(h, "A").map((r) => [r.query.page, r.query.per_page])).toEqual([
      ["1", "7"],
      ["2", "7"],
      ["3", "7"],
    ]);
  });

  it("reads a record at TTL 1 (automatic) as ttl 1", async () => {
    h = await harness();
    seedA(h, "192.0.2.10", { ttl: 1 });
    const p = await h.provider();
    const [A] = await p.read([{ name: POOL, type: "A" }], signal());
    expect(A!.ttl).toBe(1);
  });

  it("reports the lowest TTL, and each record's own TTL, when the records disagree", async () => {
    h = await harness();
    seedA(h, "192.0.2.10", { ttl: 600 });
    seedA(h, "192.0.2.11", { ttl: 300 });
    const p = await h.provider();
    const [A] = await p.read([{ name: POOL, type: "A" }], signal());
    expect(A!.ttl).toBe(300);
    expect(A!.records?.map((r) => [r.value, r.ttl])).toEqual([["192.0.2.10", 600], ["192.0.2.11", 300]]);
    expect(A!.drift).toBeUndefined();
  });

  it("reports a proxied record as drift", async () => {
    h = await harness();
    seedA(h, "192.0.2.10", { proxied: true });
    seedA(h, "192.0.2.11");
    const p = await h.provider();
    const [A] = await p.read([{ name: POOL, type: "A" }], signal());
    expect(A!.values).toEqual(["192.0.2.10", "192.0.2.11"]);
    expect(A!.records?.map((r) => r.drift)).toEqual([["192.0.2.10 is proxied; Cloudflare cannot proxy SMTP/IMAP/POP3"], []]);
    expect(A!.records?.[0]?.breaksName).toMatch(/proxies every record at the name/);
  });

  it("keeps a record without the mailpool comment in the RRset and reports it as drift", async () => {
    h = await harness();
    seedA(h, "192.0.2.10", { comment: null });
    seedA(h, "192.0.2.11", { comment: "primary relay" });
    seedA(h, "192.0.2.12", { comment: `primary relay; ${COMMENT}` });
    const p = await h.provider();
    const [A] = await p.read([{ name: POOL, type: "A" }], signal());
    expect(A!.values).toEqual(["192.0.2.10", "192.0.2.11", "192.0.2.12"]);
    expect(A!.records?.flatMap((r) => r.drift)).toEqual([
      `192.0.2.10 lacks the comment "${COMMENT}"`,
      `192.0.2.11 has the comment "primary relay", not "${COMMENT}"`,
    ]);
  });

  it("reads TXT content quoted or bare as the unquoted text", async () => {
    h = await harness();
    seedMarker(h);
    h.fake.seed(h.zoneId, { name: `_mailpool.other.${ZONE}`, type: "TXT", content: "mailpool owner=ctl-1", ttl: 300 });
    h.fake.seed(h.zoneId, { name: `_split.${ZONE}`, type: "TXT", content: '"mailpool " "owner=\\"x\\""', ttl: 300 });
    const p = await h.provider();
    const rrsets = await p.read(
      [
        { name: `_mailpool.${POOL}`, type: "TXT" },
        { name: `_mailpool.other.${ZONE}`, type: "TXT" },
        { name: `_split.${ZONE}`, type: "TXT" },
      ],
      signal(),
    );
    expect(rrsets.map((r) => r.values)).toEqual([["mailpool owner=ctl-1"], ["mailpool owner=ctl-1"], ['mailpool owner="x"']]);
    expect(rrsets.every((r) => r.drift === undefined)).toBe(true);
  });

  it("refuses names outside a zone given by name, at create and at read", async () => {
    h = await harness();
    const p = await h.provider({ zoneName: ZONE });
    const err = await p.read([{ name: "smtp.example.org", type: "A" }], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderConfigError);
    expect((err as Error).message).toBe("providers.cf: smtp.example.org is not in zone example.com; give the pool a provider block for its own zone");
    const early = await createCloudflareProvider(
      { type: "cloudflare", zoneName: ZONE, apiToken: DEFAULT_TOKEN, baseUrl: h.fake.baseUrl },
      context({ pools: [{ name: "imap.example.net", recordStyle: "simple" }] }),
    ).catch((e: unknown) => e);
    expect((early as Error).message).toContain("pool(s) imap.example.net are not in zone example.com");
    expect(h.fake.requests).toEqual([]);
  });

  it("leaves no abort listener behind on the caller's signal", async () => {
    h = await harness();
    seedA(h, "192.0.2.10");
    const p = await h.provider({ requestsPer5Minutes: 300_000 });
    const sig = new AbortController().signal;
    for (let i = 0; i < 15; i++) await p.read([{ name: POOL, type: "A" }, { name: POOL, type: "AAAA" }], sig);
    expect(getEventListeners(sig, "abort")).toHaveLength(0);
  });

  it("stops waiting for the rate limiter when the signal aborts, with the signal's reason", async () => {
    h = await harness();
    seedA(h, "192.0.2.10");
    const p = await h.provider({ requestsPer5Minutes: 1 }); // burst 1, then one request per 300 s
    await p.read([{ name: POOL, type: "A" }], signal());
    const ac = new AbortController();
    const reason = new Error("cycle cancelled");
    setTimeout(() => ac.abort(reason), 50);
    await expect(p.read([{ name: POOL, type: "A" }], ac.signal)).rejects.toBe(reason);
    expect(h.fake.requests).toHaveLength(1);
  });
});
