import { describe, expect, it } from "vitest";
import { planRound } from "../../src/plan/plan-round.js";
import type { CycleReport } from "../../src/plan/report.js";
import { renderJson, renderJsonParts, renderText, writeParts } from "../../src/plan/render.js";
import { health, marker, pool, rr } from "../helpers/pools.js";

const PROXIED = "192.0.2.10 is proxied; Cloudflare cannot proxy SMTP";

/** A pool another controller owns, whose A RRset the provider reports as drifted. */
function heldRepairReport(): CycleReport {
  const p = pool();
  const A = { ...rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]), drift: [PROXIED] };
  const round = planRound({ pools: [p], providerName: "cf", health: health({}), controllerId: "test" }, [A, marker("other")]);
  return {
    dryRun: true,
    results: [{ provider: "cf", plans: round.plans, applied: null, attempts: 1 }],
    health: p.members.map((m) => ({ pool: p.name, address: m.address, role: "member", label: m.label, verdict: health({})(p.name, m.address) })),
  };
}

describe("renderText", () => {
  it("says what drifted when a repair is held", async () => {
    const report = heldRepairReport();
    expect(report.results[0]!.plans[0]!.held.map((h) => h.action.kind)).toEqual(["repair"]);
    const text = renderText(report);
    expect(text).toContain(`! A    repair (drift: ${PROXIED}) held by ownership: _mailpool.smtp.example.com names controller other, not test`);
    await expect(text).toMatchFileSnapshot("../golden/plan-held-repair.txt");
  });

  it("carries the same drift as the JSON rendering", () => {
    const report = heldRepairReport();
    const json = JSON.parse(renderJson(report, { controllerId: "test", mode: "plan" }));
    const reason = json.pools[0].held[0].action.reason;
    expect(reason).toBe(PROXIED);
    expect(renderText(report)).toContain(reason);
  });
});

describe("renderJsonParts", () => {
  /** Three pools, one drifted, over two providers. */
  function threePools(): CycleReport {
    const pools = [pool({ name: "a.example.com" }), pool({ name: "b.example.com", addresses: ["192.0.2.20", "192.0.2.21"] }), pool({ name: "c.example.com", provider: "q" })];
    const results = ["p", "q"].map((provider) => {
      const mine = pools.filter((p) => p.provider === provider);
      const round = planRound({ pools: mine, providerName: provider, health: health({ "192.0.2.11": "down" }), controllerId: "test" }, [rr("A", ["192.0.2.10", "192.0.2.11"])]);
      return { provider, plans: round.plans, applied: null, attempts: 1 };
    });
    return {
      dryRun: true,
      results,
      health: pools.flatMap((p) => p.members.map((m) => ({ pool: p.name, address: m.address, role: "member" as const, label: m.label, verdict: health({})(p.name, m.address) }))),
    };
  }

  it("writes one pool per part, and the parts together are the document JSON.stringify would print", () => {
    const report = threePools();
    const parts = [...renderJsonParts(report, { controllerId: "test", mode: "plan" })];
    expect(parts).toHaveLength(1 + 3 + 1);
    const whole = parts.join("");
    const value = JSON.parse(whole);
    expect(value.pools.map((p: { pool: string }) => p.pool)).toEqual(["a.example.com", "b.example.com", "c.example.com"]);
    expect(whole).toBe(JSON.stringify(value, null, 2) + "\n");
    expect(renderJson(report, { controllerId: "test", mode: "plan" })).toBe(whole);
  });

  it("prints an empty pool list as JSON.stringify does", () => {
    const whole = [...renderJsonParts({ dryRun: true, results: [], health: [] }, { controllerId: "test", mode: "plan" })].join("");
    expect(whole).toContain('"pools": [],');
    expect(whole).toBe(JSON.stringify(JSON.parse(whole), null, 2) + "\n");
  });

  it("batches parts into writes of about 64 KiB, in order", () => {
    const writes: string[] = [];
    const parts = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, "0")}${"x".repeat(2000)}`);
    writeParts({ write: (s: string) => writes.push(s) }, parts);
    expect(writes.join("")).toBe(parts.join(""));
    expect(writes.length).toBe(4);
    expect(writes.slice(0, -1).every((w) => w.length >= 65_536 && w.length < 65_536 + 2003)).toBe(true);
  });
});
