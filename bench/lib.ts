/**
 * What the benches share: the fleet child process, child-process measurement (wall, CPU, peak
 * RSS through /usr/bin/time, or /proc for a process that keeps running), free loopback ports and
 * generated mailpool configs with their zone files. Loopback only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { fleetAddress } from "./fleet.js";

export { fleetAddress };

const here = dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/bin.js next to this compiled folder; MAILPOOL_BIN picks another build (a baseline). */
export const MAILPOOL_BIN = process.env.MAILPOOL_BIN ?? join(here, "..", "src", "cli", "bin.js");

/** Every child this process started, killed on exit (also on an error). */
const children = new Set<ChildProcess>();
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

export interface Fleet {
  readonly ports: Record<string, number>;
  readonly count: number;
  readonly pid: number;
  send(line: string): void;
  /** Waits for the next stdout JSON object with this key. */
  next(key: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startFleet(env: {
  count: number;
  delayMs?: number;
  startTls?: boolean;
  protocols?: string;
  lifetimeS?: number;
}): Promise<Fleet> {
  const child = track(
    spawn(process.execPath, [join(here, "fleet.js")], {
      env: {
        ...process.env,
        FLEET_COUNT: String(env.count),
        FLEET_GREETING_DELAY_MS: String(env.delayMs ?? 50),
        FLEET_STARTTLS: env.startTls ? "1" : "0",
        FLEET_PROTOCOLS: env.protocols ?? "smtp",
        FLEET_LIFETIME_S: String(env.lifetimeS ?? 900),
      },
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  const waiting: Array<{ key: string; resolve: (v: Record<string, unknown>) => void }> = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const i = waiting.findIndex((w) => w.key in obj);
    if (i !== -1) waiting.splice(i, 1)[0]!.resolve(obj);
  });
  const next = (key: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      waiting.push({ key, resolve });
      child.once("exit", (code) => reject(new Error(`fleet exited (${code})`)));
    });
  const ready = await next("ready");
  return {
    ports: ready.ports as Record<string, number>,
    count: env.count,
    pid: child.pid!,
    send: (line) => void child.stdin!.write(`${line}\n`),
    next,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      }),
  };
}

export interface Measured {
  readonly code: number | null;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command under /usr/bin/time (GNU): exact CPU (user+sys) and peak RSS of the child. */
export function measure(argv: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Measured> {
  const timeFile = join("/tmp", `mailpool-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = track(
      spawn("/usr/bin/time", ["-o", timeFile, "-f", "%U %S %M", ...argv], {
        env: options.env ?? process.env,
        cwd: options.cwd,
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d.length + stderr.length > 1e6 ? "" : d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      const [user = "0", sys = "0", maxKb = "0"] = existsSync(timeFile) ? readFileSync(timeFile, "utf8").trim().split("\n").at(-1)!.split(" ") : [];
      resolve({ code, wallMs, cpuMs: (Number(user) + Number(sys)) * 1000, peakRssMb: Number(maxKb) / 1024, stdout, stderr });
    });
  });
}

const TICK_MS = 10; // USER_HZ is 100 on Linux
/** CPU (user+sys) of a running process so far, from /proc/PID/stat. */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
/** Peak RSS (VmHWM) of a running process, MB. */
export function procPeakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}
export function procRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A TCP port free on 127.0.0.1 now. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen({ host, port: 0, exclusive: true }, () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface BenchConfigOptions {
  readonly dir: string;
  readonly pools: number;
  readonly membersPerPool: number;
  readonly port: number;
  readonly concurrency: number;
  readonly startTls?: boolean;
  readonly timeoutMs?: number;
  readonly daemon?: { listen: string; schedule: string; fall?: number; rise?: number };
  /** Addresses from this offset of the fleet (default 0). */
  readonly offset?: number;
}

/** Writes mailpool.yaml and bench.zone (every member in DNS, markers in place); returns the config path. */
export function writeBenchConfig(o: BenchConfigOptions): string {
  const zone: string[] = [
    "$TTL 300",
    "$ORIGIN bench.test.",
    "@ IN SOA ns1.bench.test. hostmaster.bench.test. ( 2026120101 3600 600 86400 300 )",
    "@ IN NS ns1",
    "ns1 IN A 127.0.0.53",
  ];
  const yaml: string[] = [
    "controllerId: bench",
    `concurrency: ${o.concurrency}`,
    // PROBE_THREADS=1|N|auto compares the probe threads; unset: the config's default (auto).
    ...(process.env.PROBE_THREADS ? [`probeThreads: ${process.env.PROBE_THREADS}`] : []),
    ...(o.daemon ? [`schedule: "${o.daemon.schedule}"`] : []),
    "defaults:",
    `  fall: ${o.daemon?.fall ?? 3}`,
    `  rise: ${o.daemon?.rise ?? 2}`,
    "  confirmIntervalMs: 500",
    "daemon:",
    `  listen: "${o.daemon?.listen ?? ""}"`,
    "  probeSpreadPercent: 0",
    "providers:",
    "  local:",
    "    type: zonefile",
    "    path: bench.zone",
    "checks:",
    "  fleet:",
    "    module: smtp",
    `    port: ${o.port}`,
    `    timeoutMs: ${o.timeoutMs ?? 10000}`,
    "    connectTimeoutMs: 5000",
    ...(o.startTls ? ["    tls: starttls", "    tlsRules:", "      verify: false"] : []),
    "pools:",
  ];
  const offset = o.offset ?? 0;
  for (let p = 0; p < o.pools; p++) {
    const label = `p${p}`;
    const addresses = Array.from({ length: o.membersPerPool }, (_, m) => fleetAddress(offset + p * o.membersPerPool + m));
    // One line per pool keeps a 100,000-member config under the 4 MiB config limit.
    yaml.push(`  - name: ${label}.bench.test`, "    provider: local", "    checks: [fleet]", `    members: [${addresses.map((a) => `{address: ${a}}`).join(", ")}]`);
    for (const address of addresses) zone.push(`${label} 300 IN A ${address}`);
    zone.push(`_mailpool.${label} 300 IN TXT "mailpool owner=bench"`);
  }
  writeFileSync(join(o.dir, "bench.zone"), `${zone.join("\n")}\n`);
  const path = join(o.dir, "mailpool.yaml");
  writeFileSync(path, `${yaml.join("\n")}\n`);
  return path;
}

/** Runs `work` over `items` with at most `limit` at once. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await work(items[i]!);
    }),
  );
  return out;
}

export const fmt = (n: number, digits = 0): string => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
