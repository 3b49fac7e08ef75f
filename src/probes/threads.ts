/**
 * Probes on worker threads. One event loop saturates near 3,000–4,000 plain probes a second, and
 * every probe's sockets, buffers and closures become garbage in the heap that also holds the
 * config and the plan, where every mark-compact walks them. With `probeThreads: N` > 1 the probes
 * run on the main thread and N − 1 workers (probe-worker.ts), each with a small heap of its own.
 *
 * The bound and the queue stay on the main thread (createProbeRunner with `execute`), so
 * `concurrency` is global and an abort settles the waiters here as before; an admitted probe is
 * handed to the main thread or the worker with the fewest in flight. Messages go in batches: what one task admits
 * is posted once, at the end of that task; a worker posts what completed in one turn of its loop.
 * A check is posted to a worker once, before its first probe, and named by number after that.
 * The cycle's signal is mirrored by number: its abort is posted to every worker after the batch
 * that may still hold its probes, so a probe is never started after its cycle aborted.
 *
 * A worker that dies (an uncaught error, terminated) fails the probes it held with an Error, as
 * a prober's own bug does in process: the round rejects and the cycle changes nothing. The next
 * probe starts a new worker. Idle workers are unref'd, so they never keep the process alive.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { createProbeRunner, type ProbeRunner } from "./index.js";
import type { CheckSpec, Observation, ProbeTarget } from "./types.js";

/** The worker's script, beside this module (dist/src/probes/ once built). */
export const PROBE_WORKER_SCRIPT = new URL("./probe-worker.js", import.meta.url);

/** Whether the worker script is there: it is once built, not when running from the TypeScript sources. */
export const probeWorkersAvailable = (): boolean => existsSync(fileURLToPath(PROBE_WORKER_SCRIPT));

/** Main thread → worker. */
export type ToWorker =
  | {
      readonly t: "run";
      /** Checks the worker has not seen yet, as [id, spec] pairs. */
      readonly checks: readonly (readonly [number, CheckSpec])[];
      /** Flat: id, check id, signal id, host, port, serverName ("" when none), … */
      readonly items: readonly (string | number)[];
    }
  | { readonly t: "abort"; readonly sid: number; readonly reason: string };

/** Worker → main thread: flat id, observation (or null and an error message), … */
export interface FromWorker {
  readonly t: "done";
  readonly items: readonly (number | Observation | string | null)[];
}

export interface ThreadedProbeRunner extends ProbeRunner {
  /** Stops every worker; probes still in flight reject. */
  close(): Promise<void>;
}

export interface ThreadedRunnerOptions {
  /** Most probes in flight at once, across all workers. */
  readonly concurrency: number;
  /** Workers to probe on (≥ 1). */
  readonly threads: number;
  /** The worker's script; tests point it at the built one. */
  readonly script?: URL;
  /**
   * Whether the main thread is one of the `threads` and probes too (default), so N threads cost
   * N − 1 workers; false: every probe on `threads` workers (tests).
   */
  readonly mainThread?: boolean;
}

/**
 * The parent's node flags, which a worker inherits by default, but for those that only mean
 * something to the main script (`--input-type` without `-e` stops a worker at start).
 */
const WORKER_EXEC_ARGV = () => process.execArgv.filter((a) => !a.startsWith("--input-type"));

interface Pending {
  readonly resolve: (o: Observation) => void;
  readonly reject: (e: Error) => void;
}

class ProbeWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  readonly checks = new Set<number>();
  newChecks: [number, CheckSpec][] = [];
  outbox: (string | number)[] = [];
  flushQueued = false;
  dead = false;

  constructor(script: URL, onGone: (w: ProbeWorker, error: Error) => void) {
    this.worker = new Worker(script, { execArgv: WORKER_EXEC_ARGV(), stdout: false, stderr: false });
    this.worker.unref();
    this.worker.on("message", (m: FromWorker) => this.#done(m));
    this.worker.on("error", (e) => onGone(this, new Error(`probe worker failed: ${e.message}`)));
    this.worker.on("messageerror", (e) => onGone(this, new Error(`probe worker sent an unreadable message: ${e.message}`)));
    this.worker.on("exit", (code) => onGone(this, new Error(`probe worker exited (code ${code}) with probes in flight`)));
  }

  send(id: number, checkId: number, check: CheckSpec, sid: number, target: ProbeTarget, p: Pending): void {
    if (this.pending.size === 0) this.worker.ref();
    this.pending.set(id, p);
    if (!this.checks.has(checkId)) {
      this.checks.add(checkId);
      this.newChecks.push([checkId, check]);
    }
    this.outbox.push(id, checkId, sid, target.host, target.port, target.serverName ?? "");
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  flush(): void {
    this.flushQueued = false;
    if (this.outbox.length === 0 || this.dead) return;
    const msg: ToWorker = { t: "run", checks: this.newChecks, items: this.outbox };
    this.newChecks = [];
    this.outbox = [];
    this.worker.postMessage(msg);
  }

  #done(m: FromWorker): void {
    const items = m.items;
    for (let i = 0; i < items.length; i += 3) {
      const id = items[i] as number;
      const p = this.pending.get(id);
      if (p === undefined) continue;
      this.pending.delete(id);
      const o = items[i + 1] as Observation | null;
      if (o !== null) p.resolve(o);
      else p.reject(new Error(items[i + 2] as string));
    }
    if (this.pending.size === 0) this.worker.unref();
  }
}

/** A probe runner whose probes run on `threads` worker threads; same contract as createProbeRunner. */
export function createThreadedProbeRunner(options: ThreadedRunnerOptions): ThreadedProbeRunner {
  const { threads, script = PROBE_WORKER_SCRIPT, mainThread = true } = options;
  const maxWorkers = mainThread ? threads - 1 : threads;
  if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`Expected threads to be a positive integer, got ${threads}`);
  const workers: ProbeWorker[] = [];
  const checkIds = new WeakMap<CheckSpec, number>();
  const signalIds = new WeakMap<AbortSignal, number>();
  let nextCheck = 0;
  let nextSignal = 0;
  let nextProbe = 0;
  let closed = false;

  const gone = (w: ProbeWorker, error: Error) => {
    if (w.dead) return;
    w.dead = true;
    const i = workers.indexOf(w);
    if (i >= 0) workers.splice(i, 1);
    const pending = [...w.pending.values()];
    w.pending.clear();
    for (const p of pending) p.reject(error);
    void w.worker.terminate();
  };

  const pick = (): ProbeWorker => {
    let best: ProbeWorker | undefined;
    for (const w of workers) if (best === undefined || w.pending.size < best.pending.size) best = w;
    if (best === undefined || (best.pending.size > 0 && workers.length < maxWorkers)) {
      best = new ProbeWorker(script, gone);
      workers.push(best);
    }
    return best;
  };

  const signalId = (signal: AbortSignal): number => {
    let sid = signalIds.get(signal);
    if (sid === undefined) {
      const id = nextSignal++;
      sid = id;
      signalIds.set(signal, id);
      signal.addEventListener(
        "abort",
        () => {
          const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
          for (const w of workers) {
            if (w.dead) continue;
            w.flush(); // the probes of this signal still in the outbox go first
            w.worker.postMessage({ t: "abort", sid: id, reason } satisfies ToWorker);
          }
        },
        { once: true },
      );
    }
    return sid;
  };

  // With mainThread the main thread probes too, taking its turn with the least loaded worker.
  const local = createProbeRunner({ concurrency: Number.MAX_SAFE_INTEGER });
  let localInFlight = 0;
  const localDone = () => void localInFlight--;
  const execute: ProbeRunner = (target, check, signal) => {
    if (closed) return Promise.reject(new Error("the probe runner is closed"));
    const least = workers.reduce((n, w) => Math.min(n, w.pending.size), Infinity);
    if (maxWorkers === 0 || (mainThread && localInFlight <= least && (workers.length > 0 || localInFlight === 0))) {
      localInFlight++;
      const o = local(target, check, signal);
      o.then(localDone, localDone);
      return o;
    }
    return new Promise<Observation>((resolve, reject) => {
      let checkId = checkIds.get(check);
      if (checkId === undefined) checkIds.set(check, (checkId = nextCheck++));
      pick().send(nextProbe++, checkId, check, signalId(signal), target, { resolve, reject });
    });
  };

  const run = createProbeRunner({ concurrency: options.concurrency, execute }) as ThreadedProbeRunner;
  run.close = async () => {
    closed = true;
    const all = workers.splice(0);
    for (const w of all) {
      w.dead = true;
      for (const p of w.pending.values()) p.reject(new Error("the probe runner was closed with probes in flight"));
      w.pending.clear();
    }
    await Promise.all(all.map((w) => w.worker.terminate()));
  };
  return run;
}
