/**
 * The plan's two renderings pinned as golden files (docs/plan-json.md is the JSON contract):
 * one representative plan per kind of change, a plan whose changes the safety rules hold, one
 * with pool alarms and a failed provider, and prober isolation. Plans come from the pure
 * planRound with fixed health and a fixed instant, so nothing depends on the clock.
 */
import { describe, expect, it } from "vitest";
import type { ApplyResult, RRset } from "../../providers/types.js";
import { planRound } from "../../src/plan/plan-round.js";
import type { CycleReport, HealthEntry } from "../../src/plan/report.js";
import type { Health, HealthView, PoolSpec } from "../../src/model.js";
import { planDocument, renderJson, renderText } from "../../src/plan/render.js";
import { marker, pool, rr, SAFE } from "../helpers/pools.js";
import { golden } from "./golden.js";

/** The instant every plan is made at (a Saturday, 12:00 UTC). */
const NOW = new Date("2030-01-05T12:00:00Z");

/** Health from a table (the rest up), with reasons as the judge words them. */
function health(table: Record<string, Health>): HealthView {
  return (_pool, address) => {
    const h = table[address] ?? "up";
    return {
      health: h,
      reason: h === "down" ? "2 of 2 probe(s) failed: smtp: connection refused by " + address + ":25" : h === "up" ? "2 of 2 probe(s) passed" : "not yet judged: 1 of 2 probe(s) passed",
    };
  };
}

const labelled = (p: PoolSpec, labels: Record<string, string>): PoolSpec => ({ ...p, members: p.members.map((m) => ({ ...m, label: labels[m.address] ?? m.label })) });

interface Scenario {
  readonly pools: PoolSpec[];
  readonly rrsets: RRset[];
  readonly health: HealthView;
  readonly dryRun?: boolean;
  readonly proberIsolation?: string;
  readonly applied?: ApplyResult;
  readonly error?: string;
}

function report(s: Scenario): CycleReport {
  const round = planRound(
    { pools: s.pools, providerName: "dns", health: s.health, controllerId: "test", now: () => NOW, ...(s.proberIsolation ? { proberIsolation: s.proberIsolation } : {}) },
    s.rrsets,
  );
  const entries: HealthEntry[] = [];
  for (const p of s.pools) {
    for (const m of p.members) entries.push({ pool: p.name, address: m.address, role: "member", label: m.label, verdict: s.health(p.name, m.address) });
    for (const m of p.members) {
      if (m.standby !== undefined && !entries.some((e) => e.pool === p.name && e.address === m.standby)) {
        entries.push({ pool: p.name, address: m.standby, role: "standby", label: `for ${m.label}`, verdict: s.health(p.name, m.standby) });
      }
    }
  }
  const dryRun = s.dryRun ?? true;
  return {
    dryRun,
    results: [{ provider: "dns", plans: round.plans, applied: dryRun ? null : (s.applied ?? null), attempts: 1, ...(s.error ? { error: new Error(s.error) } : {}) }],
    health: entries,
    ...(s.proberIsolation ? { proberIsolation: s.proberIsolation } : {}),
  };
}

const three = ["192.0.2.10", "192.0.2.11", "192.0.2.12"];
const mx = { "192.0.2.10": "mx1", "192.0.2.11": "mx2", "192.0.2.12": "mx3" };

const SCENARIOS: Record<string, () => Scenario> = {
  // A member is down: its address leaves the RRset; applied.
  remove: () => ({
    pools: [labelled(pool(), mx)],
    rrsets: [rr("A", three), marker()],
    health: health({ "192.0.2.11": "down" }),
    dryRun: false,
    applied: { applied: 1, notes: ["serial 2030010501 → 2030010502"] },
  }),
  // A member is back: its address returns; an address of the other family too.
  reinstate: () => ({
    pools: [labelled(pool({ addresses: [...three, "2001:db8::10"] }), mx)],
    rrsets: [rr("A", ["192.0.2.10", "192.0.2.12"]), marker()],
    health: health({}),
  }),
  // mx2 is down and its standby up: the standby takes its place; mx3 is back and its standby steps aside.
  takeover: () => ({
    pools: [labelled(pool({ standbys: { "192.0.2.11": "198.51.100.5", "192.0.2.12": "198.51.100.6" } }), mx)],
    rrsets: [rr("A", ["192.0.2.10", "192.0.2.11", "198.51.100.6"]), marker()],
    health: health({ "192.0.2.11": "down" }),
  }),
  // Every rule but proberIsolation holds something, each in a pool of its own.
  held: () => ({
    pools: [
      // 3 of 4 down: maxRemovePercent lets 2 go, the third waits.
      pool({ name: "percent.example.com", addresses: ["192.0.2.20", "192.0.2.21", "192.0.2.22", "192.0.2.23"] }),
      // 1 of 2 down, minHealthy 2.
      pool({ name: "min.example.com", addresses: ["192.0.2.30", "192.0.2.31"], safety: { ...SAFE, minHealthy: 2 } }),
      // The only member is down and failOpen is off: neverEmpty keeps it.
      pool({ name: "last.example.com", addresses: ["192.0.2.40"], safety: { ...SAFE, failOpen: false, minHealthy: 0 } }),
      // Every member down: fail open.
      pool({ name: "dark.example.com", addresses: ["192.0.2.50", "192.0.2.51"] }),
      // A frozen change window holds the removal.
      pool({ name: "frozen.example.com", addresses: ["192.0.2.60", "192.0.2.61"], safety: { ...SAFE, changeWindow: { freeze: true } } }),
      // A cron window that is closed at NOW holds the removal; the reinstatement passes.
      pool({ name: "window.example.com", addresses: ["192.0.2.70", "192.0.2.71", "192.0.2.72"], safety: { ...SAFE, changeWindow: { cron: "0 2 * * 6", durationMinutes: 120 } } }),
      // Another controller's marker: nothing changes.
      pool({ name: "foreign.example.com", addresses: ["192.0.2.80", "192.0.2.81"] }),
      // No marker at all.
      pool({ name: "unowned.example.com", addresses: ["192.0.2.90", "192.0.2.91"] }),
    ],
    rrsets: [
      rr("A", ["192.0.2.20", "192.0.2.21", "192.0.2.22", "192.0.2.23"], 300, "percent.example.com"),
      marker("test", "percent.example.com"),
      rr("A", ["192.0.2.30", "192.0.2.31"], 300, "min.example.com"),
      marker("test", "min.example.com"),
      rr("A", ["192.0.2.40"], 300, "last.example.com"),
      marker("test", "last.example.com"),
      rr("A", ["192.0.2.50", "192.0.2.51"], 300, "dark.example.com"),
      marker("test", "dark.example.com"),
      rr("A", ["192.0.2.60", "192.0.2.61"], 300, "frozen.example.com"),
      marker("test", "frozen.example.com"),
      rr("A", ["192.0.2.70", "192.0.2.71"], 300, "window.example.com"),
      marker("test", "window.example.com"),
      rr("A", ["192.0.2.80", "192.0.2.81"], 300, "foreign.example.com"),
      marker("other", "foreign.example.com"),
      rr("A", ["192.0.2.91"], 300, "unowned.example.com"),
    ],
    health: health({
      "192.0.2.20": "down",
      "192.0.2.21": "down",
      "192.0.2.22": "down",
      "192.0.2.31": "down",
      "192.0.2.40": "down",
      "192.0.2.50": "down",
      "192.0.2.51": "down",
      "192.0.2.61": "down",
      "192.0.2.70": "down",
      "192.0.2.81": "down",
    }),
  }),
  // The controller judged the prober cut off: removals and takeovers wait, recoveries pass.
  "prober-isolation": () => ({
    pools: [labelled(pool({ addresses: [...three, "192.0.2.13"], standbys: { "192.0.2.12": "198.51.100.5" } }), mx)],
    rrsets: [rr("A", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]), marker()],
    health: health({ "192.0.2.10": "down", "192.0.2.12": "down" }),
    proberIsolation: "5 of 8 members across 2 pools failed at once (more than 50 %); the prober may be the one cut off, so no address is removed",
  }),
  // Pool alarms: strangers in the RRset (one proxied, breaking the name), an unjudged member, and a provider that failed.
  alarms: () => ({
    pools: [pool({ addresses: three })],
    rrsets: [
      {
        ...rr("A", ["192.0.2.10", "192.0.2.11", "203.0.113.7", "203.0.113.9"]),
        records: [
          { value: "192.0.2.10", ttl: 300, drift: [] },
          { value: "192.0.2.11", ttl: 300, drift: [] },
          { value: "203.0.113.7", ttl: 300, drift: [] },
          { value: "203.0.113.9", ttl: 300, drift: [], breaksName: "it is proxied, so Cloudflare proxies every record at smtp.example.com and mail to it fails" },
        ],
      },
      marker(),
    ],
    health: health({ "192.0.2.12": "unknown" }),
    dryRun: false,
    error: "cloudflare: 503 Service Unavailable after 5 attempts",
  }),
  // The live TTLs differ from the configured one; the A RRset also holds a stranger's address.
  ttl: () => ({
    pools: [pool({ addresses: [...three, "2001:db8::10"], ttl: 300 })],
    rrsets: [rr("A", [...three, "203.0.113.7"], 3600), rr("AAAA", ["2001:db8::10"], 600), marker()],
    health: health({}),
  }),
  // The provider reports drift: on the RRset, and per record (with one record's TTL off).
  repair: () => ({
    pools: [pool({ addresses: three }), pool({ name: "imap.example.com", addresses: ["192.0.2.30", "192.0.2.31"] })],
    rrsets: [
      { ...rr("A", three), drift: ["records of one RRset disagree on TTL (300, 900); rewritten with 300"] },
      marker(),
      {
        ...rr("A", ["192.0.2.30", "192.0.2.31"], 300, "imap.example.com"),
        records: [
          { value: "192.0.2.30", ttl: 300, drift: ["192.0.2.30 is proxied; Cloudflare cannot proxy IMAP"] },
          { value: "192.0.2.31", ttl: 600, drift: ["192.0.2.31 lacks the ownership comment"] },
        ],
      },
      marker("test", "imap.example.com"),
    ],
    health: health({}),
  }),
};

describe("plan renderings (golden files)", () => {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it(`${name}: text`, () => golden(`plan/${name}.txt`, renderText(report(scenario()))));
    it(`${name}: JSON`, () => golden(`plan/${name}.json`, renderJson(report(scenario()), { controllerId: "test", mode: scenario().dryRun === false ? "apply" : "plan" })));
    it(`${name}: the plan as a value (daemon JSON lines, /status) is the rendered JSON`, () => {
      const r = report(scenario());
      expect(JSON.stringify(planDocument(r, { controllerId: "test", mode: "run" }))).toBe(JSON.stringify(JSON.parse(renderJson(r, { controllerId: "test", mode: "run" }))));
    });
  }
  it("remove: text with colour (the terminal's rendering)", () => golden("plan/remove.color.txt", renderText(report(SCENARIOS.remove!()), { color: true })));
});
