/**
 * Reconcile cost against the wire-level fake Route 53 and Cloudflare servers the tests use
 * (test/fakes/): POOLS pools × MEMBERS members across ZONES zones (one provider per zone), the
 * daemon's judge (rise 1, fall 1): a warm-up cycle, a cycle where CHANGE_PERCENT of the members
 * go down (one per pool, spread), a cycle with no change. Per cycle: API requests by kind, bytes
 * sent and received (counted by a loopback TCP relay in front of the fake), cycle wall time, and
 * planRound's time on what was read; plus what the requests cost at the default rate limits
 * (Route 53 5/s per account, Cloudflare 1,200 per 5 minutes per token). Prints; asserts nothing.
 * Run: npm run build && node dist/bench/reconcile-bench.js   (POOLS=1000 MEMBERS=4 ZONES=10 CHANGE_PERCENT=5)
 */
import { createConnection, createServer, type AddressInfo, type Server } from "node:net";
import { createCloudflareProvider } from "../providers/cloudflare/index.js";
import { LimiterRegistry } from "../providers/cloudflare/limited-fetch.js";
import { createRoute53Provider } from "../providers/route53/index.js";
import { route53ConfigSchema } from "../providers/route53/config.js";
import type { Provider, ProviderContext } from "../providers/types.js";
import { parseConfig } from "../src/config/load.js";
import { runCycle } from "../src/controller/cycle.js";
import { planRound, poolKeys } from "../src/plan/plan-round.js";
import { createRuntime } from "../src/controller/runtime.js";
import { HysteresisJudge } from "../src/health/hysteresis.js";
import type { ProbeFn } from "../src/health/probe-round.js";
import { RateLimiter } from "../src/util/rate-limiter.js";
import { CloudflareFake, DEFAULT_TOKEN } from "../test/fakes/cloudflare-server.js";
import { FakeRoute53Server } from "../test/fakes/route53-server.js";
import { fmt } from "./lib.js";

const POOLS = Number(process.env.POOLS ?? 1000);
const MEMBERS = Number(process.env.MEMBERS ?? 4);
const ZONES = Number(process.env.ZONES ?? 10);
const CHANGE_PERCENT = Number(process.env.CHANGE_PERCENT ?? 5);
const CONTROLLER = "bench";
const silent = { debug() {}, info() {}, warn() {}, error() {} };

const zoneName = (z: number) => `z${z}.bench.test`;
const poolName = (p: number) => `p${p}.${zoneName(p % ZONES)}`;
const member = (p: number, m: number) => `10.${(p >> 8) & 255}.${p & 255}.${m + 1}`;

/** A loopback relay that counts the bytes each way. */
async function relay(targetPort: number): Promise<{ port: number; sent: () => number; received: () => number; close: () => void }> {
  let sent = 0;
  let received = 0;
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
    client.on("data", (d: Buffer) => (sent += d.length));
    upstream.on("data", (d: Buffer) => (received += d.length));
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as AddressInfo).port, sent: () => sent, received: () => received, close: () => server.close() };
}

const config = parseConfig(
  [
    `controllerId: ${CONTROLLER}`,
    "defaults: { rise: 1, fall: 1, confirmIntervalMs: 0 }",
    "providers:",
    ...Array.from({ length: ZONES }, (_, z) => `  z${z}: { type: memory }`),
    "pools:",
    ...Array.from(
      { length: POOLS },
      (_, p) =>
        `  - { name: ${poolName(p)}, provider: z${p % ZONES}, checks: [smtp], members: [${Array.from({ length: MEMBERS }, (_, m) => `{ address: ${member(p, m)} }`).join(", ")}] }`,
    ),
  ].join("\n"),
  { env: {} },
);

/** Members down in the change cycle: one in each of changeCount pools, spread over every zone (pool 7i mod POOLS). */
const changeCount = Math.round((POOLS * MEMBERS * CHANGE_PERCENT) / 100);
const down = new Set(Array.from({ length: changeCount }, (_, i) => member((i * 7) % POOLS, i % MEMBERS)));
const probe =
  (failing: ReadonlySet<string>): ProbeFn =>
  async (t) =>
    failing.has(t.host)
      ? { ok: false, reason: "connection refused", latencyMs: 1, phases: [], warnings: [] }
      : { ok: true, reason: "ok", latencyMs: 1, phases: [], warnings: [] };

interface Counter {
  reads(): number;
  writes(): number;
}

async function runScenario(label: string, providers: Map<string, Provider>, counter: Counter, io: { sent(): number; received(): number }, rate: (requests: number) => string): Promise<void> {
  const judge = new HysteresisJudge();
  const cycles: [string, ReadonlySet<string>][] = [
    ["warm-up (all up)", new Set()],
    [`${CHANGE_PERCENT} % down (${fmt(down.size)} members)`, down],
    ["no change", down],
  ];
  console.log(`\n${label}: ${fmt(POOLS)} pools × ${MEMBERS} members across ${ZONES} zones (daemon judge, rise 1, fall 1)`);
  for (const [name, failing] of cycles) {
    const [r0, w0, s0, x0] = [counter.reads(), counter.writes(), io.sent(), io.received()];
    const runtime = createRuntime(config, silent, { probe: probe(failing), providers });
    const t = performance.now();
    const report = await runCycle(runtime, { dryRun: false, judge, signal: AbortSignal.timeout(600_000) });
    const wall = performance.now() - t;
    const applied = report.results.reduce((n, r) => n + (r.applied?.applied ?? 0), 0);
    const errors = report.results.filter((r) => r.error).length;
    const reads = counter.reads() - r0;
    const writes = counter.writes() - w0;
    console.log(
      `  ${name.padEnd(28)} reads ${fmt(reads).padStart(5)}, writes ${fmt(writes).padStart(3)}, sent ${fmt((io.sent() - s0) / 1024).padStart(6)} KiB, ` +
        `received ${fmt((io.received() - x0) / 1024).padStart(6)} KiB, cycle ${fmt(wall).padStart(6)} ms, ${applied} RRset change(s) applied${errors ? `, ${errors} provider error(s)` : ""}; at the default rate limit: ${rate(reads + writes)}`,
    );
  }
  // planRound alone, on one zone's read (the pure part of a cycle).
  const first = config.pools.filter((p) => p.provider === "z0");
  const rrsets = await providers.get("z0")!.read(first.flatMap(poolKeys), AbortSignal.timeout(60_000));
  const health = (_pool: string, address: string) => (down.has(address) ? { health: "down" as const, reason: "refused" } : { health: "up" as const, reason: "ok" });
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    planRound({ providerName: "z0", pools: first, health, controllerId: CONTROLLER }, rrsets);
    best = Math.min(best, performance.now() - t);
  }
  console.log(`  planRound for one zone (${first.length} pools): ${fmt(best, 2)} ms; × ${ZONES} zones ≈ ${fmt(best * ZONES, 1)} ms per cycle`);
}

async function route53(): Promise<void> {
  const fake = await FakeRoute53Server.start({});
  const io = await relay(new URL(fake.url).port ? Number(new URL(fake.url).port) : 80);
  const limiter = new RateLimiter({ ratePerSecond: 100_000, burst: 100_000 });
  const providers = new Map<string, Provider>();
  for (let z = 0; z < ZONES; z++) {
    const zone = fake.addZone(zoneName(z));
    const pools = config.pools.filter((p) => p.provider === `z${z}`);
    for (const p of pools) {
      fake.put(zone.id, { name: `${p.name}.`, type: "A", ttl: 300, values: p.members.map((m) => m.address) });
      fake.put(zone.id, { name: `_mailpool.${p.name}.`, type: "TXT", ttl: 300, values: [`"mailpool owner=${CONTROLLER}"`] });
    }
    const ctx: ProviderContext = {
      name: `z${z}`,
      controllerId: CONTROLLER,
      pools: pools.map((p) => ({ name: p.name, recordStyle: "simple" as const })),
      env: { AWS_ACCESS_KEY_ID: "AKIDBENCH", AWS_SECRET_ACCESS_KEY: "x" },
      logger: silent,
    };
    const parsed = route53ConfigSchema.parse({ type: "route53", hostedZoneId: zone.id, endpoint: `http://127.0.0.1:${io.port}`, maxAttempts: 1 });
    providers.set(`z${z}`, await createRoute53Provider(parsed, ctx, { limiter, requestTimeoutMs: 30_000 }));
  }
  const counter = {
    reads: () => fake.requests("ListResourceRecordSets").length,
    writes: () => fake.requests("ChangeResourceRecordSets").length,
  };
  await runScenario("Route 53 (fake)", providers, counter, io, (n) => `${fmt(n / 5, 1)} s at 5 requests/s`);
  for (const p of providers.values()) await p.close?.();
  io.close();
  await fake.close();
}

async function cloudflare(): Promise<void> {
  const fake = await CloudflareFake.start({});
  const io = await relay(Number(new URL(fake.baseUrl).port));
  const providers = new Map<string, Provider>();
  const limiters = new LimiterRegistry();
  for (let z = 0; z < ZONES; z++) {
    const zoneId = fake.addZone(zoneName(z));
    const pools = config.pools.filter((p) => p.provider === `z${z}`);
    for (const p of pools) {
      fake.seed(zoneId, { name: `_mailpool.${p.name}`, type: "TXT", content: `"mailpool owner=${CONTROLLER}"`, ttl: 300, comment: null });
      for (const m of p.members) fake.seed(zoneId, { name: p.name, type: "A", content: m.address, ttl: 300, comment: `managed by mailpool (owner=${CONTROLLER})` });
    }
    const ctx: ProviderContext = {
      name: `z${z}`,
      controllerId: CONTROLLER,
      pools: pools.map((p) => ({ name: p.name, recordStyle: "simple" as const })),
      env: {},
      logger: silent,
    };
    const base = new URL(fake.baseUrl);
    base.port = String(io.port);
    providers.set(
      `z${z}`,
      await createCloudflareProvider(
        { type: "cloudflare", zoneId, apiToken: DEFAULT_TOKEN, baseUrl: base.toString().replace(/\/$/, ""), maxRetries: 0, timeoutMs: 30_000, requestsPer5Minutes: 1_000_000 },
        ctx,
        { limiters },
      ),
    );
  }
  const counter = {
    reads: () => fake.requests.filter((r) => r.method === "GET").length,
    writes: () => fake.writes().length,
  };
  await runScenario("Cloudflare (fake)", providers, counter, io, (n) => `${fmt(n / 4, 1)} s at 1,200 per 5 minutes (${fmt((n / 1200) * 100)} % of the budget)`);
  for (const p of providers.values()) await p.close?.();
  io.close();
  await fake.close();
}

await route53();
await cloudflare();
process.exit(0);
