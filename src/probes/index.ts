import { abortedObservation } from "./dialogue.js";
import { PROTOCOLS } from "./protocols.js";
import { probeDialogue } from "./scripted.js";
import { SignalFanOut, type Abortable } from "./signal-fan-out.js";
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
  /**
   * Runs an admitted probe instead of the probers, with the cycle's signal (the threaded runner
   * hands it to a worker, which makes the probe's own signal there). The bound and the queue stay
   * here either way.
   */
  readonly execute?: ProbeRunner;
}

/**
 * A probe waiting for a slot, and all it holds while it waits: no signal of its own, no socket,
 * no timer, no closure (the prototype's `abort` is shared).
 */
class SlotRequest {
  /** Set while waiting; cleared once admitted or aborted. */
  settle: ((admitted: boolean) => void) | undefined;
  /** The fan-out set that tells this request about an abort. */
  watchers: Set<Abortable> | undefined;
  constructor(settle: (admitted: boolean) => void) {
    this.settle = settle;
  }
  abort(): void {
    const settle = this.settle;
    this.settle = undefined;
    this.watchers = undefined;
    settle?.(false);
  }
}

/**
 * Runs probes with a global bound on how many are in flight. Probes beyond the bound wait in
 * order, each holding only a slot request: a probe's own AbortSignal, its socket and its
 * deadline are made once it has a slot, so 10,000 probes queued at once cost 10,000 small
 * objects, not 10,000 AbortControllers. One whose signal aborts while waiting leaves the queue
 * at once and reports "aborted" without ever connecting. A probe's own deadline starts when it
 * runs, not while it waits. Work done before calling the runner (the daemon's spread sleep)
 * holds no slot, so those waits overlap.
 */
export function createProbeRunner(options: ProbeRunnerOptions): ProbeRunner {
  const { concurrency, now = Date.now, probers: table = probers, execute } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(`Expected concurrency to be a positive integer, got ${concurrency}`);
  }
  const fanOut = new SignalFanOut();
  let running = 0;
  // FIFO with a moving head; aborted requests stay as settled husks until the head passes them
  // (O(1) abort, no splice), and the array is reset whenever the head catches up.
  let queue: (SlotRequest | undefined)[] = [];
  let head = 0;

  /** true when a slot is ours, false (or a promise of false) when the signal aborted first. */
  const acquire = (signal: AbortSignal): boolean | Promise<boolean> => {
    if (signal.aborted) return false;
    if (running < concurrency) {
      running++;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const request = new SlotRequest(resolve);
      request.watchers = fanOut.watch(signal, request);
      queue.push(request);
    });
  };
  /** Hands the slot straight to the next waiter, so it is never briefly free for a newcomer. */
  const release = () => {
    while (head < queue.length) {
      const next = queue[head]!;
      queue[head++] = undefined;
      const settle = next.settle;
      if (settle === undefined) continue; // aborted while waiting
      next.settle = undefined;
      next.watchers?.delete(next);
      next.watchers = undefined;
      if (head === queue.length) (queue = []), (head = 0);
      else if (head > 1024 && head * 2 > queue.length) (queue = queue.slice(head)), (head = 0);
      settle(true);
      return;
    }
    queue = [];
    head = 0;
    running--;
  };

  const start = async (target: ProbeTarget, check: CheckSpec, cycleSignal: AbortSignal): Promise<Observation> => {
    try {
      if (execute !== undefined) return await execute(target, check, cycleSignal);
      // Each running probe listens to a signal of its own, so the cycle's signal carries one
      // listener from this runner however many probes are queued or running (signal-fan-out.ts).
      const own = fanOut.child(cycleSignal);
      try {
        const probe = check.protocol === "dialogue" ? probeDialogue : table[check.protocol];
        return await probe(target, check, own.signal, { now });
      } finally {
        own.done();
      }
    } finally {
      release();
    }
  };

  // A queued probe waits in a `then` on its slot request, not in a suspended async frame.
  return (target, check, cycleSignal) => {
    const slot = acquire(cycleSignal);
    if (slot === true) return start(target, check, cycleSignal);
    if (slot === false) return Promise.resolve(abortedObservation());
    return slot.then((admitted) => (admitted ? start(target, check, cycleSignal) : abortedObservation()));
  };
}
