import { abortedObservation } from "./dialogue.js";
import { PROTOCOLS } from "./protocols.js";
import { probeDialogue } from "./scripted.js";
import { SignalFanOut } from "./signal-fan-out.js";
import type { CheckSpec, Observation, Prober, ProbeTarget, Protocol } from "./types.js";

export { BUILTIN_CHECKS, DEFAULT_PORTS, DEFAULT_TLS_RULES, builtinCheck } from "./builtin-checks.js";
export { formatObservation } from "./format.js";
export { parseProbeUrl, ProbeUrlError, type ProbeUrlOptions } from "./url.js";

/**
 * One prober per protocol (protocols.ts); the check's tls mode picks plain, STARTTLS or implicit
 * TLS. Checks with protocol "dialogue" run their steps through probeDialogue.
 */
export const probers: Readonly<Record<Protocol, Prober>> = Object.freeze(
  Object.fromEntries(Object.entries(PROTOCOLS).map(([name, p]) => [name, p.prober])) as Record<Protocol, Prober>,
);

export type ProbeRunner = (target: ProbeTarget, check: CheckSpec, signal: AbortSignal) => Promise<Observation>;

export interface ProbeRunnerOptions {
  /** Most probes (sockets) in flight at once. */
  readonly concurrency: number;
  /** Wall clock for certificate expiry; defaults to Date.now. */
  readonly now?: () => number;
  /** Probers by protocol; defaults to `probers`. */
  readonly probers?: Readonly<Record<Protocol, Prober>>;
}

/**
 * Runs probes with a global bound on how many are in flight. Probes beyond the bound wait in
 * order; one whose signal aborts while waiting leaves the queue and reports "aborted" without
 * ever connecting. A probe's own deadline starts when it runs, not while it waits.
 */
export function createProbeRunner(options: ProbeRunnerOptions): ProbeRunner {
  const { concurrency, now = Date.now, probers: table = probers } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(`Expected concurrency to be a positive integer, got ${concurrency}`);
  }
  const fanOut = new SignalFanOut();
  let running = 0;
  const waiting: Array<() => void> = [];

  /** Resolves true when a slot is ours, false when the signal aborted first. */
  const acquire = (signal: AbortSignal): Promise<boolean> => {
    if (signal.aborted) return Promise.resolve(false);
    if (running < concurrency) {
      running++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const admit = () => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      };
      const onAbort = () => {
        waiting.splice(waiting.indexOf(admit), 1);
        resolve(false);
      };
      waiting.push(admit);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  };
  /** Hands the slot straight to the next waiter, so it is never briefly free for a newcomer. */
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return async (target, check, cycleSignal) => {
    // Each probe listens to a signal of its own, so the cycle's signal carries one listener
    // from this runner however many probes are queued or running (signal-fan-out.ts).
    const own = fanOut.child(cycleSignal);
    try {
      if (!(await acquire(own.signal))) return abortedObservation();
      try {
        const probe = check.protocol === "dialogue" ? probeDialogue : table[check.protocol];
        return await probe(target, check, own.signal, { now });
      } finally {
        release();
      }
    } finally {
      own.done();
    }
  };
}
