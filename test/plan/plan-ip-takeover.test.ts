import { describe, expect, it } from "vitest";
import type { IpHolding } from "../../providers/ip/types.js";
import type { PoolSpec } from "../../src/model.js";
import { guardIpTakeover, planIpTakeover, type IpRead } from "../../src/plan/plan-ip-takeover.js";
import { planPool } from "../../src/plan/plan-pool.js";
import { health, marker, pool, rr } from "../helpers/pools.js";

const FLOAT = "192.0.2.10";
const HOST = "10.0.0.4";
const STANDBY = "10.0.0.5";

/** smtp.example.com: mx1 floats 192.0.2.10 between its host 10.0.0.4 and standby 10.0.0.5; mx2 is plain. */
function ipPool(over: Partial<PoolSpec> = {}, dnsStandby?: string): PoolSpec {
  const p = pool({ addresses: [FLOAT, "192.0.2.11"], ...over });
  return {
    ...p,
    members: [
      { address: FLOAT, label: "mx1", hostAddress: HOST, ipTakeover: { via: "onprem", standby: STANDBY }, ...(dnsStandby ? { standby: dnsStandby } : {}) },
      p.members[1]!,
    ],
  };
}
const held = (host: string): IpRead => ({ holding: { address: FLOAT, holder: { kind: "host", host }, detail: `status hook: ${host}`, token: host } satisfies IpHolding });
const reads = (r: IpRead | undefined) => (a: string) => (a === FLOAT ? r : undefined);

describe("planIpTakeover", () => {
  it("moves the address to the standby when the member's host is down and the standby is up on its own address", () => {
    const plan = planIpTakeover([ipPool()], reads(held(HOST)), health({ [HOST]: "down" }));
    expect(plan.actions).toEqual([
      expect.objectContaining({ kind: "takeover-ip", address: FLOAT, to: STANDBY, reason: expect.stringMatching(/^mx1 \(192\.0\.2\.10\)'s host 10\.0\.0\.4 is down: .*standby 10\.0\.0\.5 is up on its own address/) }),
    ]);
    expect(plan.addresses[0]).toMatchObject({ holder: "member", detail: "status hook: 10.0.0.4" });
  });

  it("judges the member on its host, not on the floating address (which answers from whoever holds it)", () => {
    // The floating address answers (the standby holds it); the host is still down: no return.
    const plan = planIpTakeover([ipPool()], reads(held(STANDBY)), health({ [HOST]: "down", [FLOAT]: "up" }));
    expect(plan.actions).toEqual([]);
  });

  it("never moves to a standby that is down or not yet judged, and says why", () => {
    for (const sv of ["down", "unknown"] as const) {
      const plan = planIpTakeover([ipPool()], reads(held(HOST)), health({ [HOST]: "down", [STANDBY]: sv }));
      expect(plan.actions).toEqual([]);
      expect(plan.alarms[0]!.text).toContain(sv === "down" ? "standby 10.0.0.5 is down too" : "standby 10.0.0.5 is not yet judged");
    }
  });

  it("returns the address only once the member's host is up (rise passed), not while it is unknown", () => {
    expect(planIpTakeover([ipPool()], reads(held(STANDBY)), health({ [HOST]: "unknown" })).actions).toEqual([]);
    const plan = planIpTakeover([ipPool()], reads(held(STANDBY)), health({ [HOST]: "up" }));
    expect(plan.actions).toEqual([expect.objectContaining({ kind: "return-ip", address: FLOAT, to: HOST })]);
  });

  it("leaves an address held by another host alone and reports it", () => {
    const other: IpRead = { holding: { address: FLOAT, holder: { kind: "other", what: "i-0ffff" }, detail: "eipassoc-1 on i-0ffff", token: "eipassoc-1" } };
    const plan = planIpTakeover([ipPool()], reads(other), health({ [HOST]: "down" }));
    expect(plan.actions).toEqual([]);
    expect(plan.addresses[0]!.holder).toBe("other");
    expect(plan.alarms[0]!.text).toMatch(/held by i-0ffff .*left alone/);
  });

  it("an address nobody holds goes to whichever host is healthy", () => {
    const none: IpRead = { holding: { address: FLOAT, holder: { kind: "none" }, detail: "not associated", token: "none" } };
    expect(planIpTakeover([ipPool()], reads(none), health({})).actions).toEqual([expect.objectContaining({ kind: "return-ip", to: HOST })]);
    expect(planIpTakeover([ipPool()], reads(none), health({ [HOST]: "down" })).actions).toEqual([expect.objectContaining({ kind: "takeover-ip", to: STANDBY })]);
  });

  it("moves nothing for an address whose holder could not be read", () => {
    const plan = planIpTakeover([ipPool()], reads({ error: "status hook timed out" }), health({ [HOST]: "down" }));
    expect(plan.actions).toEqual([]);
    expect(plan.addresses[0]!.holder).toBe("unknown");
    expect(plan.alarms[0]!.text).toContain("status hook timed out");
  });
});

describe("guardIpTakeover", () => {
  const take = (p: PoolSpec, h = health({ [HOST]: "down" })) => planIpTakeover([p], reads(held(HOST)), h).actions;

  it("holds a takeover by failOpen when every address it is shown is down; the planner never plans one then", () => {
    // failOpen counts the IP hosts and standbys like DNS standbys: a standby that answers proves
    // the prober reaches the network. So with every address down no takeover is planned at all
    // (never to a dead standby), and the guard's rule is the second line: given a planned move
    // and a view where everything failed, it holds it.
    const p = ipPool();
    const allDown = health({}, "down");
    expect(planIpTakeover([p], reads(held(HOST)), allDown).actions).toEqual([]);
    const actions = take(p);
    expect(guardIpTakeover([p], actions, health({ [HOST]: "down", [FLOAT]: "down", "192.0.2.11": "down" }), { force: false }).allowed).toHaveLength(1);
    const g = guardIpTakeover([p], actions, allDown, { force: false });
    expect(g.allowed).toEqual([]);
    expect(g.held).toEqual([expect.objectContaining({ rule: "failOpen" })]);
    expect(guardIpTakeover([p], actions, allDown, { force: true }).allowed).toHaveLength(1);
    expect(guardIpTakeover([{ ...p, safety: { ...p.safety, failOpen: false } }], actions, allDown, { force: false }).allowed).toHaveLength(1);
  });

  it("holds takeovers, never returns, under prober isolation; --force moves anyway", () => {
    const p = ipPool();
    const takeover = take(p);
    const back = planIpTakeover([p], reads(held(STANDBY)), health({})).actions;
    const g = guardIpTakeover([p], [...takeover, ...back], health({ [HOST]: "down" }), { force: false, proberIsolation: "5 of 6 members failed" });
    expect(g.held).toEqual([expect.objectContaining({ rule: "proberIsolation", why: "5 of 6 members failed", action: expect.objectContaining({ kind: "takeover-ip" }) })]);
    expect(g.allowed.map((a) => a.kind)).toEqual(["return-ip"]);
    expect(guardIpTakeover([p], takeover, health({}), { force: true, proberIsolation: "x" }).allowed).toHaveLength(1);
  });

  it("holds a takeover outside the pool's change window like a DNS takeover; a return passes unless allowReinstate is false", () => {
    // Sundays 02:00 UTC for an hour; the plan is made on a Monday (2031-03-03) at noon.
    const window = { cron: "0 2 * * 0", durationMinutes: 60 };
    const p = ipPool({ safety: { ...ipPool().safety, changeWindow: window } });
    const now = new Date(Date.UTC(2031, 2, 3, 12, 0));
    const takeover = take(p);
    const back = planIpTakeover([p], reads(held(STANDBY)), health({})).actions;
    const g = guardIpTakeover([p], [...takeover, ...back], health({ [HOST]: "down" }), { force: false, now });
    expect(g.held).toEqual([expect.objectContaining({ rule: "changeWindow", action: expect.objectContaining({ kind: "takeover-ip" }) })]);
    expect(g.allowed.map((a) => a.kind)).toEqual(["return-ip"]);
    const inside = new Date(Date.UTC(2031, 2, 2, 2, 30)); // that Sunday, 02:30
    expect(guardIpTakeover([p], takeover, health({ [HOST]: "down" }), { force: false, now: inside }).allowed).toHaveLength(1);
    const strict = ipPool({ safety: { ...ipPool().safety, changeWindow: { ...window, allowReinstate: false } } });
    expect(guardIpTakeover([strict], back, health({}), { force: false, now }).held).toHaveLength(1);
    expect(guardIpTakeover([p], takeover, health({ [HOST]: "down" }), { force: true, now }).allowed).toHaveLength(1);
  });
});

describe("DNS planning of a member with IP takeover", () => {
  const current = { A: rr("A", [FLOAT, "192.0.2.11"]), marker: marker() };

  it("keeps the address in DNS while the IP standby is up (the address lives on there)", () => {
    expect(planPool(ipPool(), current, health({ [HOST]: "down", [FLOAT]: "down" }))).toEqual([]);
  });

  it("removes it when the IP standby is down too", () => {
    expect(planPool(ipPool(), current, health({ [HOST]: "down", [STANDBY]: "down" }))).toEqual([expect.objectContaining({ kind: "remove", address: FLOAT })]);
  });

  it("with a DNS standby too (both), takes over in DNS as well, judged on the host", () => {
    const p = ipPool({}, "192.0.2.20");
    // The floating address answers (moved), but the host is down: DNS takeover for the long tail.
    expect(planPool(p, current, health({ [HOST]: "down", [FLOAT]: "up" }))).toEqual([expect.objectContaining({ kind: "takeover", address: FLOAT, standby: "192.0.2.20" })]);
  });
});
