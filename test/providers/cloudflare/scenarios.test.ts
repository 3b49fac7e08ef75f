/**
 * Whole cycles through the controller (reconcileProvider) against the fake Cloudflare API, with
 * the real SDK in between.
 */
import { afterEach, describe, expect, it } from "vitest";
import { reconcileProvider, type ReconcileOptions } from "../../../src/controller/reconcile.js";
import type { HealthView, PoolSpec, Verdict } from "../../../src/model.js";
import { pool as testPool } from "../../helpers/pools.js";
import { CONTROLLER, COMMENT, POOL, addresses, harness, seedA, seedMarker, signal, type Harness } from "./helpers.js";

const pool = (members: PoolSpec["members"]): PoolSpec => testPool({ name: POOL, provider: "cf", members });

const m = (address: string, standby?: string) => ({ address, label: address, ...(standby ? { standby } : {}) });

function health(states: Record<string, Verdict["health"]>): HealthView {
  return (_pool, address) => {
    const h = states[address] ?? "unknown";
    return { health: h, reason: h === "down" ? "timeout waiting for banner after 1000 ms" : "220 banner" };
  };
}

let h: Harness;
afterEach(async () => {
  await h.fake.close();
});

async function run(hh: Harness, opts: Partial<ReconcileOptions> & Pick<ReconcileOptions, "pools" | "health">, providerConfig = {}) {
  const provider = await hh.provider({ maxRetries: 2, ...providerConfig });
  return reconcileProvider({
    provider,
    providerName: "cf",
    controllerId: CONTROLLER,
    dryRun: false,
    signal: signal(),
    retry: { retries: 4, minTimeoutMs: 5, maxTimeoutMs: 20 },
    ...opts,
  });
}

describe("Cloudflare scenarios through reconcileProvider", () => {
  it("removes a dead member's record by id and leaves the live one untouched", async () => {
    h = await harness();
    seedMarker(h);
    const live = seedA(h, "192.0.2.10");
    seedA(h, "192.0.2.11");
    const r = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "down" }) });
    expect(r.error).toBeUndefined();
    expect(r.plans[0]!.actions.map((a) => [a.kind, a.address])).toEqual([["remove", "192.0.2.11"]]);
    expect(addresses(h)).toEqual(["192.0.2.10"]);
    expect(h.fake.records(h.zoneId, POOL, "A")[0]).toEqual(live);
    expect(r.attempts).toBe(1);
  });

  it("reinstates a recovered member with a post carrying the comment and proxied:false", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10");
    const r = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "up" }) });
    expect(r.error).toBeUndefined();
    expect(r.plans[0]!.actions.map((a) => a.kind)).toEqual(["reinstate"]);
    const added = h.fake.records(h.zoneId, POOL, "A").find((x) => x.content === "192.0.2.11");
    expect(added).toMatchObject({ ttl: 300, proxied: false, comment: COMMENT });
  });

  it("hands a dead member's place to its standby in one atomic batch", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10");
    seedA(h, "192.0.2.11");
    const r = await run(h, {
      pools: [pool([m("192.0.2.10"), m("192.0.2.11", "192.0.2.20")])],
      health: health({ "192.0.2.10": "up", "192.0.2.11": "down", "192.0.2.20": "up" }),
    });
    expect(r.error).toBeUndefined();
    expect(r.plans[0]!.actions.map((a) => [a.kind, a.address, a.standby])).toEqual([["takeover", "192.0.2.11", "192.0.2.20"]]);
    expect(addresses(h)).toEqual(["192.0.2.10", "192.0.2.20"]);
    const writes = h.fake.writes();
    expect(writes).toHaveLength(1);
    expect(writes[0]!.body).toMatchObject({ deletes: [{ id: expect.any(String) }], posts: [{ content: "192.0.2.20" }] });
  });

  it("corrects TTL 1 (automatic) to the pool's TTL with patches", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10", { ttl: 1 });
    seedA(h, "192.0.2.11", { ttl: 1 });
    const r = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "up" }) });
    expect(r.error).toBeUndefined();
    expect(r.plans[0]!.actions.map((a) => [a.kind, a.fromTtl, a.toTtl])).toEqual([["ttl", 1, 300]]);
    expect(h.fake.records(h.zoneId, POOL, "A").map((x) => x.ttl)).toEqual([300, 300]);
    expect((h.fake.writes()[0]!.body as { patches: unknown[] }).patches).toHaveLength(2);
  });

  it("repairs a proxied record (patch proxied:false) with the drift as the reason", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10", { proxied: true });
    seedA(h, "192.0.2.11");
    const r = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "up" }) });
    expect(r.error).toBeUndefined();
    expect(r.plans[0]!.actions.map((a) => [a.kind, a.reason])).toEqual([
      ["repair", "192.0.2.10 is proxied; Cloudflare cannot proxy SMTP/IMAP/POP3"],
    ]);
    expect(h.fake.records(h.zoneId, POOL, "A").every((x) => !x.proxied)).toBe(true);
    // The next cycle finds nothing to do.
    const again = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "up" }) });
    expect(again.plans[0]!.actions).toEqual([]);
    expect(again.applied).toBeNull();
  });

  it("re-plans when someone adds a record between read and apply: the pre-check refuses, nothing is lost", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10");
    seedA(h, "192.0.2.11");
    let edited = false;
    h.fake.beforeRequest = ({ n }) => {
      // Requests 1–3 are the cycle's reads (A, AAAA, marker); request 4 is the pre-check.
      if (n === 4 && !edited) {
        edited = true;
        seedA(h, "192.0.2.30", { comment: "added by hand" });
      }
    };
    const r = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "down" }) });
    expect(r.error).toBeUndefined();
    expect(r.attempts).toBe(2);
    // The first round wrote nothing; the second planned with the stranger in view and kept it.
    expect(h.fake.writes()).toHaveLength(1);
    expect(addresses(h)).toEqual(["192.0.2.10", "192.0.2.30"]);
    expect(r.plans[0]!.alarms).toContain(`192.0.2.30 is in ${POOL} but is not a configured member or standby; left alone`);
  });

  it("re-plans when someone deletes the record mailpool is deleting: the batch fails, the next round finds it done", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10");
    const dead = seedA(h, "192.0.2.11");
    let edited = false;
    h.fake.beforeRequest = ({ method }) => {
      if (method === "POST" && !edited) {
        edited = true;
        h.fake.remove(h.zoneId, dead.id);
      }
    };
    const r = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "down" }) });
    expect(r.error).toBeUndefined();
    expect(r.attempts).toBe(2);
    expect(h.fake.writes().map((w) => w.status)).toEqual([404]); // 81044; the second round had nothing to send
    expect(r.plans[0]!.actions).toEqual([]);
    expect(addresses(h)).toEqual(["192.0.2.10"]);
  });

  it("reports a batch whose reply was lost (502 after the write landed) as applied once the re-read shows it", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10");
    seedA(h, "192.0.2.11");
    h.fake.inject({ status: 502, afterWrite: true, message: "Bad gateway", when: ({ method, path }) => method === "POST" && path.endsWith("/batch") });
    const r = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "down" }) });
    expect(r.error).toBeUndefined();
    expect(addresses(h)).toEqual(["192.0.2.10"]);
    // One batch: the SDK does not retry a write, and the re-read found nothing left to send.
    expect(h.fake.writes().map((w) => w.status)).toEqual([502]);
    expect(r.plans[0]!.actions.map((a) => [a.kind, a.address])).toEqual([["remove", "192.0.2.11"]]);
    expect(r.applied?.applied).toBe(1);
    expect(r.applied?.notes.join("\n")).toMatch(/but re-reading shows its changes live for smtp\.example\.com: the write landed and its reply was lost/);
  });

  it("re-plans when someone posts the same address first: 81058, then nothing left to do", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10");
    let edited = false;
    h.fake.beforeRequest = ({ method }) => {
      if (method === "POST" && !edited) {
        edited = true;
        seedA(h, "192.0.2.11");
      }
    };
    const r = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "up" }) });
    expect(r.error).toBeUndefined();
    expect(r.attempts).toBe(2);
    expect(h.fake.writes().map((w) => w.status)).toEqual([400]);
    expect(addresses(h)).toEqual(["192.0.2.10", "192.0.2.11"]);
  });

  it("converges through a rate-limit storm within bounded retries", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10");
    seedA(h, "192.0.2.11");
    // Seven 429s in a row: each call is tried 3 times by the SDK (maxRetries 2), so rounds 1
    // and 2 fail on their first read and round 3 gets through (the 7th 429 is retried by the SDK).
    h.fake.inject({ status: 429, retryAfter: "0", times: 7 });
    const r = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "down" }) });
    expect(r.error).toBeUndefined();
    expect(r.attempts).toBe(3);
    expect(addresses(h)).toEqual(["192.0.2.10"]);
    expect(h.fake.requests.map((x) => x.status)).toEqual([429, 429, 429, 429, 429, 429, 429, 200, 200, 200, 200, 200]);
    // storm + 3 reads + 1 pre-check + 1 batch
    expect(h.fake.writes()).toHaveLength(1);
  });

  it("gives up with a transient error when the storm outlasts the retries", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10");
    h.fake.inject({ status: 429, retryAfter: "0", times: 1_000 });
    const r = await run(
      h,
      { pools: [pool([m("192.0.2.10")])], health: health({ "192.0.2.10": "up" }), retry: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 10 } },
      { maxRetries: 1 },
    );
    expect(r.error?.message).toContain("rate limited (429");
    expect(r.attempts).toBe(3);
    // 3 rounds, each stopped at its first read: 1 try + 1 SDK retry.
    expect(h.fake.requests).toHaveLength(3 * 2);
    expect(h.fake.writes()).toEqual([]);
  });

  it("leaves a foreign record set without the marker alone, and the plan says so", async () => {
    h = await harness();
    seedA(h, "192.0.2.10", { comment: null });
    seedA(h, "192.0.2.11", { comment: null });
    const r = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "down" }) });
    expect(r.error).toBeUndefined();
    const plan = r.plans[0]!;
    expect(plan.actions).toEqual([]);
    expect(plan.held.map((x) => [x.action.kind, x.rule])).toContainEqual(["remove", "ownership"]);
    expect(plan.held.every((x) => x.rule === "ownership")).toBe(true);
    expect(plan.held[0]!.why).toContain(`no ownership marker at _mailpool.${POOL} TXT`);
    expect(h.fake.writes()).toEqual([]);
    expect(addresses(h)).toEqual(["192.0.2.10", "192.0.2.11"]);
  });

  it("leaves a stranger's record alone: its TTL, the operator's comment and its flags stay as they were", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10", { ttl: 600 });
    seedA(h, "192.0.2.11");
    const stranger = seedA(h, "198.51.100.7", { ttl: 3600, comment: "ops: temporary relay, ticket 4711" });
    const r = await run(h, { pools: [pool([m("192.0.2.10"), m("192.0.2.11")])], health: health({ "192.0.2.10": "up", "192.0.2.11": "down" }) });
    expect(r.error).toBeUndefined();
    expect(r.plans[0]!.actions.map((a) => a.kind).sort()).toEqual(["remove", "ttl"]);
    expect(r.plans[0]!.alarms).toEqual(["198.51.100.7 is in smtp.example.com but is not a configured member or standby; left alone"]);
    expect(h.fake.records(h.zoneId, POOL, "A").find((x) => x.content === "198.51.100.7")).toEqual(stranger);
    const [write] = h.fake.writes();
    expect(JSON.stringify(write!.body)).not.toContain(stranger.id);
    expect(h.fake.records(h.zoneId, POOL, "A").find((x) => x.content === "192.0.2.10")).toMatchObject({ ttl: 300 });
  });

  it("raises an alarm for a proxied stranger, and does not touch it", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10");
    const stranger = seedA(h, "198.51.100.7", { proxied: true, comment: "ops: cdn test" });
    const r = await run(h, { pools: [pool([m("192.0.2.10")])], health: health({ "192.0.2.10": "up" }) });
    expect(r.error).toBeUndefined();
    expect(r.plans[0]!.actions).toEqual([]);
    expect(r.plans[0]!.alarms).toEqual([
      "198.51.100.7 is in smtp.example.com but is not a configured member or standby, and it is proxied: Cloudflare then proxies every record at the name, and SMTP/IMAP/POP3 cannot be proxied; mailpool leaves records it does not manage alone: fix it by hand",
    ]);
    expect(h.fake.writes()).toEqual([]);
    expect(h.fake.records(h.zoneId, POOL, "A").find((x) => x.content === "198.51.100.7")).toEqual(stranger);
  });

  it("reports Cloudflare's refusal by name when a CNAME stands at the pool's name, and writes nothing", async () => {
    h = await harness();
    seedMarker(h);
    h.fake.seed(h.zoneId, { name: POOL, type: "CNAME", content: "mail.example.net", ttl: 300, proxied: false, comment: null });
    const r = await run(h, { pools: [pool([m("192.0.2.10")])], health: health({ "192.0.2.10": "up" }) });
    expect(r.error?.message).toMatch(/was refused \(code 81054: A CNAME record with that host already exists\.\): a CNAME record stands at the pool's name, and A\/AAAA records cannot stand beside it \(RFC 1034 section 3\.6\.2\)/);
    expect(r.attempts).toBe(1); // not retried: re-planning cannot help
    expect(addresses(h)).toEqual([]);
  });

  it("sends no write request at all in dry-run", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10", { proxied: true, ttl: 1 });
    seedA(h, "192.0.2.11");
    const r = await run(h, {
      dryRun: true,
      pools: [pool([m("192.0.2.10"), m("192.0.2.11"), m("192.0.2.12")])],
      health: health({ "192.0.2.10": "up", "192.0.2.11": "down", "192.0.2.12": "up" }),
    });
    expect(r.error).toBeUndefined();
    expect(r.applied).toBeNull();
    expect(r.plans[0]!.actions.map((a) => a.kind).sort()).toEqual(["reinstate", "remove", "repair", "ttl"]);
    expect(h.fake.requests.length).toBeGreaterThan(0);
    expect(h.fake.writes()).toEqual([]);
    expect(h.fake.requests.every((x) => x.method === "GET")).toBe(true);
  });
});
