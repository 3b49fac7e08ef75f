/**
 * CPU per plain SMTP probe, in process: the probe runner alone (no config, no plan, no process
 * start) over the fleet (bench/fleet.ts, its own process), N probes at CONCURRENCY. Prints wall,
 * CPU per probe and peak RSS/heap of this process (sampled every 20 ms); asserts nothing.
 * Run: npm run build && node dist/bench/probe-cpu.js   (N=10000 CONCURRENCY=500 DELAY_MS=50 STARTTLS=0|1)
 */
import { BUILTIN_CHECKS, createProbeRunner } from "../src/probes/index.js";
import { createThreadedProbeRunner } from "../src/probes/threads.js";
import type { CheckSpec } from "../src/probes/types.js";
import { fleetAddress, fmt, pool, startFleet } from "./lib.js";

const N = Number(process.env.N ?? 10_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 500);
const DELAY = Number(process.env.DELAY_MS ?? 50);
const STARTTLS = process.env.STARTTLS === "1";
/** 1: probes on this thread; more: on that many worker threads (probeThreads). */
const THREADS = Number(process.env.THREADS ?? 1);

const fleet = await startFleet({ count: N, delayMs: DELAY, startTls: STARTTLS });
try {
  const port = fleet.ports.smtp!;
  const check = { name: "fleet", ...BUILTIN_CHECKS.smtp!, port, timeoutMs: 10_000, connectTimeoutMs: 5000, ...(STARTTLS && { tls: "starttls", tlsRules: { ...BUILTIN_CHECKS.smtp!.tlsRules, verify: false } }) } as CheckSpec;
  const run = THREADS > 1 ? createThreadedProbeRunner({ concurrency: CONCURRENCY, threads: THREADS }) : createProbeRunner({ concurrency: CONCURRENCY });
  const signal = AbortSignal.timeout(300_000);
  let peakRss = 0;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 20);
  const rss0 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const results = process.env.POOLED === "1" ? await pool(Array.from({ length: N }, (_, i) => i), CONCURRENCY, (i) => run({ host: fleetAddress(i), port }, check, signal)) : await Promise.all(Array.from({ length: N }, (_, i) => run({ host: fleetAddress(i), port }, check, signal)));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const ideal = Math.ceil(N / CONCURRENCY) * DELAY;
  console.log(`probe-cpu: ${fmt(N)} SMTP${STARTTLS ? " STARTTLS" : ""} probes (greeting after ${DELAY} ms, EHLO, QUIT), concurrency ${CONCURRENCY}, ${THREADS > 1 ? `on ${THREADS} worker threads` : "in process"}; node ${process.version}`);
  console.log(
    `  ${fmt(wall)} ms (${fmt(wall / ideal, 2)}× the ideal ${fmt(ideal)} ms), ${fmt((N / wall) * 1000)} probes/s, ${results.filter((r) => r.ok).length} ok; ` +
      `CPU ${fmt(cpuMs)} ms = ${fmt(cpuMs / N, 3)} ms per probe; RSS ${fmt(rss0 / 2 ** 20)} → peak ${fmt(peakRss / 2 ** 20)} MB, heap peak ${fmt(peakHeap / 2 ** 20)} MB`,
  );
} finally {
  await fleet.stop();
}
process.exit(0);
