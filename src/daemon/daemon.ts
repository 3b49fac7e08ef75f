/**
 * The daemon mode (`mailpool run`): cycles on node-cron schedules with in-memory hysteresis,
 * one HTTP endpoint (/healthz, /readyz, /status, /metrics, /probe), optional leader election
 * (only the Lease holder applies; followers probe, plan and serve), alerts on transitions,
 * SIGHUP to reload the config, SIGTERM/SIGINT to stop cleanly (a second one exits at once).
 *
 * Scheduling: pools sharing a schedule form a group; a group's tick while its previous cycle
 * is still running (or waiting) is skipped and counted. Cycles of different groups never run
 * at once (they queue), so two applies of one process never overlap either.
 */
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Provider } from "../../providers/types.js";
import { isConflict, isTransient } from "../../providers/types.js";
import { AlertDispatcher } from "../alerts/dispatcher.js";
import { makeEvent, transitions } from "../alerts/events.js";
import { ConfigError, loadConfigFile, type Config } from "../config/load.js";
import { runCycle, type CycleReport } from "../controller/cycle.js";
import { createRuntime, type Runtime, type RuntimeOptions } from "../controller/runtime.js";
import type { ProbeFn } from "../health/probe-round.js";
import { HysteresisJudge } from "../health/hysteresis.js";
import { LeaderElector } from "../leader/elector.js";
import { hasChanges, planDocument, renderText, summarize } from "../plan/render.js";
import { listen, type DaemonView } from "./http.js";
import type { IpAdapter } from "../../providers/ip/types.js";
import { Metrics, type ProviderCode } from "./metrics.js";
import { abortableSleep, nodeCronScheduler, scheduleGroups, spreadProbes, type ScheduleGroup, type Scheduler, type Ticker } from "./schedule.js";
import { buildStatus } from "./status.js";

export interface DaemonOptions {
  readonly config: Config;
  readonly configPath: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly output: "text" | "json";
  readonly version?: string;
  /** Resolves to stop the daemon (tests); SIGTERM/SIGINT also stop it. */
  readonly stop?: Promise<void>;
  /** Called once the HTTP endpoint listens, with its address (tests use port 0). */
  readonly onListening?: (address: { host: string; port: number }) => void;
  readonly out?: NodeJS.WritableStream;
  /** Seams for tests: providers, probe runner, cron, clock, randomness, exit. */
  readonly runtime?: RuntimeOptions;
  readonly scheduler?: Scheduler;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Where signals come from (default process). */
  readonly signals?: NodeJS.EventEmitter;
  /** A second SIGTERM/SIGINT calls this (default process.exit). */
  readonly exit?: (code: number) => void;
  /** Record of every apply (tests prove there were never two appliers). */
  readonly onApply?: (phase: "start" | "end", provider: string) => void;
  /** Collect prom-client's default process metrics (default true). */
  readonly defaultMetrics?: boolean;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const log = opts.logger;
  const out = opts.out ?? process.stdout;
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? abortableSleep;
  const signals = opts.signals ?? process;
  const version = opts.version ?? "0.0.0";
  let config = opts.config;
  const metrics = new Metrics({ version, defaultMetrics: opts.defaultMetrics ?? true });
  const judge = new HysteresisJudge();
  const startedAt = now();

  let stopping = false;
  /** Applies under way (provider.apply calls that have not returned). */
  let applying = 0;
  let applyIdle: (() => void) | undefined;
  let lastError: { at: number; message: string } | undefined;
  let firstCycleDone = false;

  // Leader election: off → this process always applies.
  let elector: LeaderElector | undefined;
  let identity = opts.env.POD_NAME || hostname();
  const le = config.daemon.leaderElection;
  if (le.enabled) {
    // Loaded only here: @kubernetes/client-node costs ~0.35 s and ~60 MB to import (issue 10).
    const { kubeLeaseApi, resolveKube } = await import("../leader/kube.js");
    const kube = resolveKube(le, { env: opts.env });
    identity = kube.identity;
    elector = new LeaderElector({
      api: kubeLeaseApi(kube.kubeConfig, kube.namespace, le.leaseName),
      identity: kube.identity,
      leaseDurationMs: le.leaseDurationSeconds * 1000,
      renewDeadlineMs: le.renewDeadlineSeconds * 1000,
      retryPeriodMs: le.retryPeriodSeconds * 1000,
      logger: log,
      // The daemon's injected clock in tests; otherwise the elector's monotonic default.
      ...(opts.now !== undefined && { now: opts.now }),
      random,
      onChange: (leader, why) => {
        metrics.leader.set(leader ? 1 : 0);
        if (!leader) alerts.emit(makeEvent({ kind: "leadership_lost", summary: `${identity} is no longer the leader: ${why}` }, eventContext()));
      },
    });
    log.info({ lease: `${kube.namespace}/${le.leaseName}`, identity: kube.identity, api: kube.source }, "leader election on");
  }
  const isLeader = () => elector?.isLeader() ?? true;
  metrics.leader.set(isLeader() ? 1 : 0);

  const eventContext = () => ({ now: now(), controllerId: config.controllerId, instance: identity });
  const makeAlerts = (c: Config) =>
    new AlertDispatcher(c.alerts, {
      logger: log,
      env: opts.env,
      now,
      random,
      userAgent: `mailpool/${version}`,
      onOutcome: (e, outcome) => metrics.alerts.inc({ kind: e.kind, outcome }),
    });
  let alerts = makeAlerts(config);

  const callCode = (err: unknown): ProviderCode =>
    (err as Error)?.name === "AbortError" || (err as Error)?.name === "TimeoutError" ? "aborted" : isConflict(err) ? "conflict" : isTransient(err) ? "transient" : "error";
  const wrapProvider = (name: string, p: Provider): Provider => {
    const counted = async <T>(operation: string, f: () => Promise<T>): Promise<T> => {
      try {
        const r = await f();
        metrics.providerCall(name, operation, "ok");
        return r;
      } catch (err) {
        metrics.providerCall(name, operation, callCode(err));
        throw err;
      }
    };
    return {
      kind: p.kind,
      read: (keys, signal) => counted("read", () => p.read(keys, signal)),
      apply: (changes, signal) => {
        // Checked synchronously, just before the write: the term or the daemon may have ended.
        if (stopping) return Promise.reject(abortError("daemon stopping: no new apply"));
        if (!isLeader()) return Promise.reject(abortError("not the leader: no apply"));
        applying++;
        opts.onApply?.("start", name);
        return counted("apply", () => p.apply(changes, signal)).finally(() => {
          opts.onApply?.("end", name);
          applying--;
          if (applying === 0) applyIdle?.();
        });
      },
      ...(p.finishPending ? { finishPending: (signal: AbortSignal) => counted("finishPending", () => p.finishPending!(signal)) } : {}),
      ...(p.close ? { close: () => p.close!() } : {}),
    };
  };
  /** IP moves, like applies, are checked against leadership and shutdown just before each one. */
  const gatedIpAdapter = async (name: string): Promise<IpAdapter> => {
    const a = await runtime.ipAdapter(name);
    return {
      kind: a.kind,
      read: (targets, signal) => a.read(targets, signal),
      move: (move, signal) => {
        if (stopping) return Promise.reject(abortError("daemon stopping: no new IP move"));
        if (!isLeader()) return Promise.reject(abortError("not the leader: no IP move"));
        return a.move(move, signal);
      },
    };
  };
  const makeRuntime = (c: Config) => createRuntime(c, log, { env: opts.env, now: () => new Date(now()), ...opts.runtime, wrapProvider });
  let runtime: Runtime = makeRuntime(config);

  // Probes of cycles are counted; /probe requests use the runner as it is (same bound).
  const countedProbe = (probe: ProbeFn): ProbeFn => async (target, check, signal) => {
    const o = await probe(target, check, signal);
    if (!signal.aborted) metrics.observeProbe(check.name, o);
    return o;
  };

  interface GroupState extends ScheduleGroup {
    ticker?: Ticker;
    busy: boolean;
    lastTickAt?: number;
    /** When the tick after the last one (or after the start) was due, as seen at that moment. */
    dueAt?: number;
    lastReport?: CycleReport;
    lastFinishedAt?: number;
    skipped: number;
  }
  let groups: GroupState[] = [];
  let current: { ac: AbortController; done: Promise<void> } | undefined;
  /** Cycles of different groups run one after another. */
  let chain: Promise<void> = Promise.resolve();
  const scheduler = opts.scheduler ?? nodeCronScheduler(log);

  const runGroup = async (g: GroupState, spread = true): Promise<void> => {
    const ac = new AbortController();
    const started = now();
    const leader = isLeader();
    const dryRun = opts.dryRun || !leader;
    const parts = [ac.signal, AbortSignal.timeout(config.daemon.cycleTimeoutMs)];
    if (!dryRun && elector) parts.push(elector.leadership);
    const signal = AbortSignal.any(parts);
    const next = spread ? g.ticker?.nextRunAt() : undefined;
    const windowMs = next === undefined ? 0 : Math.max(0, next - started) * (config.daemon.probeSpreadPercent / 100);
    const done = (async () => {
      try {
        const deps = { ...runtime, probe: spreadProbes(countedProbe(runtime.probe), windowMs, random, sleep), ipAdapter: gatedIpAdapter };
        const report = await runCycle(deps, { dryRun, force: opts.force, judge, pools: g.pools.map((p) => p.name), signal });
        const finished = now();
        metrics.record(g.schedule, report, finished, finished - started);
        firstCycleDone = true;
        const failed = report.results.filter((r) => r.error);
        if (failed.length > 0) lastError = { at: finished, message: failed.map((r) => `${r.provider}: ${r.error!.message}`).join("; ") };
        // Transition alerts come from the replica that acts: the leader (or the only process).
        const events = transitions(g.lastReport, report, eventContext());
        if (leader) for (const e of events) alerts.emit(e);
        g.lastReport = report;
        g.lastFinishedAt = finished;
        logReport(log, report);
        const s = summarize(report);
        log.info({ ...s, ms: finished - started, schedule: g.schedule, leader, dryRun }, "cycle done");
        if (opts.dryRun && (hasChanges(report) || s.held > 0)) {
          // JSON: one compact object per line per cycle, so jq and log shippers can follow it.
          out.write(opts.output === "json" ? JSON.stringify(planDocument(report, { controllerId: config.controllerId, mode: "run" })) + "\n" : renderText(report, { color: false, changedOnly: true }));
        }
      } catch (err) {
        const finished = now();
        metrics.recordFailure(finished, finished - started);
        const message = signal.aborted ? `cycle aborted: ${(signal.reason as Error)?.message ?? String(signal.reason)}` : (err as Error).message;
        lastError = { at: finished, message };
        if (!stopping) log.error({ err: message, schedule: g.schedule }, "cycle failed");
      }
    })();
    current = { ac, done };
    await done;
    current = undefined;
  };

  const onTick = (g: GroupState) => {
    g.lastTickAt = now();
    g.dueAt = g.ticker?.nextRunAt();
    if (stopping) return;
    if (g.busy) {
      g.skipped++;
      metrics.skippedTicks.inc({ schedule: g.schedule });
      log.warn({ schedule: g.schedule }, "tick skipped: the previous cycle of this schedule is still running");
      return;
    }
    g.busy = true;
    chain = chain.then(async () => {
      try {
        if (!stopping && groups.includes(g)) await runGroup(g);
      } finally {
        g.busy = false;
      }
    });
  };

  const startGroups = (c: Config) => {
    const previous = new Map(groups.map((g) => [g.schedule, g]));
    groups = scheduleGroups(c.pools, c.schedule).map((sg) => ({ ...sg, busy: false, skipped: previous.get(sg.schedule)?.skipped ?? 0, ...(previous.get(sg.schedule)?.lastReport ? { lastReport: previous.get(sg.schedule)!.lastReport! } : {}) }));
    for (const g of groups) {
      g.ticker = scheduler(g.schedule, () => onTick(g));
      g.lastTickAt ??= now();
      g.dueAt = g.ticker.nextRunAt();
    }
    metrics.retainGroups(groups.map((g) => g.schedule));
  };
  const stopGroups = async () => {
    await Promise.all(groups.map((g) => g.ticker?.stop()));
  };

  const view: DaemonView = {
    config: () => config,
    metrics,
    probe: () => runtime.probe,
    healthy: () => {
      if (stopping) return { ok: true, why: "stopping" };
      const t = now();
      for (const g of groups) {
        // The scheduler is stuck when the tick due next is late by more than one interval + 60 s.
        if (g.dueAt === undefined || g.lastTickAt === undefined) continue;
        const interval = Math.max(0, g.dueAt - g.lastTickAt);
        if (t > g.dueAt + interval + 60_000) return { ok: false, why: `schedule ${g.schedule}: no tick since ${new Date(g.lastTickAt).toISOString()} (one was due at ${new Date(g.dueAt).toISOString()})` };
      }
      return { ok: true, why: "ok" };
    },
    ready: () => firstCycleDone,
    status: () =>
      buildStatus({
        config,
        version,
        identity,
        startedAt,
        now: now(),
        dryRun: opts.dryRun,
        leader: isLeader(),
        ...(elector ? { elector } : {}),
        ...(lastError ? { lastError } : {}),
        groups: groups.map((g) => ({
          schedule: g.schedule,
          pools: g.pools.map((p) => p.name),
          skippedTicks: g.skipped,
          running: g.busy,
          ...(g.lastTickAt !== undefined ? { lastTickAt: g.lastTickAt } : {}),
          ...(g.ticker?.nextRunAt() !== undefined ? { nextRunAt: g.ticker.nextRunAt()! } : {}),
          ...(g.lastReport ? { lastReport: g.lastReport } : {}),
          ...(g.lastFinishedAt !== undefined ? { lastFinishedAt: g.lastFinishedAt } : {}),
        })),
      }),
  };

  const server = config.daemon.listen === "" ? undefined : await listen(config.daemon.listen, view, log, opts.onListening);
  elector?.start();
  startGroups(config);

  const reload = async () => {
    try {
      const next = loadConfigFile(opts.configPath, { env: opts.env });
      const old = runtime;
      const oldAlerts = alerts;
      config = next;
      runtime = makeRuntime(config);
      alerts = makeAlerts(config);
      judge.retain(config.pools);
      await stopGroups();
      startGroups(config);
      await current?.done;
      await old.close();
      void oldAlerts.close(5000);
      if (next.daemon.listen !== opts.config.daemon.listen || JSON.stringify(next.daemon.leaderElection) !== JSON.stringify(opts.config.daemon.leaderElection)) {
        log.warn({}, "daemon.listen and daemon.leaderElection take effect on restart only");
      }
      log.info({ pools: config.pools.length }, "config reloaded");
    } catch (err) {
      log.error({ err: err instanceof ConfigError ? err.problems : (err as Error).message }, "config reload failed; keeping the running config");
    }
  };

  let resolveStop!: () => void;
  const stopped = new Promise<void>((r) => (resolveStop = r));
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal: sig }, "second signal: exiting at once");
      (opts.exit ?? process.exit)(128 + (SIGNAL_NUMBERS[sig] ?? 15));
      return;
    }
    signalled = true;
    log.info({ signal: sig }, "stopping");
    resolveStop();
  };
  const onHup = () => void reload();
  signals.on("SIGTERM", onSignal).on("SIGINT", onSignal).on("SIGHUP", onHup);
  void opts.stop?.then(resolveStop);

  log.info({ schedule: config.schedule, groups: groups.length, pools: config.pools.length, dryRun: opts.dryRun, listen: config.daemon.listen }, "mailpool daemon started");
  // The first cycle starts at once, without spreading, so readiness comes quickly.
  const first = groups.map((g) => {
    g.busy = true;
    return g;
  });
  chain = chain.then(async () => {
    for (const g of first) {
      try {
        if (!stopping && groups.includes(g)) await runGroup(g, false);
      } finally {
        g.busy = false;
      }
    }
  });
  await stopped;

  // Stop: no new ticks; an apply under way may finish within shutdownGraceMs; the rest is aborted.
  stopping = true;
  await stopGroups();
  if (current) {
    if (applying > 0) {
      log.info({ graceMs: config.daemon.shutdownGraceMs }, "waiting for the apply under way");
      await Promise.race([new Promise<void>((r) => (applyIdle = r)), new Promise<void>((r) => setTimeout(r, config.daemon.shutdownGraceMs).unref())]);
    }
    current?.ac.abort(new Error("daemon stopping"));
    await current?.done;
  }
  await chain;
  await elector?.stop();
  signals.off("SIGTERM", onSignal).off("SIGINT", onSignal).off("SIGHUP", onHup);
  await alerts.close(Math.min(5000, config.daemon.shutdownGraceMs));
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server?.closeAllConnections();
  await runtime.close();
  log.info({}, "mailpool daemon stopped");
  return 0;
}

function abortError(message: string): Error {
  const e = new Error(message);
  e.name = "AbortError";
  return e;
}

/** What changed, what was held and why, as log lines an operator can grep. */
function logReport(log: Logger, report: CycleReport): void {
  for (const r of report.results) {
    const written = !report.dryRun && r.applied !== null;
    for (const p of r.plans) {
      for (const a of p.actions) {
        log.info({ pool: p.pool, provider: r.provider, kind: a.kind, type: a.type, address: a.address, standby: a.standby, reason: a.reason }, written ? "dns changed" : "dns change planned");
      }
      for (const h of p.held) log.warn({ pool: p.pool, rule: h.rule, kind: h.action.kind, address: h.action.address, why: h.why }, "change held by safety rule");
      for (const alarm of p.alarms) log.warn({ pool: p.pool, alarm }, "pool alarm");
    }
  }
}
