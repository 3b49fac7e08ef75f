/**
 * Is the cost linear in the work? Config load, provider read (the zone-file provider on a
 * generated zone), plan (planRound: plan + guard + materialise), guard alone, and render (text
 * and JSON) at SIZES members (pools of 10, a fifth of the members down), with the growth per
 * 10× (issue 10's target: ≤ 11×). No sockets: the probes are a table. Prints; asserts nothing.
 * Run: npm run build && node --expose-gc dist/bench/growth.js   (SIZES=1000,10000,100000 ROUNDS=3)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile } from "../src/config/load.js";
import { runCycle } from "../src/controller/cycle.js";
import { presenceIn } from "../src/controller/reconcile.js";
import { planRound, poolKeys } from "../src/plan/plan-round.js";
import { createRuntime } from "../src/controller/runtime.js";
import type { ProbeFn } from "../src/health/probe-round.js";
import type { HealthView } from "../src/model.js";
import { guardPool } from "../src/plan/guard.js";
import { planPool } from "../src/plan/plan-pool.js";
import { renderJson, renderText } from "../src/plan/render.js";
import { markerName } from "../src/ownership.js";
import { fleetAddress, fmt, writeBenchConfig } from "./lib.js";

const SIZES = (process.env.SIZES ?? "1000,10000,100000").split(",").map(Number);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Best of ROUNDS, ms. */
async function best(work: () => unknown | Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    // With --expose-gc, start each round on a collected heap: at 100k the garbage of the step
    // before otherwise lands in this one's time (a major GC of a large heap).
    (globalThis as { gc?: () => void }).gc?.();
    const t = performance.now();
    await work();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

type Figures = Record<string, number>;
const table = new Map<number, Figures>();

for (const size of SIZES) {
  const dir = mkdtempSync(join(tmpdir(), "mailpool-growth-"));
  try {
    const pools = size / 10;
    // Addresses beyond the fleet's 60,000 wrap into 127.2+ (no socket is opened here).
    const path = writeBenchConfig({ dir, pools, membersPerPool: 10, port: 2525, concurrency: 500 });
    const f: Figures = {};
    f["config load"] = await best(() => loadConfigFile(path));
    const config = loadConfigFile(path);
    const down = new Set<string>();
    for (let i = 0; i < size; i += 5) down.add(fleetAddress(i + 1));
    const probe: ProbeFn = async (target) =>
      down.has(target.host)
        ? { ok: false, reason: "connection refused", latencyMs: 1, phases: [], warnings: [] }
        : { ok: true, reason: "ok", latencyMs: 1, phases: [], warnings: [] };
    const runtime = createRuntime(config, silent, { probe, sleep: async () => {} });
    const provider = await runtime.provider("local");
    const keys = config.pools.flatMap(poolKeys);
    const signal = AbortSignal.timeout(600_000);
    f["provider read"] = await best(() => provider.read(keys, signal));
    const rrsets = await provider.read(keys, signal);
    const health: HealthView = (_pool, address) =>
      down.has(address) ? { health: "down", reason: "connection refused" } : { health: "up", reason: "ok" };
    const opts = { providerName: "local", pools: config.pools, health, controllerId: "bench", proberIsolation: undefined };
    f["plan (planRound)"] = await best(() => planRound(opts, rrsets));
    const byKey = new Map(rrsets.map((r) => [`${r.name} ${r.type}`, r]));
    const current = config.pools.map((p) => ({
      A: byKey.get(`${p.name} A`),
      AAAA: byKey.get(`${p.name} AAAA`),
      marker: byKey.get(`${markerName(p.name)} TXT`),
    }));
    const actions = config.pools.map((p, i) => planPool(p, current[i]!, health));
    f["guard"] = await best(() =>
      config.pools.forEach((p, i) => guardPool(p, current[i]!, actions[i]!, health, { controllerId: "bench", force: false, proberIsolation: undefined })),
    );
    void presenceIn;
    const report = await runCycle(runtime, { dryRun: true, signal });
    f["cycle (no sockets)"] = await best(() => runCycle(runtime, { dryRun: true, signal }));
    f["render JSON"] = await best(() => renderJson(report, { controllerId: "bench", mode: "plan" }));
    f["render text"] = await best(() => renderText(report, { color: false }));
    await runtime.close();
    table.set(size, f);
    console.log(`growth: ${fmt(size)} members: ${Object.entries(f).map(([k, v]) => `${k} ${fmt(v, 1)} ms`).join(", ")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`\ngrowth per 10× (best of ${ROUNDS}; target ≤ 11×), node ${process.version}`);
const names = Object.keys(table.get(SIZES[0]!) ?? {});
console.log(`  ${"".padEnd(20)} ${SIZES.map((s) => `${fmt(s)} ms`.padStart(14)).join("")} ${SIZES.slice(1).map((s, i) => `${fmt(SIZES[i]!)}→${fmt(s)}`.padStart(18)).join("")}`);
for (const name of names) {
  const cells = SIZES.map((s) => fmt(table.get(s)![name]!, 1).padStart(14)).join("");
  const growth = SIZES.slice(1)
    .map((s, i) => `${fmt(table.get(s)![name]! / table.get(SIZES[i]!)![name]!, 1)}×`.padStart(18))
    .join("");
  console.log(`  ${name.padEnd(20)} ${cells} ${growth}`);
}
