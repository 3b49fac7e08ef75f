/**
 * Probe throughput and the concurrency bound: SMTP listeners on 127.0.0.100–149, many probes
 * through one bounded runner. Loopback only. Prints figures; asserts nothing.
 * Run: npm run build && node dist/bench/probe-bench.js
 */
import { startListenersOnOnePort } from "../src/demo/mail-listener.js";
import { BUILTIN_CHECKS } from "../src/probes/builtin-checks.js";
import { createProbeRunner } from "../src/probes/index.js";
import type { CheckSpec } from "../src/probes/types.js";

const HOSTS = Number(process.env.HOSTS ?? 50);
const PROBES = Number(process.env.PROBES ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);

const listeners = await startListenersOnOnePort("smtp", Array.from({ length: HOSTS }, (_, i) => `127.0.0.${100 + i}`));
const first = listeners[0]!;

const check = { name: "smtp", ...BUILTIN_CHECKS.smtp!, port: first.port, timeoutMs: 5000 } as CheckSpec;
const run = createProbeRunner({ concurrency: CONCURRENCY });
const signal = AbortSignal.timeout(120_000);
const started = performance.now();
const results = await Promise.all(
  Array.from({ length: PROBES }, (_, i) => run({ host: `127.0.0.${100 + (i % HOSTS)}` , port: first.port }, check, signal)),
);
const seconds = (performance.now() - started) / 1000;
const lat = results.map((r) => r.latencyMs).sort((a, b) => a - b);
const q = (f: number) => lat[Math.min(lat.length - 1, Math.floor(f * lat.length))]!.toFixed(1);
console.log(`probe-bench: ${PROBES} SMTP handshakes (greeting, EHLO, QUIT) over ${HOSTS} loopback listeners, concurrency ${CONCURRENCY}`);
console.log(`  ${(PROBES / seconds).toFixed(0)} probes/s; ${results.filter((r) => r.ok).length} ok; latency median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`);
console.log(`  busiest listener held ${Math.max(...listeners.map((l) => l.peak))} conversation(s) at once; node ${process.version}`);
await Promise.all(listeners.map((l) => l.stop()));
