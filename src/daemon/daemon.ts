/**
 * The daemon (sidecar) mode: a node-cron schedule of cycles with in-memory rise/fall hysteresis,
 * /healthz, /readyz and /metrics, SIGHUP to reload the config, SIGTERM/SIGINT to stop cleanly.
 */
import { createServer, type Server } from "node:http";
import { schedule, type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import { ConfigError, loadConfigFile, type Config } from "../config/load.js";
import { runCycle, type CycleReport } from "../controller/cycle.js";
import { createRuntime, type Runtime } from "../controller/runtime.js";
import { HysteresisJudge } from "../health/hysteresis.js";
import { hasChanges, renderJson, renderText, summarize } from "../plan/render.js";
import { Metrics } from "./metrics.js";

export interface DaemonOptions {
  readonly config: Config;
  readonly configPath: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly output: "text" | "json";
  /** Resolves to stop the daemon (tests); SIGTERM/SIGINT also stop it. */
  readonly stop?: Promise<void>;
  /** Called once the HTTP endpoint listens, with its address (tests use port 0). */
  readonly onListening?: (address: { host: string; port: number }) => void;
  readonly out?: NodeJS.WritableStream;
}

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const log = opts.logger;
  const out = opts.out ?? process.stdout;
  let config = opts.config;
  let runtime: Runtime = createRuntime(config, log, { env: opts.env });
  const judge = new HysteresisJudge();
  const metrics = new Metrics();
  let current: { ac: AbortController; done: Promise<void> } | undefined;
  let stopping = false;

  const tick = async () => {
    if (stopping || current) return;
    const ac = new AbortController();
    const started = Date.now();
    const done = (async () => {
      try {
        const signal = AbortSignal.any([ac.signal, AbortSignal.timeout(config.daemon.cycleTimeoutMs)]);
        const report = await runCycle(runtime, { dryRun: opts.dryRun, force: opts.force, judge, signal });
        metrics.record(report, Date.now(), Date.now() - started);
        logReport(log, report);
        const s = summarize(report);
        log.info({ ...s, ms: Date.now() - started }, "cycle done");
        if (opts.dryRun && (hasChanges(report) || s.held > 0)) {
          out.write(opts.output === "json" ? renderJson(report, { controllerId: config.controllerId, mode: "run" }) : renderText(report, { color: false, changedOnly: true }));
        }
      } catch (err) {
        metrics.recordFailure();
        if (!stopping) log.error({ err: (err as Error).message }, "cycle failed");
      }
    })();
    current = { ac, done };
    await done;
    current = undefined;
  };

  const server = config.daemon.listen === "" ? undefined : await listen(config.daemon.listen, metrics, log, opts.onListening);
  let task: ScheduledTask = schedule(config.schedule, tick, { noOverlap: true, name: "mailpool-cycle" });

  const reload = async () => {
    try {
      const next = loadConfigFile(opts.configPath, { env: opts.env });
      const old = runtime;
      config = next;
      runtime = createRuntime(config, log, { env: opts.env });
      judge.retain(config.pools);
      await task.destroy();
      task = schedule(config.schedule, tick, { noOverlap: true, name: "mailpool-cycle" });
      await current?.done;
      await old.close();
      log.info({ pools: config.pools.length }, "config reloaded");
    } catch (err) {
      log.error({ err: err instanceof ConfigError ? err.problems : (err as Error).message }, "config reload failed; keeping the running config");
    }
  };

  let resolveStop!: () => void;
  const stopped = new Promise<void>((r) => (resolveStop = r));
  const onSignal = () => resolveStop();
  const onHup = () => void reload();
  process.on("SIGTERM", onSignal).on("SIGINT", onSignal).on("SIGHUP", onHup);
  void opts.stop?.then(resolveStop);

  log.info({ schedule: config.schedule, pools: config.pools.length, dryRun: opts.dryRun, listen: config.daemon.listen }, "mailpool daemon started");
  void tick();
  await stopped;

  stopping = true;
  process.off("SIGTERM", onSignal).off("SIGINT", onSignal).off("SIGHUP", onHup);
  await task.destroy();
  current?.ac.abort(new Error("daemon stopping"));
  await current?.done;
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server?.closeAllConnections();
  await runtime.close();
  log.info({}, "mailpool daemon stopped");
  return 0;


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

function listen(
  address: string,
  metrics: Metrics,
  log: Logger,
  onListening?: (a: { host: string; port: number }) => void,
): Promise<Server> {
  const i = address.lastIndexOf(":");
  const host = address.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(i + 1));
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const last = metrics.last;
      const failed = last?.report.results.filter((r) => r.error).map((r) => `${r.provider}: ${r.error!.message}`) ?? [];
      if (!last) res.writeHead(503, { "content-type": "text/plain" }).end("no cycle completed yet\n");
      else if (failed.length) res.writeHead(503, { "content-type": "text/plain" }).end(`last cycle failed: ${failed.join("; ")}\n`);
      else res.writeHead(200, { "content-type": "text/plain" }).end("ready\n");
    } else if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.render());
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const a = server.address();
      const bound = typeof a === "object" && a ? { host, port: a.port } : { host, port };
      log.info(bound, "health and metrics endpoint listening");
      onListening?.(bound);
      resolve(server);
    });
  });
}
