/**
 * How long the pure core (plan + guard + materialise) takes for a large fleet: 1,000 pools of
 * 10 members (half with standbys), a fifth of them down. Prints figures; asserts nothing.
 * Run: npm run build && node dist/bench/plan-bench.js
 */
import type { RRset } from "../providers/types.js";
import { planRound } from "../src/plan/plan-round.js";
import type { HealthView, PoolSpec } from "../src/model.js";
import { markerValue } from "../src/ownership.js";

const POOLS = Number(process.env.POOLS ?? 1000);
const MEMBERS = Number(process.env.MEMBERS ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 50);

const ip = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const pools: PoolSpec[] = [];
const rrsets: RRset[] = [];
let n = 1;
for (let p = 0; p < POOLS; p++) {
  const name = `pool${p}.example.com`;
  const members = Array.from({ length: MEMBERS }, (_, i) => {
    const address = ip(n++);
    return { address, label: address, ...(i % 2 === 0 ? { standby: ip(n++) } : {}) };
  });
  pools.push({
    name, provider: "bench", ttl: 300, checks: ["smtp"], rise: 2, fall: 3, confirmIntervalMs: 0, recordStyle: "simple",
    safety: { neverEmpty: true, minHealthy: 1, failOpen: true, maxRemovePercent: 50 }, members,
  });
  rrsets.push({ name, type: "A", ttl: p % 7 === 0 ? 3600 : 300, values: members.map((m) => m.address) });
  rrsets.push({ name: `_mailpool.${name}`, type: "TXT", ttl: 300, values: [markerValue("bench")] });
}
const down = new Set(pools.flatMap((p) => p.members.filter((_, i) => i % 5 === 1).map((m) => m.address)));
const health: HealthView = (_pool, address) =>
  down.has(address) ? { health: "down", reason: "connection refused" } : { health: "up", reason: "ok" };

const opts = { providerName: "bench", pools, health, controllerId: "bench" };
planRound(opts, rrsets); // warm up
const times: number[] = [];
let changes = 0;
for (let r = 0; r < ROUNDS; r++) {
  const t = performance.now();
  changes = planRound(opts, rrsets).changes.length;
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const q = (f: number) => times[Math.min(times.length - 1, Math.floor(f * times.length))]!.toFixed(1);
console.log(`plan-bench: ${POOLS} pools × ${MEMBERS} members (${POOLS * MEMBERS} members, ${down.size} down), ${ROUNDS} rounds`);
console.log(`  planRound: median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms per cycle; ${changes} RRset changes planned`);
console.log(`  heap used: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB; node ${process.version}`);
