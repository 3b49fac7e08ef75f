/**
 * API requests per cycle, counted at the fake servers (docs/route53.md and docs/cloudflare.md
 * quote these): a one-shot run reads once before probing and reuses that read for its plan; the
 * daemon reads once per cycle; a cycle with no change sends no write.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Provider } from "../../providers/types.js";
import { parseConfig } from "../../src/config/load.js";
import { runCycle } from "../../src/controller/cycle.js";
import { createRuntime } from "../../src/controller/runtime.js";
import { HysteresisJudge } from "../../src/health/hysteresis.js";
import type { ProbeFn } from "../../src/health/probe-round.js";
import { createLogger } from "../../src/log.js";
import { CONTROLLER, harness, seedA, seedMarker, type Harness } from "../providers/cloudflare/helpers.js";
import { startRig, type Rig } from "../providers/route53/harness.js";

const POOLS = ["smtp.example.com", "imap.example.com", "pop.example.com"];
const MEMBERS = ["192.0.2.10", "192.0.2.11"];

const config = parseConfig(
  `controllerId: ${CONTROLLER}
defaults: { rise: 1, fall: 1, confirmIntervalMs: 0 }
providers: { p: { type: memory } }
pools:
${POOLS.map((name) => `  - { name: ${name}, provider: p, checks: [smtp], members: [${MEMBERS.map((a) => `{ address: ${a} }`).join(", ")}] }`).join("\n")}`,
  { env: {} },
);

const probe =
  (down: readonly string[] = []): ProbeFn =>
  async (t) =>
    down.includes(t.host)
      ? { ok: false, reason: "connection refused", latencyMs: 1, phases: [], warnings: [] }
      : { ok: true, reason: "ok", latencyMs: 1, phases: [], warnings: [] };

const cycle = (provider: Provider, p: ProbeFn, judge?: HysteresisJudge) =>
  runCycle(createRuntime(config, createLogger("silent"), { probe: p, providers: new Map([["p", provider]]) }), {
    dryRun: false,
    signal: AbortSignal.timeout(20_000),
    ...(judge ? { judge } : {}),
  });

let rig: Rig | undefined;
let cf: Harness | undefined;
afterEach(async () => {
  await rig?.close();
  await cf?.fake.close();
  rig = cf = undefined;
});

async function route53() {
  rig = await startRig();
  for (const name of POOLS) {
    rig.fake.put(rig.zoneId, { name: `${name}.`, type: "A", ttl: 300, values: MEMBERS });
    rig.fake.put(rig.zoneId, { name: `_mailpool.${name}.`, type: "TXT", ttl: 300, values: [`"mailpool owner=${CONTROLLER}"`] });
  }
  return rig.provider({}, POOLS.map((name) => ({ name, recordStyle: "simple" as const })));
}

async function cloudflare() {
  cf = await harness();
  seedMarker(cf); // smtp.example.com's
  for (const name of POOLS.slice(1)) cf.fake.seed(cf.zoneId, { name: `_mailpool.${name}`, type: "TXT", content: `"mailpool owner=${CONTROLLER}"`, ttl: 300, comment: null });
  for (const name of POOLS) for (const a of MEMBERS) seedA(cf, a, { name });
  return cf.provider();
}

describe("Route 53 requests per cycle (3 pools in one zone)", () => {
  it("one-shot with no change: one list request per pool, no write", async () => {
    const p = await route53();
    await cycle(p, probe());
    expect(rig!.fake.requests().map((r) => r.action)).toEqual(Array(3).fill("ListResourceRecordSets"));
  });

  it("one-shot with one removal: one list request per pool and one change batch", async () => {
    const p = await route53();
    await cycle(p, probe(["192.0.2.11"]));
    const actions = rig!.fake.requests().map((r) => r.action);
    expect(actions.filter((a) => a === "ListResourceRecordSets")).toHaveLength(3);
    expect(actions.filter((a) => a === "ChangeResourceRecordSets")).toHaveLength(1);
  });

  it("daemon: one list request per pool per cycle, no write when nothing changes", async () => {
    const p = await route53();
    const judge = new HysteresisJudge();
    await cycle(p, probe(), judge);
    await cycle(p, probe(), judge);
    expect(rig!.fake.requests().map((r) => r.action)).toEqual(Array(6).fill("ListResourceRecordSets"));
  });
});

describe("Cloudflare requests per cycle (3 pools in one zone)", () => {
  it("one-shot with no change: one list request per name and type (A, AAAA, marker TXT), no write", async () => {
    const p = await cloudflare();
    await cycle(p, probe());
    expect(cf!.fake.requests.filter((r) => r.method === "GET")).toHaveLength(9);
    expect(cf!.fake.writes()).toEqual([]);
  });

  it("one-shot with one removal per pool: the reads, a pre-check re-list per changed RRset, one batch", async () => {
    const p = await cloudflare();
    await cycle(p, probe(["192.0.2.11"]));
    expect(cf!.fake.requests.filter((r) => r.method === "GET")).toHaveLength(9 + 3);
    expect(cf!.fake.writes()).toHaveLength(1);
  });
});
