import { describe, expect, it } from "vitest";
import { materialize } from "../../src/plan/materialize.js";
import { planPool, strangers } from "../../src/plan/plan-pool.js";
import { health, marker, pool, rr } from "../helpers/pools.js";

describe("planPool", () => {
  it("plans nothing when every member is up and in the RRset", () => {
    const p = pool();
    expect(planPool(p, { A: rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]), marker: marker() }, health({}))).toEqual([]);
  });

  it("removes a down member with its reason", () => {
    const actions = planPool(pool(), { A: rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]) }, health({ "192.0.2.11": "down" }));
    expect(actions).toEqual([
      expect.objectContaining({ kind: "remove", type: "A", address: "192.0.2.11", reason: expect.stringContaining("192.0.2.11 is down: 3 of 3 probe(s) failed") }),
    ]);
  });

  it("reinstates an up member that is missing", () => {
    const actions = planPool(pool(), { A: rr("A", ["192.0.2.10", "192.0.2.12"]) }, health({}));
    expect(actions).toEqual([expect.objectContaining({ kind: "reinstate", address: "192.0.2.11" })]);
  });

  it("does nothing for members whose health is unknown", () => {
    expect(planPool(pool(), { A: rr("A", ["192.0.2.10"]) }, health({}, "unknown"))).toEqual([]);
  });

  it("hands a dead member's place to its healthy standby (takeover)", () => {
    const p = pool({ standbys: { "192.0.2.11": "192.0.2.21" } });
    const actions = planPool(p, { A: rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]) }, health({ "192.0.2.11": "down" }));
    expect(actions).toEqual([expect.objectContaining({ kind: "takeover", address: "192.0.2.11", standby: "192.0.2.21", reason: expect.stringContaining("standby 192.0.2.21 is up") })]);
  });

  it("removes a dead member whose standby is down too, and says so", () => {
    const p = pool({ standbys: { "192.0.2.11": "192.0.2.21" } });
    const actions = planPool(p, { A: rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]) }, health({ "192.0.2.11": "down", "192.0.2.21": "down" }));
    expect(actions).toEqual([expect.objectContaining({ kind: "remove", address: "192.0.2.11", reason: expect.stringContaining("standby 192.0.2.21 is down too") })]);
  });

  it("restores a recovered member and lets its standby step aside", () => {
    const p = pool({ standbys: { "192.0.2.11": "192.0.2.21" } });
    const actions = planPool(p, { A: rr("A", ["192.0.2.10", "192.0.2.12", "192.0.2.21"]) }, health({}));
    expect(actions).toEqual([expect.objectContaining({ kind: "restore", address: "192.0.2.11", standby: "192.0.2.21" })]);
  });

  it("brings in the standby later when the member was removed while the standby was down", () => {
    const p = pool({ standbys: { "192.0.2.11": "192.0.2.21" } });
    const actions = planPool(p, { A: rr("A", ["192.0.2.10", "192.0.2.12"]) }, health({ "192.0.2.11": "down" }));
    expect(actions).toEqual([expect.objectContaining({ kind: "takeover", address: "192.0.2.11", standby: "192.0.2.21" })]);
  });

  it("removes a standby that took over and then died", () => {
    const p = pool({ standbys: { "192.0.2.11": "192.0.2.21" } });
    const actions = planPool(p, { A: rr("A", ["192.0.2.10", "192.0.2.12", "192.0.2.21"]) }, health({ "192.0.2.11": "down", "192.0.2.21": "down" }));
    expect(actions).toEqual([expect.objectContaining({ kind: "remove", address: "192.0.2.21", reason: expect.stringContaining("standby 192.0.2.21") })]);
  });

  it("corrects a live TTL that differs from the configured one", () => {
    const actions = planPool(pool(), { A: rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12"], 3600) }, health({}));
    expect(actions).toEqual([expect.objectContaining({ kind: "ttl", fromTtl: 3600, toTtl: 300, reason: "live TTL 3600 s differs from the configured 300 s" })]);
  });

  it("repairs drift the provider reports, with the provider's words as the reason", () => {
    const live = { ...rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]), drift: ["192.0.2.10 is proxied; Cloudflare cannot proxy SMTP"] };
    expect(planPool(pool(), { A: live }, health({}))).toEqual([expect.objectContaining({ kind: "repair", reason: "192.0.2.10 is proxied; Cloudflare cannot proxy SMTP" })]);
  });

  it("plans A and AAAA separately, A first", () => {
    const p = pool({ addresses: ["2001:db8::10", "192.0.2.10", "2001:db8::11", "192.0.2.11"] });
    const actions = planPool(p, { A: rr("A", ["192.0.2.10", "192.0.2.11"]), AAAA: rr("AAAA", ["2001:db8::10"]) }, health({ "192.0.2.11": "down" }));
    expect(actions.map((a) => [a.type, a.kind, a.address])).toEqual([
      ["A", "remove", "192.0.2.11"],
      ["AAAA", "reinstate", "2001:db8::11"],
    ]);
  });

  it("leaves addresses that are not members alone and reports them", () => {
    const p = pool();
    const current = { A: rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12", "198.51.100.7"]) };
    expect(planPool(p, current, health({}))).toEqual([]);
    expect(strangers(p, current)).toEqual(["198.51.100.7"]);
  });
});

describe("planPool with a standby shared by several members", () => {
  const S = "192.0.2.99";
  const shared = (order: string[]) => pool({ addresses: order, standbys: { "192.0.2.10": S, "192.0.2.11": S } });
  const apply = (p: ReturnType<typeof pool>, live: string[], h: ReturnType<typeof health>) =>
    materialize(p, { A: rr("A", live) }, planPool(p, { A: rr("A", live) }, h))[0]?.after?.values ?? live;

  it("keeps the standby while another member it covers is still down", () => {
    const p = shared(["192.0.2.10", "192.0.2.11", "192.0.2.12"]);
    const actions = planPool(p, { A: rr("A", [S, "192.0.2.12"]) }, health({ "192.0.2.11": "down" }));
    expect(actions).toEqual([expect.objectContaining({ kind: "reinstate", address: "192.0.2.10", reason: expect.stringContaining(`standby ${S} stays`) })]);
  });

  it("gives the same RRset whatever the member order", () => {
    const h = health({ "192.0.2.11": "down" });
    const live = [S, "192.0.2.11", "192.0.2.12"];
    const a = apply(shared(["192.0.2.10", "192.0.2.11", "192.0.2.12"]), live, h);
    const b = apply(shared(["192.0.2.11", "192.0.2.10", "192.0.2.12"]), live, h);
    expect(a).toEqual(["192.0.2.10", "192.0.2.12", S]);
    expect(b).toEqual(a);
  });

  it("lets the standby step aside once every member it covers is up", () => {
    const p = shared(["192.0.2.10", "192.0.2.11", "192.0.2.12"]);
    expect(apply(p, [S, "192.0.2.12"], health({}))).toEqual(["192.0.2.10", "192.0.2.11", "192.0.2.12"]);
  });

  it("removes a dead shared standby once, however many members it covers", () => {
    const p = shared(["192.0.2.10", "192.0.2.11", "192.0.2.12"]);
    const actions = planPool(p, { A: rr("A", [S, "192.0.2.12"]) }, health({ "192.0.2.10": "down", "192.0.2.11": "down", [S]: "down" }));
    expect(actions.filter((x) => x.kind === "remove").map((x) => x.address)).toEqual([S]);
  });

  it("leaves an RRset of a family the pool has no members of entirely alone, TTL included", () => {
    const p = pool();
    expect(planPool(p, { A: rr("A", p.members.map((m) => m.address)), AAAA: rr("AAAA", ["2001:db8::99"], 3600) }, health({}))).toEqual([]);
  });
});

describe("strangers (addresses that are no member or standby)", () => {
  it("says that a TTL fix of a one-TTL RRset also changes the stranger's TTL", () => {
    const actions = planPool(pool(), { A: rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12", "198.51.100.7"], 3600) }, health({}));
    expect(actions).toEqual([
      expect.objectContaining({
        kind: "ttl",
        reason: "live TTL 3600 s differs from the configured 300 s; the RRset has one TTL, so this also changes the TTL of 198.51.100.7, which is not mailpool's",
      }),
    ]);
  });

  it("judges only our records' TTL and drift where each value has its own record; the stranger is left as it is", () => {
    const A = {
      ...rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12", "198.51.100.7"], 300),
      records: [
        { value: "192.0.2.10", ttl: 300, drift: [] },
        { value: "192.0.2.11", ttl: 600, drift: [] },
        { value: "192.0.2.12", ttl: 300, drift: [] },
        { value: "198.51.100.7", ttl: 3600, drift: ['198.51.100.7 has the comment "ops: temporary relay, ticket 4711", not "managed by mailpool"'] },
      ],
    };
    const actions = planPool(pool(), { A }, health({}));
    expect(actions).toEqual([expect.objectContaining({ kind: "ttl", fromTtl: 600, toTtl: 300, reason: "live TTL differs from the configured 300 s (192.0.2.11 600 s)" })]);
    const [change] = materialize(pool(), { A }, actions);
    expect(change!.leave).toEqual(["198.51.100.7"]);
    expect(change!.after).toEqual({ ttl: 300, values: ["192.0.2.10", "192.0.2.11", "192.0.2.12", "198.51.100.7"] });
  });

  it("a stranger's TTL does not become the TTL of a member it writes", () => {
    const A = {
      ...rr("A", ["192.0.2.10", "198.51.100.7"], 60),
      records: [
        { value: "192.0.2.10", ttl: 300, drift: [] },
        { value: "198.51.100.7", ttl: 60, drift: [] },
      ],
    };
    const actions = planPool(pool(), { A }, health({}));
    expect(actions.map((a) => a.kind)).toEqual(["reinstate", "reinstate"]);
    expect(materialize(pool(), { A }, actions)[0]!.after?.ttl).toBe(300);
  });
});
