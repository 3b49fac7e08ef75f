/**
 * The changeWindow rule: the cron matcher, the window's open/closed state on an injected clock,
 * what the guard holds outside it, the config's checks, and a saved plan that outlives its
 * window. Every instant is computed from one fixed Saturday, never from the wall clock.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { ChangeWindowSpec, SafetySpec } from "../../src/model.js";
import { cronMatches, parseCron, windowState } from "../../src/plan/rules/change-window.js";
import { guardPool } from "../../src/plan/guard.js";
import { planPool, type CurrentRRsets } from "../../src/plan/plan-pool.js";
import { health, marker, pool, rr, SAFE } from "../helpers/pools.js";

/** Saturday 2031-03-08 02:00 UTC: the opening minute of the "0 2 * * 6" window. */
const SAT_0200 = new Date("2031-03-08T02:00:00.000Z");
const plus = (minutes: number, from = SAT_0200) => new Date(from.getTime() + minutes * 60_000);
const WINDOW: ChangeWindowSpec = { cron: "0 2 * * 6", durationMinutes: 120 };

describe("the cron matcher", () => {
  it("the fixed instant is the Saturday the tests say", () => {
    expect(SAT_0200.getUTCDay()).toBe(6);
  });

  it("matches minute, hour and weekday; names and 7 for Sunday", () => {
    expect(cronMatches(parseCron("0 2 * * 6"), SAT_0200)).toBe(true);
    expect(cronMatches(parseCron("0 2 * * sat"), SAT_0200)).toBe(true);
    expect(cronMatches(parseCron("0 2 * * 6"), plus(1))).toBe(false);
    expect(cronMatches(parseCron("0 2 * * 6"), plus(24 * 60))).toBe(false); // Sunday
    expect(cronMatches(parseCron("0 2 * * 7"), plus(24 * 60))).toBe(true);
    expect(cronMatches(parseCron("*/15 1-3 * mar *"), plus(45))).toBe(true);
    expect(cronMatches(parseCron("*/15 1-3 * apr *"), plus(45))).toBe(false);
    expect(cronMatches(parseCron("0,30 2 8 3 *"), plus(30))).toBe(true);
  });

  it("day of month or day of week, when both are restricted (as cron does)", () => {
    // The 8th is a Saturday: "the 1st, or Mondays" matches neither; "the 8th, or Mondays" does.
    expect(cronMatches(parseCron("0 2 1 * 1"), SAT_0200)).toBe(false);
    expect(cronMatches(parseCron("0 2 8 * 1"), SAT_0200)).toBe(true);
    expect(cronMatches(parseCron("0 2 1 * 6"), SAT_0200)).toBe(true);
  });

  it("reads the fields in the window's time zone", () => {
    // 02:00 UTC is 03:00 in Berlin (CET, winter).
    expect(cronMatches(parseCron("0 3 * * 6"), SAT_0200, "Europe/Berlin")).toBe(true);
    expect(cronMatches(parseCron("0 2 * * 6"), SAT_0200, "Europe/Berlin")).toBe(false);
  });

  it("says what is wrong with a bad expression", () => {
    expect(() => parseCron("*/30 * * * * *")).toThrow(/6 field\(s\); a change window takes 5/);
    expect(() => parseCron("61 * * * *")).toThrow(/minute: "61" is not a value from 0 to 59/);
    expect(() => parseCron("0 5-2 * * *")).toThrow(/hour: range "5-2" runs backwards/);
    expect(() => parseCron("0 2 * * */0")).toThrow(/step "0"/);
  });
});

describe("windowState", () => {
  it("is open from the matching minute for durationMinutes, and closed after", () => {
    expect(windowState(WINDOW, SAT_0200)).toEqual({ open: true, openedAt: SAT_0200 });
    expect(windowState(WINDOW, new Date(plus(119).getTime() + 59_999))).toMatchObject({ open: true });
    expect(windowState(WINDOW, plus(120))).toMatchObject({ open: false, why: expect.stringContaining('outside the change window (opens at "0 2 * * 6" UTC for 120 min') });
    expect(windowState(WINDOW, plus(-1))).toMatchObject({ open: false });
  });

  it("a freeze is never open", () => {
    expect(windowState({ freeze: true }, SAT_0200)).toMatchObject({ open: false, why: "changes are frozen (changeWindow.freeze)" });
  });
});

describe("the guard's changeWindow rule", () => {
  const live: CurrentRRsets = { A: rr("A", ["192.0.2.10", "192.0.2.11"]), marker: marker() };
  const spec = (changeWindow: ChangeWindowSpec): SafetySpec => ({ ...SAFE, changeWindow });
  const p = (w: ChangeWindowSpec) => pool({ addresses: ["192.0.2.10", "192.0.2.11", "192.0.2.12"], safety: spec(w) });
  const run = (w: ChangeWindowSpec, now: Date, force = false) => {
    const h = health({ "192.0.2.11": "down" }); // .12 is up and absent: a reinstatement
    return guardPool(p(w), live, planPool(p(w), live, h), h, { controllerId: "test", force, now });
  };

  it("outside the window holds the removal and lets the reinstatement through", () => {
    const g = run(WINDOW, plus(-60));
    expect(g.held.map((x) => `${x.rule} ${x.action.kind} ${x.action.address}`)).toEqual(["changeWindow remove 192.0.2.11"]);
    expect(g.held[0]!.why).toContain("removals and takeovers wait for the window");
    expect(g.allowed.map((a) => `${a.kind} ${a.address}`)).toEqual(["reinstate 192.0.2.12"]);
  });

  it("inside the window holds nothing", () => {
    const g = run(WINDOW, plus(30));
    expect(g.held).toEqual([]);
    expect(g.allowed.map((a) => a.kind).sort()).toEqual(["reinstate", "remove"]);
  });

  it("allowReinstate: false holds the reinstatement too; a freeze holds like a closed window", () => {
    expect(run({ ...WINDOW, allowReinstate: false }, plus(-60)).held.map((x) => x.action.kind).sort()).toEqual(["reinstate", "remove"]);
    expect(run({ freeze: true }, plus(30)).held.map((x) => x.action.kind)).toEqual(["remove"]);
  });

  it("--force bypasses it", () => {
    expect(run({ freeze: true }, plus(30), true).held).toEqual([]);
  });
});

describe("changeWindow in the config", () => {
  const config = (window: string) =>
    `controllerId: t
safety: { changeWindow: ${window} }
providers: { p: { type: memory } }
pools: [{ name: smtp.example.com, provider: p, checks: [smtp], members: [{ address: 192.0.2.10 }] }]`;

  it("takes a global window and a pool's own (which replaces it)", () => {
    const c = parseConfig(config('{ cron: "0 2 * * 6", durationMinutes: 120 }').replace("checks: [smtp],", 'checks: [smtp], safety: { changeWindow: { freeze: true } },'), { env: {} });
    expect(c.pools[0]!.safety.changeWindow).toEqual({ freeze: true });
    expect(parseConfig(config('{ cron: "0 2 * * 6", durationMinutes: 120 }'), { env: {} }).pools[0]!.safety.changeWindow).toEqual(WINDOW);
  });

  it("names the place of each problem", () => {
    const problems = (w: string) => {
      try {
        parseConfig(config(w), { env: {} });
        return [];
      } catch (err) {
        return (err as { problems: string[] }).problems;
      }
    };
    expect(problems('{ cron: "0 2 * *", durationMinutes: 60 }')).toEqual([expect.stringMatching(/^safety\.changeWindow\.cron: "0 2 \* \*" has 4 field\(s\)/)]);
    expect(problems('{ cron: "0 2 * * 6" }')).toEqual(["safety.changeWindow.durationMinutes: is required with cron"]);
    expect(problems("{ durationMinutes: 60 }")).toEqual(["safety.changeWindow.cron: is required unless freeze is true"]);
    expect(problems('{ cron: "0 2 * * 6", durationMinutes: 60, timezone: Mars/Olympus }')).toEqual([expect.stringMatching(/^safety\.changeWindow\.timezone: is not a time zone/)]);
    expect(problems("{ freeze: true, window: 1 }")).toEqual(["safety.changeWindow.window: unknown key"]);
  });
});
