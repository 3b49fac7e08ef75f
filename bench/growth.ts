/**
 * Is the cost linear in the work? Config load, provider read (the zone-file provider on a
 * generated zone), plan (planRound: plan + guard + materialise), guard alone, and render (text
 * and JSON) at SIZES members (pools of 10, a fifth of the members down), with the growth per
 * 10× (issue 10's target: ≤ 11×). No sockets: the probes are a table. Prints; asserts nothing.
 * Run: npm run build && node --expose-gc dist/bench/growth.js   (SIZES=1000,10000,100000 ROUNDS=3)
 * FRESH=1 times each size in a process of its own (spawned with the same flags), so a size's
 * steps never share a heap, a JIT state or GC history with the sizes before it.
 */
import { spawnSync } from "node:child_process";
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

// GC pauses, from V8's own gc performance entries: each step is also reported without the GC
// that ran inside it, to tell a non-linear step of ours from collecting a larger heap.
const gcPauses: { start: number; end: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ start: e.startTime, end: e.startTime + e.duration });
}).observe({ entryTypes: ["gc"] });
const gcWithin = (from: number, to: number): number =>
  gcPauses.reduce((sum, p) => sum + Math.max(0, Math.min(p.end, to) - Math.max(p.start, from)), 0);
/** Per step name: the best round's time without its GC pauses. */
const withoutGc = new Map<string, number>();
let stepName = "";

/** Best of ROUNDS, ms. */
async function best(work: () => unknown | Promise<unknown>): Promise<number> {
  let min = Infinity;
  let minNoGc = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    // With --expose-gc, start each round on a collected heap: at 100k the garbage of the step
    // before otherwise lands in this one's time (a major GC of a large heap).
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setImmediate(resolve)); // deliver the forced GC's entry first
    const t = performance.now();
    await work();
    const end = performance.now();
    await new Promise((resolve) => setImmediate(resolve)); // and this round's entries
    min = Math.min(min, end - t);
    minNoGc = Math.min(minNoGc, end - t - gcWithin(t, end));
  }
  withoutGc.set(stepName, minNoGc);
  return min;
}
const step = (name: string): string => ((stepName = name), name);

type Figures = Record<string, number>;
const table = new Map<number, Figures>();
const FRESH = process.env.FRESH === "1";

for (const size of FRESH ? [] : SIZES) {
  const dir = mkdtempSync(join(tmpdir(), "mailpool-growth-"));
  try {
    const pools = size / 10;
    // Addresses beyond the fleet's 60,000 wrap into 127.2+ (no socket is opened here).
    const path = writeBenchConfig({ dir, pools, membersPerPool: 10, port: 2525, concurrency: 500 });
    const f: Figures = {};
    f[step("config load")] = await best(() => loadConfigFile(path));
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
    f[step("provider read")] = await best(() => provider.read(keys, signal));
    const rrsets = await provider.read(keys, signal);
    const health: HealthView = (_pool, address) =>
      down.has(address) ? { health: "down", reason: "connection refused" } : { health: "up", reason: "ok" };
    const opts = { providerName: "local", pools: config.pools, health, controllerId: "bench", proberIsolation: undefined };
    // A reference that is linear by construction: read every pool's members and their health
    // once. Its growth per 10× is what the machine's caches add to any step that walks the data.
    f[step("reference walk")] = await best(() => {
      let n = 0;
      for (const p of config.pools) for (const m of p.members) n += m.address.length + health(p.name, m.address).reason.length;
      return n;
    });
    f[step("plan (planRound)")] = await best(() => planRound(opts, rrsets));
    const byKey = new Map(rrsets.map((r) => [`${r.name} ${r.type}`, r]));
    const current = config.pools.map((p) => ({
      A: byKey.get(`${p.name} A`),
      AAAA: byKey.get(`${p.name} AAAA`),
      marker: byKey.get(`${markerName(p.name)} TXT`),
    }));
    const actions = config.pools.map((p, i) => planPool(p, current[i]!, health));
    f[step("guard")] = await best(() =>
      config.pools.forEach((p, i) => guardPool(p, current[i]!, actions[i]!, health, { controllerId: "bench", force: false, proberIsolation: undefined })),
    );
    void presenceIn;
    const report = await runCycle(runtime, { dryRun: true, signal });
    f[step("cycle (no sockets)")] = await best(() => runCycle(runtime, { dryRun: true, signal }));
    f[step("render JSON")] = await best(() => renderJson(report, { controllerId: "bench", mode: "plan" }));
    f[step("render text")] = await best(() => renderText(report, { color: false }));
    await runtime.close();
    table.set(size, f);
    console.log(`growth: ${fmt(size)} members: ${Object.entries(f).map(([k, v]) => `${k} ${fmt(v, 1)} ms`).join(", ")}`);
    for (const name of Object.keys(f)) f[`${name}, GC excluded`] = withoutGc.get(name)!;
    if (process.env.GROWTH_CHILD === "1") console.log(`GROWTH_FIGURES ${JSON.stringify(f)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const size of FRESH ? SIZES : []) {
  const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!], {
    env: { ...process.env, FRESH: "0", GROWTH_CHILD: "1", SIZES: String(size) },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 26,
  });
  const line = child.stdout.split("\n").find((l) => l.startsWith("GROWTH_FIGURES "));
  if (!line) throw new Error(`growth child for ${size} members printed no figures (exit ${child.status})`);
  table.set(size, JSON.parse(line.slice("GROWTH_FIGURES ".length)) as Figures);
  console.log(child.stdout.split("\n").find((l) => l.startsWith("growth: ")) + " (own process)");
}
if (process.env.GROWTH_CHILD === "1") process.exit(0);

console.log(`\ngrowth per 10× (best of ${ROUNDS}; target ≤ 11×), node ${process.version}`);
const names = Object.keys(table.get(SIZES[0]!) ?? {});
console.log(`  ${"".padEnd(34)} ${SIZES.map((s) => `${fmt(s)} ms`.padStart(14)).join("")} ${SIZES.slice(1).map((s, i) => `${fmt(SIZES[i]!)}→${fmt(s)}`.padStart(18)).join("")}`);
for (const name of names) {
  const cells = SIZES.map((s) => fmt(table.get(s)![name]!, 1).padStart(14)).join("");
  const growth = SIZES.slice(1)
    .map((s, i) => `${fmt(table.get(s)![name]! / table.get(SIZES[i]!)![name]!, 1)}×`.padStart(18))
    .join("");
  console.log(`  ${name.padEnd(34)} ${cells} ${growth}`);
}
