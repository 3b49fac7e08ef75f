/**
 * Scheduling pieces of the daemon: the cron seam (node-cron by default, a hand-driven one in
 * tests), schedule groups (pools sharing a schedule run as one cycle), and probe spreading.
 */
import { schedule as cronSchedule } from "node-cron";
import type { ProbeFn } from "../health/probe-round.js";
import type { MinimalLogger } from "../../providers/types.js";
import type { PoolSpec } from "../model.js";

export interface Ticker {
  /** Stops the ticks (idempotent). */
  stop(): Promise<void> | void;
  /** When the next tick is due (ms since the epoch), or undefined when the schedule has none. */
  nextRunAt(): number | undefined;
}

/** Calls `onTick` on the cron expression's schedule; returns at once (the tick must not block). */
export type Scheduler = (expression: string, onTick: () => void) => Ticker;

export function nodeCronScheduler(logger: MinimalLogger): Scheduler {
  return (expression, onTick) => {
    const task = cronSchedule(expression, () => onTick(), {
      // Overlap is handled (and counted) by the daemon; node-cron only keeps time.
      noOverlap: false,
      logger: {
        info: (m) => logger.debug({ cron: m }, "node-cron"),
        warn: (m) => logger.warn({ cron: m }, "node-cron"),
        error: (m) => logger.error({ cron: String(m) }, "node-cron"),
        debug: () => {},
      },
    });
    return {
      stop: () => task.destroy(),
      nextRunAt: () => task.getNextRun()?.getTime(),
    };
  };
}

export interface ScheduleGroup {
  readonly schedule: string;
  readonly pools: readonly PoolSpec[];
}

/** Pools by their effective schedule, in config order. */
export function scheduleGroups(pools: readonly PoolSpec[], defaultSchedule: string): ScheduleGroup[] {
  const groups = new Map<string, PoolSpec[]>();
  for (const p of pools) {
    const s = p.schedule ?? defaultSchedule;
    groups.set(s, [...(groups.get(s) ?? []), p]);
  }
  return [...groups].map(([schedule, ps]) => ({ schedule, pools: ps }));
}

/**
 * Each probe first waits a random part of `windowMs`, so a round's probes spread over the
 * window instead of leaving in one burst. A wait ends early (and the probe reports aborted)
 * when the signal fires.
 */
export function spreadProbes(probe: ProbeFn, windowMs: number, random: () => number, sleep: (ms: number, signal: AbortSignal) => Promise<void>): ProbeFn {
  if (windowMs <= 0) return probe;
  return async (target, check, signal) => {
    await sleep(Math.floor(random() * windowMs), signal);
    return probe(target, check, signal);
  };
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
