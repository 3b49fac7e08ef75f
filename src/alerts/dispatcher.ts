/**
 * Sends alert events to a webhook (JSON POST, optional HMAC-SHA256 signature) and/or a command
 * (argv, no shell, the event in MAILPOOL_ALERT_* environment variables), from a bounded queue
 * worked in the background: emit() never waits, so a slow or failing receiver cannot delay a
 * cycle. Repeats of one event within the dedupe window are dropped, and at most maxPerHour
 * events are sent per hour; everything dropped is counted by outcome.
 */
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createHmac } from "node:crypto";
import type { MinimalLogger } from "../../providers/types.js";
import { dedupeKey, type AlertEvent } from "./events.js";

export interface AlertsConfig {
  readonly webhook?: { readonly url: string; readonly timeoutMs: number; readonly retries: number; readonly secret?: string; readonly minIntervalMs: number };
  readonly command?: readonly string[];
  readonly commandTimeoutMs: number;
  readonly dedupeWindowMs: number;
  readonly maxPerHour: number;
  readonly queueSize: number;
}

export type AlertOutcome = "sent" | "failed" | "deduplicated" | "rate_limited" | "queue_full";

export interface DispatcherDeps {
  readonly logger: MinimalLogger;
  readonly fetch?: typeof fetch;
  readonly spawn?: (cmd: string, args: readonly string[], options: SpawnOptions) => ChildProcess;
  /** Environment the command inherits (PATH, …); the MAILPOOL_ALERT_* variables are added. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly onOutcome?: (event: AlertEvent, outcome: AlertOutcome) => void;
  readonly userAgent?: string;
}

export const SIGNATURE_HEADER = "x-mailpool-signature-256";
const HOUR_MS = 3_600_000;
const STDERR_BYTES = 2048;

export const signBody = (secret: string, body: string): string => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/** The URL without its path, query and credentials: what may be logged. */
const safeUrl = (u: string): string => {
  try {
    const url = new URL(u);
    return `${url.protocol}//${url.host}/…`;
  } catch {
    return "(webhook)";
  }
};

export class AlertDispatcher {
  readonly #c: AlertsConfig;
  readonly #d: DispatcherDeps;
  readonly #now: () => number;
  readonly #queue: AlertEvent[] = [];
  readonly #lastSent = new Map<string, number>();
  readonly #sentTimes: number[] = [];
  readonly #stop = new AbortController();
  #worker?: Promise<void>;
  #lastPostAt = -Infinity;
  #wake?: () => void;

  constructor(config: AlertsConfig, deps: DispatcherDeps) {
    this.#c = config;
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.#c.webhook !== undefined || this.#c.command !== undefined;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Queues an event unless it repeats one within the window or the hour's budget is spent. Never waits. */
  emit(event: AlertEvent): AlertOutcome | "queued" {
    if (!this.enabled || this.#stop.signal.aborted) return "queued";
    const now = this.#now();
    const key = dedupeKey(event);
    const last = this.#lastSent.get(key);
    if (last !== undefined && now - last < this.#c.dedupeWindowMs) return this.#outcome(event, "deduplicated");
    while (this.#sentTimes.length > 0 && now - this.#sentTimes[0]! >= HOUR_MS) this.#sentTimes.shift();
    if (this.#sentTimes.length >= this.#c.maxPerHour) return this.#outcome(event, "rate_limited");
    if (this.#queue.length >= this.#c.queueSize) return this.#outcome(event, "queue_full");
    this.#lastSent.set(key, now);
    this.#sentTimes.push(now);
    for (const [k, t] of this.#lastSent) if (now - t >= this.#c.dedupeWindowMs) this.#lastSent.delete(k);
    this.#queue.push(event);
    this.#worker ??= this.#work();
    this.#wake?.();
    return "queued";
  }

  /** Stops taking events; waits up to `graceMs` for the queue to drain, then abandons the rest. */
  async close(graceMs: number): Promise<void> {
    const drained = (async () => {
      while (this.#queue.length > 0 || this.#busy) await new Promise((r) => setTimeout(r, 20));
    })();
    let t: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise<void>((r) => (t = setTimeout(r, graceMs)))]);
    clearTimeout(t);
    this.#stop.abort(new Error("alerts closing"));
    this.#wake?.();
    await this.#worker;
  }

  #busy = false;

  #outcome(event: AlertEvent, outcome: AlertOutcome): AlertOutcome {
    this.#d.onOutcome?.(event, outcome);
    if (outcome !== "sent" && outcome !== "deduplicated") this.#d.logger.warn({ kind: event.kind, outcome }, "alert not sent");
    return outcome;
  }

  async #work(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      const event = this.#queue.shift();
      if (!event) {
        await new Promise<void>((r) => (this.#wake = r));
        this.#wake = undefined;
        continue;
      }
      this.#busy = true;
      try {
        const results = await Promise.all([
          this.#c.webhook ? this.#post(event, stop) : Promise.resolve(true),
          this.#c.command ? this.#run(event, stop) : Promise.resolve(true),
        ]);
        this.#outcome(event, results.every(Boolean) ? "sent" : "failed");
      } finally {
        this.#busy = false;
      }
    }
  }

  async #sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#d.sleep) return this.#d.sleep(ms, signal);
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }

  async #post(event: AlertEvent, stop: AbortSignal): Promise<boolean> {
    const w = this.#c.webhook!;
    const body = JSON.stringify(event);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": this.#d.userAgent ?? "mailpool",
      "x-mailpool-event": event.kind,
    };
    if (w.secret !== undefined) headers[SIGNATURE_HEADER] = signBody(w.secret, body);
    const doFetch = this.#d.fetch ?? fetch;
    const random = this.#d.random ?? Math.random;
    let why = "";
    for (let attempt = 0; attempt <= w.retries && !stop.aborted; attempt++) {
      if (attempt > 0) await this.#sleep(Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.5 + random()), stop);
      const wait = this.#lastPostAt + w.minIntervalMs - this.#now();
      if (wait > 0) await this.#sleep(wait, stop);
      if (stop.aborted) break;
      this.#lastPostAt = this.#now();
      try {
        const res = await doFetch(w.url, { method: "POST", headers, body, signal: AbortSignal.any([stop, AbortSignal.timeout(w.timeoutMs)]), redirect: "error" });
        await res.body?.cancel().catch(() => {});
        if (res.ok) return true;
        why = `HTTP ${res.status}`;
        if (res.status !== 429 && res.status < 500) break; // the receiver refuses it: retrying will not help
      } catch (err) {
        why = (err as Error).name === "TimeoutError" ? `no answer within ${w.timeoutMs} ms` : ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
      }
    }
    this.#d.logger.warn({ kind: event.kind, receiver: safeUrl(w.url), err: why }, "alert webhook failed");
    return false;
  }

  #run(event: AlertEvent, stop: AbortSignal): Promise<boolean> {
    const [cmd, ...args] = this.#c.command!;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.#d.env ?? {})) if (v !== undefined) env[k] = v;
    Object.assign(env, alertEnv(event));
    const spawn = this.#d.spawn ?? nodeSpawn;
    return new Promise((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(cmd!, args, { shell: false, env, stdio: ["ignore", "ignore", "pipe"], signal: AbortSignal.any([stop, AbortSignal.timeout(this.#c.commandTimeoutMs)]), killSignal: "SIGKILL" });
      } catch (err) {
        this.#d.logger.warn({ kind: event.kind, command: cmd, err: (err as Error).message }, "alert command failed");
        return resolve(false);
      }
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => {
        if (stderr.length < STDERR_BYTES) stderr += d.toString("utf8").slice(0, STDERR_BYTES - stderr.length);
      });
      let settled = false;
      const finish = (ok: boolean, err?: string) => {
        if (settled) return;
        settled = true;
        if (!ok) this.#d.logger.warn({ kind: event.kind, command: cmd, err, stderr: stderr.trim() || undefined }, "alert command failed");
        resolve(ok);
      };
      child.on("error", (err) => finish(false, err.name === "AbortError" ? `killed after ${this.#c.commandTimeoutMs} ms` : err.message));
      child.on("close", (code, signal) => finish(code === 0, signal ? `killed by ${signal}` : `exit ${code}`));
    });
  }
}

/** The event as environment variables for the alert command. */
export function alertEnv(e: AlertEvent): Record<string, string> {
  return {
    MAILPOOL_ALERT_KIND: e.kind,
    MAILPOOL_ALERT_SEVERITY: e.severity,
    MAILPOOL_ALERT_SUMMARY: e.summary,
    MAILPOOL_ALERT_POOL: e.pool ?? "",
    MAILPOOL_ALERT_ADDRESS: e.address ?? "",
    MAILPOOL_ALERT_PROVIDER: e.provider ?? "",
    MAILPOOL_ALERT_RULE: e.rule ?? "",
    MAILPOOL_ALERT_TIME: e.time,
    MAILPOOL_ALERT_CONTROLLER_ID: e.controllerId,
    MAILPOOL_ALERT_INSTANCE: e.instance,
    MAILPOOL_ALERT_JSON: JSON.stringify(e),
  };
}
