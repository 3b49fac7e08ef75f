import { describe, expect, it } from "vitest";
import { planRound } from "../../src/plan/plan-round.js";
import type { CycleReport } from "../../src/plan/report.js";
import { renderJson, renderText } from "../../src/plan/render.js";
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
