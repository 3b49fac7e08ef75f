import { describe, expect, it } from "vitest";
import type { Action } from "../../src/model.js";
import { guardPool } from "../../src/plan/guard.js";
import { maxRemovals } from "../../src/plan/rules/max-remove-percent.js";
import { detectProberIsolation } from "../../src/plan/rules/prober-isolation.js";
import { materialize } from "../../src/plan/materialize.js";
import { planPool, type CurrentRRsets } from "../../src/plan/plan-pool.js";
import { health, marker, pool, rr, SAFE } from "../helpers/pools.js";

const ctx = { controllerId: "test", force: false };

function guarded(p = pool(), current: CurrentRRsets = { A: rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]), marker: marker() }, h = health({}), c: Parameters<typeof guardPool>[4] = ctx) {
  return guardPool(p, current, planPool(p, current, h), h, c);
}

const rules = (held: { rule: string }[]) => held.map((x) => x.rule);

describe("guardPool", () => {
  it("allows a removal of one member of three", () => {
    const g = guarded(pool(), undefined, health({ "192.0.2.11": "down" }));
    expect(g.allowed.map((a) => a.address)).toEqual(["192.0.2.11"]);
    expect(g.held).toEqual([]);
  });

  it("holds every change of a pool without this controller's marker, and says how to adopt", () => {
    const g = guarded(pool(), { A: rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]) }, health({ "192.0.2.11": "down" }));
    expect(g.allowed).toEqual([]);
    expect(rules(g.held)).toEqual(["ownership"]);
    expect(g.held[0]!.why).toContain("mailpool adopt");
  });

  it("holds changes of a pool another controller owns, even with --force", () => {
    const g = guarded(pool(), { A: rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]), marker: marker("other") }, health({ "192.0.2.11": "down" }), { ...ctx, force: true });
    expect(g.allowed).toEqual([]);
    expect(g.held[0]!.why).toContain("names controller other");
  });

  it("keeps the last address when every member fails (fail open) and alarms", () => {
    const g = guarded(pool(), undefined, health({}, "down"));
    expect(g.allowed).toEqual([]);
    expect(new Set(rules(g.held))).toEqual(new Set(["failOpen"]));
    expect(g.alarms.join()).toContain("every member of smtp.example.com is down");
  });

  it("does not fail open when a standby still answers: the prober is not cut off", () => {
    const p = pool({ addresses: ["192.0.2.10", "192.0.2.11"], standbys: { "192.0.2.11": "192.0.2.21" } });
    const g = guarded(p, { A: rr("A", ["192.0.2.10", "192.0.2.11"]), marker: marker() }, health({ "192.0.2.10": "down", "192.0.2.11": "down" }));
    expect(g.allowed.map((a) => [a.kind, a.address])).toEqual([
      ["remove", "192.0.2.10"],
      ["takeover", "192.0.2.11"],
    ]);
    expect(g.held).toEqual([]);
    expect(g.alarms).toEqual([]);
  });

  it("never empties an RRset when fail-open is off", () => {
    const p = pool({ addresses: ["192.0.2.10"], safety: { ...SAFE, failOpen: false } });
    const g = guarded(p, { A: rr("A", ["192.0.2.10"]), marker: marker() }, health({ "192.0.2.10": "down" }));
    expect(rules(g.held)).toEqual(["neverEmpty"]);
    expect(g.held[0]!.why).toContain("last address");
  });

  it("holds removals that would leave fewer than minHealthy addresses", () => {
    const p = pool({ safety: { ...SAFE, minHealthy: 3, maxRemovePercent: 100 } });
    const g = guarded(p, undefined, health({ "192.0.2.12": "down" }));
    expect(rules(g.held)).toEqual(["minHealthy"]);
    expect(g.held[0]!.why).toBe("removing 192.0.2.12 would leave 2 address(es), fewer than minHealthy 3");
  });

  it("lets at most maxRemovePercent of the pool go in one cycle; the rest wait, in address order", () => {
    const p = pool({ addresses: ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"] });
    const current = { A: rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"]), marker: marker() };
    const g = guarded(p, current, health({ "192.0.2.10": "down", "192.0.2.11": "down", "192.0.2.12": "down" }));
    expect(g.allowed.map((a) => a.address)).toEqual(["192.0.2.10", "192.0.2.11"]);
    expect(g.held.map((h) => [h.rule, h.action.address])).toEqual([["maxRemovePercent", "192.0.2.12"]]);
  });

  it("holds failure-driven changes while the prober is judged isolated, but lets recoveries through", () => {
    const current = { A: rr("A", ["192.0.2.10", "192.0.2.11"]), marker: marker() };
    const g = guarded(pool(), current, health({ "192.0.2.10": "down" }), { ...ctx, proberIsolation: "7 of 8 members failed" });
    expect(g.held.map((h) => [h.rule, h.action.kind])).toEqual([["proberIsolation", "remove"]]);
    expect(g.allowed.map((a) => [a.kind, a.address])).toEqual([["reinstate", "192.0.2.12"]]);
  });

  it("--force bypasses every rule but ownership", () => {
    const p = pool({ addresses: ["192.0.2.10"] });
    const g = guarded(p, { A: rr("A", ["192.0.2.10"]), marker: marker() }, health({}, "down"), { ...ctx, force: true });
    expect(g.allowed.map((a: Action) => a.kind)).toEqual(["remove"]);
    expect(g.held).toEqual([]);
  });

  it("per-pool overrides change the rule's figure", () => {
    const p = pool({ addresses: ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"], safety: { ...SAFE, maxRemovePercent: 25 } });
    const current = { A: rr("A", p.members.map((m) => m.address)), marker: marker() };
    const g = guarded(p, current, health({ "192.0.2.10": "down", "192.0.2.11": "down" }));
    expect(g.allowed.map((a) => a.address)).toEqual(["192.0.2.10"]);
    expect(g.held[0]!.why).toContain("at most 1 of 4 address(es) (25 %)");
  });
});

describe("maxRemovals", () => {
  it("allows at least one removal unless the share is zero", () => {
    expect([maxRemovals(1, 50), maxRemovals(3, 50), maxRemovals(4, 50), maxRemovals(10, 30), maxRemovals(5, 0)]).toEqual([1, 1, 2, 3, 0]);
  });
});

describe("detectProberIsolation", () => {
  const pools = [pool(), pool({ name: "imap.example.com", addresses: ["192.0.2.40", "192.0.2.41"] })];
  it("is silent while most members answer", () => {
    expect(detectProberIsolation(pools, health({ "192.0.2.10": "down", "192.0.2.40": "down" }), 0.5)).toBeUndefined();
  });
  it("names the figure when most members of all pools fail at once", () => {
    expect(detectProberIsolation(pools, health({ "192.0.2.10": "down", "192.0.2.11": "down", "192.0.2.40": "down" }), 0.5)).toContain("3 of 5 members across 2 pools");
  });
  it("leaves a single pool to the fail-open rule", () => {
    expect(detectProberIsolation([pool()], health({}, "down"), 0.5)).toBeUndefined();
  });
});

describe("guardPool weighs what actions really do to the RRset", () => {
  const six = ["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14", "192.0.2.15", "192.0.2.16"];
  const S = "192.0.2.99";

  it("counts takeovers into a standby already in the pool as removals for maxRemovePercent", () => {
    const p = pool({ addresses: six, standbys: Object.fromEntries(six.map((a) => [a, S])) });
    const current = { A: rr("A", six), marker: marker() };
    const h = health(Object.fromEntries(six.slice(0, 5).map((a) => [a, "down" as const])));
    const g = guardPool(p, current, planPool(p, current, h), h, ctx);
    const after = materialize(p, current, g.allowed)[0]!.after!.values;
    // 6 addresses, 50 %: the RRset may shrink by at most 3 this cycle, whatever the action kinds.
    expect(after).toEqual(["192.0.2.15", "192.0.2.16", S]);
    expect(g.held.map((x) => [x.rule, x.action.address])).toEqual([["maxRemovePercent", "192.0.2.15"]]);
    expect(g.held[0]!.why).toContain("already in the pool");
  });

  it("holds removals past the budget in address order, not config order", () => {
    const addresses = ["192.0.2.13", "192.0.2.10", "192.0.2.12", "192.0.2.11"];
    const p = pool({ addresses });
    const current = { A: rr("A", addresses), marker: marker() };
    const h = health({ "192.0.2.13": "down", "192.0.2.10": "down", "192.0.2.12": "down" });
    const g = guardPool(p, current, planPool(p, current, h), h, ctx);
    expect(g.allowed.map((a) => a.address).sort()).toEqual(["192.0.2.10", "192.0.2.12"]);
    expect(g.held.map((x) => x.action.address)).toEqual(["192.0.2.13"]);
  });
});

describe("detectProberIsolation counts only pools with judged members", () => {
  it("treats a second pool with nothing judged (e.g. its provider was unreadable) as absent", () => {
    const pools = [pool(), pool({ name: "imap.example.com", addresses: ["192.0.2.40"] })];
    const h = (p: string, a: string) => (p === "imap.example.com" ? { health: "unknown" as const, reason: "not probed" } : health({ "192.0.2.10": "down", "192.0.2.11": "down" })(p, a));
    expect(detectProberIsolation(pools, h, 0.5)).toBeUndefined();
  });
});
