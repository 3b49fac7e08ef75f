/**
 * The floor for CPU per plain SMTP probe on this machine: the least a Node client can do per
 * connect + greeting + EHLO + QUIT, written straight on node:net (no deadlines, no abort signal,
 * no line bound, no observation, no TLS option), over the same fleet (bench/fleet.ts) at the same
 * concurrency, next to mailpool's probe runner in the same process and run. What the runner
 * spends above the floor is mailpool's; the floor itself is Node's sockets and the kernel's TCP
 * work on loopback. Prints; asserts nothing.
 * Run: npm run build && node dist/bench/floor.js   (N=10000 CONCURRENCY=500 DELAY_MS=50 ROUNDS=2)
 */
import { connect } from "node:net";
import { BUILTIN_CHECKS, createProbeRunner } from "../src/probes/index.js";
import type { CheckSpec } from "../src/probes/types.js";
import { fleetAddress, fmt, pool, startFleet } from "./lib.js";

const N = Number(process.env.N ?? 10_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 500);
const DELAY = Number(process.env.DELAY_MS ?? 50);
const ROUNDS = Number(process.env.ROUNDS ?? 2);

/** connect, read to "220 ", EHLO, read to "250 ", QUIT, read to "221", close. */
function bareProbe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let step = 0;
    let buffered = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      // A reply is complete at a line whose 4th character is a space.
      const done = (code: string) => buffered.includes(`\n${code} `) || buffered.startsWith(`${code} `);
      if (step === 0 && done("220")) {
        step = 1;
        buffered = "";
        socket.write("EHLO floor.bench\r\n");
      } else if (step === 1 && done("250")) {
        step = 2;
        buffered = "";
        socket.write("QUIT\r\n");
      } else if (step === 2 && buffered.startsWith("221")) {
        step = 3;
        socket.destroy();
        resolve(true);
      }
    });
    socket.on("error", () => resolve(false));
    socket.on("close", () => resolve(step === 3));
  });
}

async function timed(label: string, work: () => Promise<boolean[]>): Promise<number> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ok = (await work()).filter(Boolean).length;
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const perProbe = (cpu.user + cpu.system) / 1000 / N;
  console.log(`  ${label.padEnd(34)} ${fmt(wall).padStart(6)} ms  ${fmt((N / wall) * 1000).padStart(6)} probes/s  ${String(ok).padStart(6)} ok  ${fmt(perProbe, 3)} ms CPU per probe`);
  return perProbe;
}

const fleet = await startFleet({ count: N, delayMs: DELAY });
try {
  const port = fleet.ports.smtp!;
  const check = { name: "fleet", ...BUILTIN_CHECKS.smtp!, port, timeoutMs: 10_000, connectTimeoutMs: 5000 } as CheckSpec;
  const run = createProbeRunner({ concurrency: CONCURRENCY });
  const signal = AbortSignal.timeout(600_000);
  const targets = Array.from({ length: N }, (_, i) => fleetAddress(i));
  console.log(`floor: ${fmt(N)} SMTP probes (greeting after ${DELAY} ms, EHLO, QUIT), concurrency ${CONCURRENCY}, in process; node ${process.version}, load ${(await import("node:os")).loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const bare: number[] = [];
  const runner: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    bare.push(await timed(`bare node:net client, round ${r + 1}`, () => pool(targets, CONCURRENCY, (host) => bareProbe(host, port))));
    runner.push(await timed(`mailpool probe runner, round ${r + 1}`, () => Promise.all(targets.map((host) => run({ host, port }, check, signal).then((o) => o.ok)))));
  }
  const best = (xs: number[]) => Math.min(...xs);
  console.log(`  floor (best bare) ${fmt(best(bare), 3)} ms; runner (best) ${fmt(best(runner), 3)} ms = floor + ${fmt(best(runner) - best(bare), 3)} ms (${fmt((best(runner) / best(bare) - 1) * 100)} % above)`);
} finally {
  await fleet.stop();
}
process.exit(0);
