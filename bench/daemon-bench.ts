/**
 * The daemon on a fleet (bench/fleet.ts), zone-file provider, schedule every second:
 *
 * 1. Failover timing, one pool of 10, fall 3, rise 2, check timeout 1 s: a listener stops → its
 *    address leaves the zone file (target ≤ interval × fall + timeout + 1 s), it starts again →
 *    the address is back (≤ interval × rise + timeout + 1 s). The zone file is polled every 20 ms.
 * 2. Steady state: STEADY_MEMBERS members (pools of 10), CYCLES cycles of 1 s: the daemon's RSS
 *    and CPU per cycle, sampled along the way (a leak shows as RSS climbing cycle after cycle).
 *
 * Prints; asserts nothing. Loopback only; the daemon and the fleet are killed on exit.
 * Run: npm run build && node dist/bench/daemon-bench.js   (CYCLES=300 STEADY_MEMBERS=500 ROUNDS=3)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { MAILPOOL_BIN, fleetAddress, fmt, freePort, procCpuMs, procRssMb, startFleet, track, writeBenchConfig } from "./lib.js";

const CYCLES = Number(process.env.CYCLES ?? 300);
const STEADY = Number(process.env.STEADY_MEMBERS ?? 500);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startDaemon(config: string, cwd: string) {
  const child = track(
    spawn(process.execPath, [MAILPOOL_BIN, "run", "-c", config, "--log-level", "info"], { cwd, stdio: ["ignore", "ignore", "pipe"] }),
  );
  let cycles = 0;
  // Each cycle logs "cycle done" (info, on stderr).
  createInterface({ input: child.stderr! }).on("line", (line) => {
    if (line.includes('"cycle done"')) cycles++;
  });
  return {
    pid: child.pid!,
    cycles: () => cycles,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}

const inZone = (zone: string, address: string) => new RegExp(`\\sA\\s+${address.replace(/\./g, "\\.")}\\s*$`, "m").test(readFileSync(zone, "utf8"));

async function until(what: () => boolean, limitMs: number): Promise<number | undefined> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    if (what()) return performance.now() - t0;
    await sleep(20);
  }
  return undefined;
}

async function failover(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mailpool-failover-"));
  const fleet = await startFleet({ count: 10, delayMs: 0 });
  try {
    const port = await freePort();
    const config = writeBenchConfig({
      dir, pools: 1, membersPerPool: 10, port: fleet.ports.smtp!, concurrency: 32, timeoutMs: 1000,
      daemon: { listen: `127.0.0.1:${port}`, schedule: "* * * * * *", fall: 3, rise: 2 },
    });
    const zone = join(dir, "bench.zone");
    const daemon = startDaemon(config, dir);
    await until(() => daemon.cycles() >= 3, 30_000);
    console.log(`failover: daemon, schedule every 1 s, fall 3, rise 2, check timeout 1 s; 10 members on a zone file`);
    console.log(`  bounds: removal ≤ 1 s × 3 + 1 s + 1 s = 5.0 s; reinstatement ≤ 1 s × 2 + 1 s + 1 s = 4.0 s`);
    for (let r = 0; r < ROUNDS; r++) {
      const victim = fleetAddress(r % 10);
      fleet.send(`stop ${victim}`);
      await fleet.next("stopped");
      const out = await until(() => !inZone(zone, victim), 20_000);
      fleet.send(`start ${victim}`);
      await fleet.next("started");
      const back = await until(() => inZone(zone, victim), 20_000);
      console.log(
        `  round ${r + 1}: ${victim} stopped → out of the zone file after ${out === undefined ? "> 20 s" : `${fmt(out / 1000, 2)} s`}; started → back after ${back === undefined ? "> 20 s" : `${fmt(back / 1000, 2)} s`}`,
      );
      await sleep(1500);
    }
    await daemon.stop();
  } finally {
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function steady(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mailpool-steady-"));
  // Outlive the cycles (one a second) with room for the start: the fleet stops by itself after its lifetime.
  const fleet = await startFleet({ count: STEADY, delayMs: 0, lifetimeS: CYCLES + 300 });
  try {
    const port = await freePort();
    const config = writeBenchConfig({
      dir, pools: Math.ceil(STEADY / 10), membersPerPool: 10, port: fleet.ports.smtp!, concurrency: 100, timeoutMs: 2000,
      daemon: { listen: `127.0.0.1:${port}`, schedule: "* * * * * *" },
    });
    const daemon = startDaemon(config, dir);
    console.log(`\nsteady state: daemon, ${fmt(STEADY)} members (${Math.ceil(STEADY / 10)} pools of 10), a cycle every 1 s, ${fmt(CYCLES)} cycles`);
    const marks = [10, 30, 60, 120, 300, 600, 1000].filter((m) => m < CYCLES).concat([CYCLES]);
    let lastCpu = 0;
    let lastCycles = 0;
    for (const mark of marks) {
      await until(() => daemon.cycles() >= mark, (mark - daemon.cycles() + 30) * 2000);
      const cpu = procCpuMs(daemon.pid);
      const c = daemon.cycles();
      console.log(
        `  after ${fmt(c).padStart(5)} cycles: RSS ${fmt(procRssMb(daemon.pid), 1)} MB, CPU ${fmt((cpu - lastCpu) / Math.max(1, c - lastCycles), 1)} ms per cycle since the last mark (${fmt((cpu - lastCpu) / Math.max(1, c - lastCycles) / STEADY, 3)} ms per probe)`,
      );
      lastCpu = cpu;
      lastCycles = c;
    }
    await daemon.stop();
  } finally {
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!(process.env.SKIP ?? "").includes("failover")) await failover();
if (!(process.env.SKIP ?? "").includes("steady")) await steady();
process.exit(0);
