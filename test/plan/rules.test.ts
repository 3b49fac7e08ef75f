import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { guardPool } from "../../src/plan/guard.js";
import { planPool } from "../../src/plan/plan-pool.js";
import { DEFAULT_SAFETY, RULES, SAFETY_CONFIG_SHAPE } from "../../src/plan/rules/index.js";
import { health, marker, pool, rr, SAFE } from "../helpers/pools.js";

describe("the rule registry", () => {
  it("lists pool rules, then action rules, then RRset rules (the order the guard runs the stages in)", () => {
    const stages = RULES.map((r) => r.judges);
    const order = ["pool", "action", "rrset"];
    expect([...stages].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(stages);
  });

  it("is the documented precedence", () => {
    expect(RULES.map((r) => r.name)).toEqual(["ownership", "changeWindow", "failOpen", "proberIsolation", "neverEmpty", "minHealthy", "maxRemovePercent"]);
  });

  it("has unique names and config keys; only ownership holds under --force", () => {
    expect(new Set(RULES.map((r) => r.name)).size).toBe(RULES.length);
    const keys = RULES.flatMap((r) => ("config" in r ? [r.config.key] : []));
    expect(new Set(keys).size).toBe(keys.length);
    expect(RULES.filter((r) => r.bypass === "never").map((r) => r.name)).toEqual(["ownership"]);
  });

  it("gives the config its safety keys and the loader its defaults, each default valid for its schema", () => {
    expect(Object.keys(SAFETY_CONFIG_SHAPE).sort()).toEqual(["changeWindow", "failOpen", "maxRemovePercent", "minHealthy", "neverEmpty"]);
    expect(Object.keys(configSchema.shape.safety.unwrap().shape).sort()).toEqual(Object.keys(SAFETY_CONFIG_SHAPE).sort());
    expect(DEFAULT_SAFETY).toEqual({ neverEmpty: true, minHealthy: 1, failOpen: true, maxRemovePercent: 50 });
    for (const r of RULES) {
      if ("config" in r && "default" in r.config) expect(r.config.schema.safeParse(r.config.default).success, r.name).toBe(true);
    }
  });
});

describe("precedence: an action two rules would hold is held by the earlier one", () => {
  const live = { A: rr("A", ["192.0.2.10", "192.0.2.11"]), marker: marker() };
  const allDown = health({}, "down");
  const run = (safety = SAFE, ctx: { proberIsolation?: string; now?: Date } = {}) => {
    const p = pool({ addresses: ["192.0.2.10", "192.0.2.11"], safety });
    return guardPool(p, live, planPool(p, live, allDown), allDown, { controllerId: "test", force: false, ...ctx }).held.map((h) => h.rule);
  };

  it("ownership before everything", () => {
    const p = pool({ addresses: ["192.0.2.10", "192.0.2.11"], safety: { ...SAFE, changeWindow: { freeze: true } } });
    const foreign = { ...live, marker: marker("other") };
    expect(guardPool(p, foreign, planPool(p, foreign, allDown), allDown, { controllerId: "test", force: true }).held.map((h) => h.rule)).toEqual(["ownership", "ownership"]);
  });

  it("changeWindow before failOpen", () => {
    expect(run({ ...SAFE, changeWindow: { freeze: true } }, { now: new Date(0) })).toEqual(["changeWindow", "changeWindow"]);
  });

  it("failOpen before proberIsolation", () => {
    expect(run(SAFE, { proberIsolation: "cut off" })).toEqual(["failOpen", "failOpen"]);
  });

  it("proberIsolation before the RRset rules", () => {
    expect(run({ ...SAFE, failOpen: false }, { proberIsolation: "cut off" })).toEqual(["proberIsolation", "proberIsolation"]);
  });

  it("neverEmpty before minHealthy before maxRemovePercent", () => {
    const one = { A: rr("A", ["192.0.2.10"]), marker: marker() };
    const p = pool({ addresses: ["192.0.2.10"], safety: { ...SAFE, failOpen: false, minHealthy: 1, maxRemovePercent: 0 } });
    // Removing the only address: all three would hold it.
    expect(guardPool(p, one, planPool(p, one, allDown), allDown, { controllerId: "test", force: false }).held.map((h) => h.rule)).toEqual(["neverEmpty"]);
    // One of two: minHealthy 2 and a zero budget would both hold it.
    expect(run({ ...SAFE, failOpen: false, minHealthy: 2, maxRemovePercent: 0 })).toEqual(["minHealthy", "minHealthy"]);
    // The first removal fits the budget of one; the second would empty the RRset and exceed the budget.
    expect(run({ ...SAFE, failOpen: false, minHealthy: 0 })).toEqual(["neverEmpty"]);
  });
});
