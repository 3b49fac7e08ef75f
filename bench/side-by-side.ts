/**
 * mailpool against blackbox_exporter and check_smtp, on one fleet in one run (issue 10).
 * Installs Debian's prometheus-blackbox-exporter and monitoring-plugins when missing (as root),
 * starts the fleet (bench/fleet.ts) on 127.1.x.y, then drives each tool over the same targets:
 *
 * - blackbox_exporter: tcp module with an SMTP query_response dialogue, /probe requests from
 *   this process (keep-alive, BB_CONCURRENCY at once); its CPU from /proc/PID/stat, its peak RSS
 *   from VmHWM.
 * - check_smtp: one process per target, CHECK_SMTP_CONCURRENCY at once, over a sample of
 *   CHECK_SMTP_SAMPLE targets; CPU is this process's waited-for children (cutime+cstime).
 * - mailpool plan: POOLS pools of MEMBERS on a zone file; wall, CPU and peak RSS from
 *   /usr/bin/time.
 *
 * Then STARTTLS at TLS_COUNT members (concurrency 100), `mailpool validate` on the big config and
 * in-process config load, and the cold start of `mailpool run --once` on 10 members.
 * Prints figures and ratios; asserts nothing. Loopback only; every child is killed on exit.
 *
 * Env: FLEET_COUNT (10000), DELAY_MS (50), CONCURRENCY (500), CHECK_SMTP_SAMPLE (1000),
 * CHECK_SMTP_CONCURRENCY (50), TLS_COUNT (1000), TLS_CONCURRENCY (100), ROUNDS (1), SKIP (comma list
 * of: blackbox, check_smtp, mailpool, starttls, validate, cold).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  MAILPOOL_BIN,
  fleetAddress,
  fmt,
  freePort,
  measure,
  pool,
  procCpuMs,
  procPeakRssMb,
  startFleet,
  track,
  writeBenchConfig,
} from "./lib.js";

const N = Number(process.env.FLEET_COUNT ?? 10_000);
const DELAY = Number(process.env.DELAY_MS ?? 50);
const CONC = Number(process.env.CONCURRENCY ?? 500);
const CS_SAMPLE = Number(process.env.CHECK_SMTP_SAMPLE ?? 1000);
const CS_CONC = Number(process.env.CHECK_SMTP_CONCURRENCY ?? 50);
const TLS_N = Number(process.env.TLS_COUNT ?? 1000);
const TLS_CONC = Number(process.env.TLS_CONCURRENCY ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const SKIP = new Set((process.env.SKIP ?? "").split(",").filter(Boolean));

const BLACKBOX = "/usr/bin/prometheus-blackbox-exporter";
const CHECK_SMTP = "/usr/lib/nagios/plugins/check_smtp";

function ensurePackages(): void {
  const missing = [
    ...(existsSync(BLACKBOX) ? [] : ["prometheus-blackbox-exporter"]),
    ...(existsSync(CHECK_SMTP) ? [] : ["monitoring-plugins"]),
  ];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(", ")}: run as root, or apt-get install -y ${missing.join(" ")}`);
  console.log(`installing ${missing.join(", ")} (apt-get) …`);
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

const version = (argv: string[]): string => {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n")[0]!.trim();
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ""}${e.stderr ?? ""}`.split("\n")[0]!.trim();
  }
};

/** CPU of this process's waited-for children so far (cutime + cstime), ms. */
function childrenCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) * 10;
}

interface Row {
  tool: string;
  probes: number;
  ok: number;
  wallMs: number;
  cpuMs: number;
  peakRssMb: number;
  note?: string;
}
const rows: Row[] = [];
const print = (r: Row) => {
  rows.push(r);
  console.log(
    `  ${r.tool.padEnd(34)} ${fmt(r.probes).padStart(6)} probes ${fmt(r.ok).padStart(6)} ok  ${fmt(r.wallMs).padStart(6)} ms  ` +
      `${fmt((r.probes / r.wallMs) * 1000).padStart(6)} probes/s  ${fmt(r.cpuMs / r.probes, 3)} ms CPU/probe  peak RSS ${fmt(r.peakRssMb, 1)} MB${r.note ? `  (${r.note})` : ""}`,
  );
};

async function blackbox(
  label: string,
  dir: string,
  module: "smtp" | "smtp_starttls",
  targets: readonly string[],
  concurrency: number,
): Promise<Row> {
  const port = await freePort();
  const cfg = join(dir, "blackbox.yml");
  writeFileSync(
    cfg,
    `modules:
  smtp:
    prober: tcp
    timeout: 10s
    tcp:
      query_response:
        - expect: "^220 "
        - send: "EHLO bench.test"
        - expect: "^250 "
        - send: "QUIT"
        - expect: "^221 "
  smtp_starttls:
    prober: tcp
    timeout: 10s
    tcp:
      tls_config:
        insecure_skip_verify: true
      query_response:
        - expect: "^220 "
        - send: "EHLO bench.test"
        - expect: "^250 "
        - send: "STARTTLS"
        - expect: "^220 "
        - starttls: true
        - send: "EHLO bench.test"
        - expect: "^250 "
        - send: "QUIT"
        - expect: "^221 "
`,
  );
  const child = track(
    spawn(BLACKBOX, [`--config.file=${cfg}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=error"], { stdio: ["ignore", "ignore", "inherit"] }),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const ask = (target: string) =>
    new Promise<boolean>((resolve) => {
      const req = get({ host: "127.0.0.1", port, agent, path: `/probe?module=${module}&target=${encodeURIComponent(target)}` }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () => resolve(/^probe_success 1$/m.test(body)));
      });
      req.on("error", () => resolve(false));
    });
  // Wait until it answers.
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      get({ host: "127.0.0.1", port, path: "/" }, (res) => {
        res.resume();
        resolve(true);
      }).on("error", () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const cpu0 = procCpuMs(child.pid!);
  const t0 = performance.now();
  const results = await pool(targets, concurrency, ask);
  const wallMs = performance.now() - t0;
  const cpuMs = procCpuMs(child.pid!) - cpu0;
  const peakRssMb = procPeakRssMb(child.pid!);
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  agent.destroy();
  const row = { tool: label, probes: targets.length, ok: results.filter(Boolean).length, wallMs, cpuMs, peakRssMb };
  print(row);
  return row;
}

async function checkSmtp(targets: readonly string[], port: number): Promise<Row> {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  // A few run under /usr/bin/time for the RSS of one process; the rest straight.
  const results = await pool(targets, CS_CONC, (host) =>
    new Promise<boolean>((resolve) => {
      const c = track(spawn(CHECK_SMTP, ["-H", host, "-p", String(port), "-t", "10"], { stdio: "ignore" }));
      c.once("exit", (code) => resolve(code === 0));
      c.once("error", () => resolve(false));
    }),
  );
  const wallMs = performance.now() - t0;
  const cpuMs = childrenCpuMs() - cpu0;
  const one = await measure([CHECK_SMTP, "-H", targets[0]!, "-p", String(port), "-t", "10"]);
  const row = {
    tool: "check_smtp (process per target)",
    probes: targets.length,
    ok: results.filter(Boolean).length,
    wallMs,
    cpuMs,
    peakRssMb: one.peakRssMb,
    note: `concurrency ${CS_CONC}, sample of ${targets.length}; RSS is one process`,
  };
  print(row);
  return row;
}

/** Counts members judged up/down in a plan JSON (best effort: counts "ok":true/false observations). */
function planSummary(stdout: string): string {
  const up = (stdout.match(/"health": "up"/g) ?? []).length;
  const down = (stdout.match(/"health": "(down|unknown)"/g) ?? []).length;
  return `plan JSON ${fmt(stdout.length / 1024)} KiB, ${up}  up / ${down} down or unknown`;
}

async function mailpoolPlan(label: string, dir: string, o: { pools: number; members: number; port: number; concurrency: number; startTls?: boolean }, extraNode: string[] = []): Promise<Row> {
  const config = writeBenchConfig({ dir, pools: o.pools, membersPerPool: o.members, port: o.port, concurrency: o.concurrency, startTls: o.startTls });
  const m = await measure([process.execPath, ...extraNode, MAILPOOL_BIN, "plan", "-c", config, "--output", "json"], { cwd: dir });
  const probes = o.pools * o.members;
  const row = { tool: label, probes, ok: (m.stdout.match(/"health": "up"/g) ?? []).length, wallMs: m.wallMs, cpuMs: m.cpuMs, peakRssMb: m.peakRssMb, note: `exit ${m.code}; ${planSummary(m.stdout)}` };
  if (m.code !== 0 && m.code !== 2) console.log(m.stderr.slice(0, 2000));
  print(row);
  return row;
}

async function main(): Promise<void> {
  ensurePackages();
  const dir = mkdtempSync(join(tmpdir(), "mailpool-side-"));
  try {
    console.log(`side-by-side: node ${process.version}, ${version([BLACKBOX, "--version"])}; ${version([CHECK_SMTP, "-V"])}`);
    console.log(`  load average before: ${readFileSync("/proc/loadavg", "utf8").trim()}`);
    const ideal = Math.ceil(N / CONC) * DELAY;

    if (!SKIP.has("blackbox") || !SKIP.has("check_smtp") || !SKIP.has("mailpool")) {
      const fleet = await startFleet({ count: N, delayMs: DELAY });
      const port = fleet.ports.smtp!;
      const targets = Array.from({ length: N }, (_, i) => `${fleetAddress(i)}:${port}`);
      console.log(`\n${fmt(N)} SMTP listeners (127.1.x.y:${port}), greeting delay ${DELAY} ms, EHLO/QUIT, concurrency ${CONC}; ideal cycle ${fmt(ideal)} ms`);
      // The fleet's own CPU per probe while each tool runs: the fleet shares the two cores, so a
      // cycle's wall time is bounded by tool + fleet CPU, not by the greeting delay alone.
      const fleetCpu = async <T extends Row>(work: () => Promise<T>): Promise<T> => {
        const c0 = procCpuMs(fleet.pid);
        const row = await work();
        console.log(`    the fleet used ${fmt((procCpuMs(fleet.pid) - c0) / row.probes, 3)} ms CPU per probe meanwhile`);
        return row;
      };
      for (let round = 0; round < ROUNDS; round++) {
        if (!SKIP.has("blackbox")) await fleetCpu(() => blackbox("blackbox_exporter (tcp, /probe)", dir, "smtp", targets, CONC));
        if (!SKIP.has("check_smtp")) {
          const step = Math.max(1, Math.floor(N / CS_SAMPLE));
          await fleetCpu(() => checkSmtp(Array.from({ length: Math.min(CS_SAMPLE, N) }, (_, i) => fleetAddress(i * step)), port));
        }
        if (!SKIP.has("mailpool")) {
          const pools = Math.ceil(N / 10);
          const row = await fleetCpu(() => mailpoolPlan(`mailpool plan (${pools} pools × 10)`, dir, { pools, members: 10, port, concurrency: CONC }));
          console.log(`    cycle ${fmt(row.wallMs)} ms = ${fmt(row.wallMs / ideal, 2)}× the ideal ${fmt(ideal)} ms (target ≤ 1.5×), process start and config load included`);
        }
      }
      await fleet.stop();
    }

    if (!SKIP.has("starttls")) {
      const fleet = await startFleet({ count: TLS_N, delayMs: DELAY, startTls: true });
      const port = fleet.ports.smtp!;
      console.log(`\nSTARTTLS: ${fmt(TLS_N)} listeners, concurrency ${TLS_CONC}, no certificate verification in either tool`);
      const targets = Array.from({ length: TLS_N }, (_, i) => `${fleetAddress(i)}:${port}`);
      await blackbox("blackbox_exporter STARTTLS", dir, "smtp_starttls", targets, TLS_CONC);
      await mailpoolPlan(`mailpool plan STARTTLS (${TLS_N / 10} × 10)`, dir, { pools: TLS_N / 10, members: 10, port, concurrency: TLS_CONC, startTls: true });
      await fleet.stop();
    }

    if (!SKIP.has("validate")) {
      console.log(`\nconfig load on the ${fmt(N)}-member config`);
      const config = writeBenchConfig({ dir, pools: Math.ceil(N / 10), membersPerPool: 10, port: 2525, concurrency: CONC });
      const v = await measure([process.execPath, MAILPOOL_BIN, "validate", "-c", config], { cwd: dir });
      console.log(`  mailpool validate: ${fmt(v.wallMs)} ms wall, ${fmt(v.cpuMs)} ms CPU, peak RSS ${fmt(v.peakRssMb, 1)} MB (exit ${v.code}; process start included)`);
      const empty = await measure([process.execPath, "-e", "0"]);
      console.log(`  node -e 0 (process start alone): ${fmt(empty.wallMs)} ms wall, ${fmt(empty.cpuMs)} ms CPU`);
      const { loadConfigFile } = (await import(pathToFileURL(join(MAILPOOL_BIN, "..", "..", "config", "load.js")).href)) as {
        loadConfigFile: (p: string) => unknown;
      };
      loadConfigFile(config); // warm the modules (zod schemas compile on first use)
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        loadConfigFile(config);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      console.log(`  loadConfigFile in process: median ${fmt(times[2]!, 1)} ms, min ${fmt(times[0]!, 1)} ms over 5 (target ≤ 150 ms)`);
    }

    if (!SKIP.has("cold")) {
      const fleet = await startFleet({ count: 10, delayMs: 0 });
      const cold = mkdtempSync(join(dir, "cold-"));
      const config = writeBenchConfig({ dir: cold, pools: 1, membersPerPool: 10, port: fleet.ports.smtp!, concurrency: 32 });
      const runs: number[] = [];
      let cpu = 0;
      let rss = 0;
      for (let i = 0; i < 5; i++) {
        const m = await measure([process.execPath, MAILPOOL_BIN, "run", "--once", "-c", config], { cwd: cold });
        if (m.code !== 0) console.log(`  run --once exit ${m.code}: ${m.stderr.slice(0, 500)}`);
        runs.push(m.wallMs);
        cpu = m.cpuMs;
        rss = m.peakRssMb;
      }
      runs.sort((a, b) => a - b);
      console.log(`\ncold start: mailpool run --once, 10 members on a zone file: median ${fmt(runs[2]!)} ms wall (min ${fmt(runs[0]!)}), ${fmt(cpu)} ms CPU, peak RSS ${fmt(rss, 1)} MB (target ≤ 500 ms)`);
      await fleet.stop();
    }

    const bb = rows.find((r) => r.tool.startsWith("blackbox_exporter (tcp"));
    const mp = rows.find((r) => r.tool.startsWith("mailpool plan ("));
    const cs = rows.find((r) => r.tool.startsWith("check_smtp"));
    const rate = (r: Row) => (r.probes / r.wallMs) * 1000;
    console.log("\nratios (mailpool ÷ other)");
    for (const other of [bb, cs]) {
      if (!other || !mp) continue;
      console.log(
        `  vs ${other.tool}: probes/s ${fmt(rate(mp) / rate(other), 2)}×, CPU per probe ${fmt(mp.cpuMs / mp.probes / (other.cpuMs / other.probes), 2)}×, peak RSS ${fmt(mp.peakRssMb / other.peakRssMb, 2)}×`,
      );
    }
    const bbt = rows.find((r) => r.tool === "blackbox_exporter STARTTLS");
    const mpt = rows.find((r) => r.tool.startsWith("mailpool plan STARTTLS"));
    if (bbt && mpt) {
      console.log(`  STARTTLS: probes/s ${fmt(rate(mpt) / rate(bbt), 2)}×, CPU per probe ${fmt(mpt.cpuMs / mpt.probes / (bbt.cpuMs / bbt.probes), 2)}×, peak RSS ${fmt(mpt.peakRssMb / bbt.peakRssMb, 2)}×`);
    }
    console.log(`  load average after: ${readFileSync("/proc/loadavg", "utf8").trim()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`side-by-side: ${error instanceof Error ? error.stack : String(error)}`);
      process.exit(1);
    },
  );
}
