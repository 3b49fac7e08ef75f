/**
 * runDaemon in this process with every seam held by the test: a hand-driven scheduler (a tick
 * happens when the test says so), an in-memory provider, a probe table, a signal emitter, a log
 * captured as JSON lines, and the real HTTP endpoint on a loopback port.
 */
import { EventEmitter } from "node:events";
import { Writable } from "node:stream";
import type { Provider } from "../../providers/types.js";
import { MemoryProvider, type RRsetInit } from "../../providers/memory/memory-provider.js";
import { parseConfig, type Config } from "../../src/config/load.js";
import { runDaemon, type DaemonOptions } from "../../src/daemon/daemon.js";
import type { Scheduler } from "../../src/daemon/schedule.js";
import type { ProbeFn } from "../../src/health/probe-round.js";
import { createLogger } from "../../src/log.js";
import { markerValue } from "../../src/ownership.js";
import type { Observation } from "../../src/probes/types.js";

export interface ManualTicker {
  readonly expression: string;
  stopped: boolean;
  tick(): void;
}

export function manualScheduler(nextRunAt: () => number | undefined = () => undefined): { scheduler: Scheduler; tickers: ManualTicker[] } {
  const tickers: ManualTicker[] = [];
  const scheduler: Scheduler = (expression, onTick) => {
    const t: ManualTicker = {
      expression,
      stopped: false,
      tick: () => {
        if (!t.stopped) onTick();
      },
    };
    tickers.push(t);
    return { stop: () => void (t.stopped = true), nextRunAt };
  };
  return { scheduler, tickers };
}

export const okObservation = (latencyMs = 12): Observation => ({ ok: true, reason: "ok", latencyMs, phases: [{ name: "connect", ms: 2 }, { name: "greeting", ms: 10 }], warnings: [] });
export const failObservation = (reason = "connection refused"): Observation => ({ ok: false, reason, latencyMs: 3, phases: [{ name: "connect", ms: 3 }], warnings: [] });

export function poolRecords(name: string, addresses: string[], controllerId = "ci"): RRsetInit[] {
  return [
    { name, type: "A", ttl: 300, values: addresses },
    { name: `_mailpool.${name}`, type: "TXT", ttl: 300, values: [markerValue(controllerId)] },
  ];
}

export const CONFIG = (extra = "", daemon = "") => `
controllerId: ci
schedule: "*/30 * * * * *"
defaults: { rise: 1, fall: 2 }
daemon:
  listen: "127.0.0.1:0"
  shutdownGraceMs: 5000
${daemon}
providers:
  mem: { type: memory }
pools:
  - name: smtp.example.com
    provider: mem
    checks: [smtp]
    members:
      - { address: 192.0.2.10, label: mx1 }
      - { address: 192.0.2.11, label: mx2 }
      - { address: 192.0.2.12, label: mx3 }
${extra}`;

export interface Harness {
  readonly config: Config;
  readonly url: string;
  readonly tickers: ManualTicker[];
  readonly signals: EventEmitter;
  readonly provider: MemoryProvider;
  readonly down: Set<string>;
  readonly probed: string[];
  readonly log: () => { msg: string; [k: string]: unknown }[];
  readonly exitCodes: number[];
  readonly done: Promise<number>;
  /** Ticks the ticker of `expression` (default: the first) and waits for that cycle to end. */
  cycle(expression?: string): Promise<void>;
  /** Waits until `n` cycles have ended in all. */
  cycles(n: number): Promise<void>;
  get(path: string): Promise<{ status: number; text: string }>;
  stop(): Promise<number>;
}

export async function startHarness(
  configText: string,
  options: Partial<DaemonOptions> & { provider?: MemoryProvider; wrap?: (p: MemoryProvider) => Provider; probe?: ProbeFn; nextRunAt?: () => number | undefined; readFile?: (p: string) => string } = {},
): Promise<Harness> {
  const config = parseConfig(configText, { env: {}, ...(options.readFile ? { readFile: options.readFile } : {}) });
  const provider = options.provider ?? new MemoryProvider(poolRecords("smtp.example.com", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]));
  const down = new Set<string>();
  const probed: string[] = [];
  const probe: ProbeFn =
    options.probe ??
    (async (target) => {
      probed.push(target.host);
      return down.has(target.host) ? failObservation() : okObservation();
    });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  const logger = createLogger("debug", sink);
  const { scheduler, tickers } = manualScheduler(options.nextRunAt);
  const signals = new EventEmitter();
  const exitCodes: number[] = [];
  let port = 0;
  let resolveStop!: () => void;
  const stopPromise = new Promise<void>((r) => (resolveStop = r));
  let donePromise!: Promise<number>;
  const listening = new Promise<void>((resolve) => {
    donePromise = runDaemon({
      config,
      configPath: "/nonexistent.yaml",
      env: {},
      logger,
      dryRun: false,
      force: false,
      output: "json",
      version: "9.9.9-test",
      scheduler,
      signals,
      exit: (c) => exitCodes.push(c),
      stop: stopPromise,
      out: new Writable({ write: (_c, _e, cb) => cb() }),
      ...options,
      runtime: { providers: new Map([["mem", options.wrap ? options.wrap(provider) : provider]]), probe, ...options.runtime },
      onListening: (a) => {
        port = a.port;
        resolve();
      },
    });
  });
  const log = () => lines.map((l) => JSON.parse(l) as { msg: string });
  const ended = () => log().filter((l) => l.msg === "cycle done" || l.msg === "cycle failed").length;
  const waitFor = async (what: string, f: () => boolean, timeoutMs = 15_000) => {
    const end = Date.now() + timeoutMs;
    while (!f()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const h = {
    config,
    tickers,
    signals,
    provider,
    down,
    probed,
    log,
    exitCodes,
    done: donePromise,
    url: "",
    async cycle(expression?: string) {
      const before = ended();
      const t = expression ? tickers.find((x) => x.expression === expression) : tickers[0];
      if (!t) throw new Error(`no ticker for ${expression}`);
      t.tick();
      await waitFor("the cycle to end", () => ended() > before);
    },
    async cycles(n: number) {
      await waitFor(`${n} cycles`, () => ended() >= n);
    },
    async get(path: string) {
      const r = await fetch(`${h.url}${path}`);
      return { status: r.status, text: await r.text() };
    },
    async stop() {
      resolveStop();
      return h.done;
    },
  };
  await listening;
  h.url = `http://127.0.0.1:${port}`;
  return h;
}

/** The value of one sample in a Prometheus exposition, or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const lm of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[lm[1]!] = lm[2]!;
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) return Number(m[4]);
  }
  return undefined;
}
