/**
 * A probe worker thread (threads.ts starts it): runs the probes the main thread admitted, with
 * the same probers and the main thread's bound (so none here), and posts each observation back.
 * The cycle's signal lives here as an AbortController per signal id, kept while it has probes.
 */
import { parentPort } from "node:worker_threads";
import { createProbeRunner } from "./index.js";
import type { FromWorker, ToWorker } from "./threads.js";
import type { CheckSpec, Observation } from "./types.js";

const port = parentPort;
if (port === null) throw new Error("probe-worker.js runs as a worker thread (src/probes/threads.ts starts it)");

// The main thread holds the bound; here every admitted probe starts at once.
const run = createProbeRunner({ concurrency: Number.MAX_SAFE_INTEGER });
const checks = new Map<number, CheckSpec>();
const signals = new Map<number, { readonly controller: AbortController; pending: number }>();
let out: (number | Observation | string | null)[] = [];
let flushQueued = false;

const flush = () => {
  flushQueued = false;
  const items = out;
  out = [];
  port.postMessage({ t: "done", items } satisfies FromWorker);
};

const finish = (id: number, sid: number, o: Observation | null, error?: string) => {
  out.push(id, o, error ?? null);
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
  const s = signals.get(sid);
  if (s !== undefined && --s.pending === 0) signals.delete(sid);
};

port.on("message", (m: ToWorker) => {
  if (m.t === "abort") {
    signals.get(m.sid)?.controller.abort(new Error(m.reason));
    return;
  }
  for (const [id, spec] of m.checks) checks.set(id, spec);
  const items = m.items;
  for (let i = 0; i < items.length; i += 6) {
    const id = items[i] as number;
    const check = checks.get(items[i + 1] as number);
    const sid = items[i + 2] as number;
    let s = signals.get(sid);
    if (s === undefined) signals.set(sid, (s = { controller: new AbortController(), pending: 0 }));
    s.pending++;
    if (check === undefined) {
      finish(id, sid, null, `internal error: probe worker has no check ${String(items[i + 1])}`);
      continue;
    }
    const serverName = items[i + 5] as string;
    const target = { host: items[i + 3] as string, port: items[i + 4] as number, ...(serverName !== "" ? { serverName } : {}) };
    run(target, check, s.controller.signal).then(
      (o) => finish(id, sid, o),
      (e: unknown) => finish(id, sid, null, e instanceof Error ? e.message : String(e)),
    );
  }
});
