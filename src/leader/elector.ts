/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics
 * (k8s.io/client-go/tools/leaderelection):
 *
 * - A candidate reads the Lease every retry period. A Lease held by another identity is taken
 *   only when its record has not changed for leaseDuration as measured by this process's own
 *   clock since it last saw it change (clocks of different machines are never compared).
 * - Writes carry the resourceVersion read: two candidates racing for one Lease get one success
 *   and one 409, and the loser re-reads next period.
 * - The leader renews every retry period. The renew deadline is counted from when the last
 *   successful renewal was *sent*; when it passes without another one, leadership ends at once
 *   (a timer, and a clock check on every isLeader() call), even while a request still hangs.
 *   Because renewDeadline < leaseDuration, the leader has stopped before any other candidate
 *   can consider the Lease expired.
 * - On stop the leader releases: holderIdentity cleared, so a follower takes over within one
 *   retry period instead of waiting out the lease.
 *
 * The Lease API, the clock and the timers are injected.
 */
import type { MinimalLogger } from "../../providers/types.js";

export interface LeaseRecord {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  /** RFC 3339 with microseconds. */
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

export interface LeaseObject {
  readonly resourceVersion: string;
  readonly spec: LeaseRecord;
}

/** The Lease endpoints the elector needs; 409 is LeaseConflictError, 404 on get is undefined. */
export interface LeaseApi {
  get(signal: AbortSignal): Promise<LeaseObject | undefined>;
  create(spec: LeaseRecord, signal: AbortSignal): Promise<LeaseObject>;
  replace(resourceVersion: string, spec: LeaseRecord, signal: AbortSignal): Promise<LeaseObject>;
  /** Where the Lease lives, for logs: "namespace/name". */
  readonly describe: string;
}

export class LeaseConflictError extends Error {
  override readonly name = "LeaseConflictError";
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ElectorOptions {
  readonly api: LeaseApi;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly logger: MinimalLogger;
  /**
   * Clock in ms since the epoch for the deadlines and the Lease's times. The default is the wall
   * clock at process start plus a monotonic count since (performance.timeOrigin +
   * performance.now()), so a step of the system clock (NTP, a VM resumed) neither ends a term
   * early nor stretches one past its renew deadline; client-go's durations are monotonic too.
   */
  readonly now?: () => number;
  /** [0, 1) (default Math.random): jitter of the retry period, as client-go's JitterFactor 1.2. */
  readonly random?: () => number;
  readonly timers?: Timers;
  /** Called on every change of leadership, after the state changed. */
  readonly onChange?: (leader: boolean, why: string) => void;
}

const JITTER_FACTOR = 1.2;

/** Epoch ms that never go backwards or jump with the system clock. */
export const monotonicNow = (): number => performance.timeOrigin + performance.now();

export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, "000Z");

export class LeaderElector {
  readonly #o: ElectorOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #timers: Timers;
  #leader = false;
  /** When the last successful acquire/renew write was sent (local clock). */
  #renewSentAt = 0;
  #term = new AbortController();
  #deadlineTimer: unknown;
  #observed?: { rv: string; spec: LeaseRecord; at: number };
  #loop?: Promise<void>;
  readonly #stop = new AbortController();
  #lastError?: string;

  constructor(options: ElectorOptions) {
    if (!(options.renewDeadlineMs < options.leaseDurationMs)) throw new RangeError("renewDeadline must be below leaseDuration");
    if (!(options.retryPeriodMs * JITTER_FACTOR < options.renewDeadlineMs)) throw new RangeError("retryPeriod × 1.2 must be below renewDeadline");
    this.#o = options;
    this.#now = options.now ?? monotonicNow;
    this.#random = options.random ?? Math.random;
    this.#timers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
    this.#term.abort(new Error("not the leader"));
  }

  get identity(): string {
    return this.#o.identity;
  }

  /** True only while this process holds the Lease and its renew deadline has not passed. */
  isLeader(): boolean {
    if (this.#leader && this.#now() - this.#renewSentAt >= this.#o.renewDeadlineMs) this.#lose("renew deadline passed");
    return this.#leader;
  }

  /** Aborted when the current term ends (already aborted when not the leader). */
  get leadership(): AbortSignal {
    this.isLeader();
    return this.#term.signal;
  }

  /** The holder this process last saw in the Lease ("" or undefined: nobody). */
  get observedHolder(): string | undefined {
    return this.#leader ? this.#o.identity : this.#observed?.spec.holderIdentity || undefined;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops campaigning; a leader releases the Lease (bounded by the renew deadline). */
  async stop(): Promise<void> {
    this.#stop.abort(new Error("elector stopping"));
    await this.#loop;
    const wasLeader = this.isLeader();
    if (wasLeader) this.#lose("stopping");
    if (wasLeader && this.#observed) {
      const signal = AbortSignal.timeout(Math.max(1, this.#o.renewDeadlineMs));
      try {
        const spec: LeaseRecord = { ...this.#observed.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(this.#now()) };
        await this.#o.api.replace(this.#observed.rv, spec, signal);
        this.#o.logger.info({ lease: this.#o.api.describe, identity: this.#o.identity }, "leader election: lease released");
      } catch (err) {
        this.#o.logger.warn({ lease: this.#o.api.describe, err: (err as Error).message }, "leader election: could not release the lease; it expires on its own");
      }
    }
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      await this.#tryAcquireOrRenew(stop);
      const wait = this.#leader ? this.#o.retryPeriodMs : this.#o.retryPeriodMs * (1 + this.#random() * (JITTER_FACTOR - 1));
      await this.#sleep(wait, stop);
    }
  }

  /** One read (and write when due). Never throws. */
  async #tryAcquireOrRenew(stop: AbortSignal): Promise<void> {
    const started = this.#now();
    // A request may not outlive the term it would extend: bound it by the renew deadline.
    const budget = this.#leader ? Math.max(1, this.#renewSentAt + this.#o.renewDeadlineMs - started) : this.#o.renewDeadlineMs;
    const signal = AbortSignal.any([stop, AbortSignal.timeout(Math.ceil(budget))]);
    const api = this.#o.api;
    const me = this.#o.identity;
    try {
      const current = await api.get(signal);
      const now = this.#now();
      if (!current) {
        const spec: LeaseRecord = { holderIdentity: me, leaseDurationSeconds: this.#leaseSeconds(), acquireTime: microTime(started), renewTime: microTime(started), leaseTransitions: 0 };
        const created = await api.create(spec, signal);
        this.#see(created, this.#now());
        this.#won(started, "created the lease");
        return;
      }
      if (this.#observed?.rv !== current.resourceVersion) this.#see(current, now);
      const holder = current.spec.holderIdentity ?? "";
      const heldByOther = holder !== "" && holder !== me;
      if (heldByOther) {
        if (this.#leader) this.#lose(`the lease is held by ${holder}`);
        const durationMs = (current.spec.leaseDurationSeconds ?? this.#leaseSeconds()) * 1000;
        if (this.#observed!.at + durationMs > now) return; // not expired by our own clock
      }
      const mine = holder === me;
      const spec: LeaseRecord = {
        holderIdentity: me,
        leaseDurationSeconds: this.#leaseSeconds(),
        acquireTime: mine && current.spec.acquireTime ? current.spec.acquireTime : microTime(started),
        renewTime: microTime(started),
        leaseTransitions: (current.spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      };
      const written = await api.replace(current.resourceVersion, spec, signal);
      this.#see(written, this.#now());
      this.#won(started, mine ? "renewed" : heldByOther ? `took over an expired lease from ${holder}` : "acquired a released lease");
    } catch (err) {
      if (stop.aborted) return;
      this.#lastError = err instanceof LeaseConflictError ? "409 conflict: the lease changed since it was read" : (err as Error).message;
      this.#o.logger[this.#leader ? "warn" : "debug"]({ lease: api.describe, identity: me, err: this.#lastError }, "leader election: lease request failed");
      if (err instanceof LeaseConflictError) this.#observed = undefined; // re-read next period
      this.isLeader(); // the deadline may have passed while the request hung
    }
  }

  #leaseSeconds(): number {
    return Math.ceil(this.#o.leaseDurationMs / 1000);
  }

  #see(lease: LeaseObject, at: number): void {
    this.#observed = { rv: lease.resourceVersion, spec: lease.spec, at };
  }

  #won(sentAt: number, how: string): void {
    this.#lastError = undefined;
    // The write was accepted, but if it took longer than the deadline, the term it bought is over.
    if (this.#now() - sentAt >= this.#o.renewDeadlineMs) {
      this.#lose("renewal answered after the renew deadline");
      return;
    }
    this.#renewSentAt = sentAt;
    this.#armDeadline();
    if (!this.#leader) {
      this.#leader = true;
      this.#term = new AbortController();
      this.#o.logger.info({ lease: this.#o.api.describe, identity: this.#o.identity, how }, "leader election: became the leader");
      this.#o.onChange?.(true, how);
    }
  }

  /**
   * The term ends at the renew deadline even while a request hangs. A timer may fire a fraction
   * of a millisecond before the clock says the deadline has passed (timers count whole
   * milliseconds of a cached loop time): then it is armed again for what is left, never dropped.
   */
  #armDeadline(): void {
    if (this.#deadlineTimer !== undefined) this.#timers.clearTimeout(this.#deadlineTimer);
    const left = this.#renewSentAt + this.#o.renewDeadlineMs - this.#now();
    this.#deadlineTimer = this.#timers.setTimeout(() => {
      this.#deadlineTimer = undefined;
      if (this.isLeader()) this.#armDeadline();
    }, Math.max(1, Math.ceil(left)));
  }

  #lose(why: string): void {
    if (!this.#leader) return;
    this.#leader = false;
    if (this.#deadlineTimer !== undefined) this.#timers.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    this.#term.abort(new Error(`leadership lost: ${why}`));
    this.#o.logger.warn({ lease: this.#o.api.describe, identity: this.#o.identity, why }, "leader election: leadership lost; not applying");
    this.#o.onChange?.(false, why);
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        this.#timers.clearTimeout(h);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const h = this.#timers.setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
