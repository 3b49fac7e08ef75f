/**
 * The one-shot judge (CronJob): stateless, the DNS itself is the state. An address now in DNS is
 * judged down only after `fall` failed probes in this run; one now absent is judged up only after
 * `rise` passed probes in this run, `confirmIntervalMs` apart. A mixed record is "unknown": no
 * change this run. Addresses whose first probe agrees with DNS need no confirmation.
 */
import { memberHealthAddress, type HealthView, type PoolSpec, type Verdict } from "../model.js";
import type { CheckSpec } from "../probes/types.js";
import { sleep } from "../util/rate-limiter.js";
import { addressKey, probeRound, splitKey, type AddressResult, type ProbeFn } from "./probe-round.js";

export interface ConfirmOptions {
  readonly pools: readonly PoolSpec[];
  readonly checks: Readonly<Record<string, CheckSpec>>;
  readonly probe: ProbeFn;
  /** Whether an address is in its pool's live RRset now. */
  readonly inDns: (pool: string, address: string) => boolean;
  readonly signal: AbortSignal;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface Confirmed {
  /** Verdicts against DNS as `inDns` saw it. */
  readonly view: HealthView;
  readonly verdicts: Map<string, Verdict>;
  /**
   * The same probes judged against another view of DNS (a re-read after a conflict): an address
   * whose presence changed since needs `fall` failures or `rise` passes for its new state.
   */
  at(inDns: (pool: string, address: string) => boolean): HealthView;
}

export async function confirmHealth(opts: ConfirmOptions): Promise<Confirmed> {
  const wait = opts.sleep ?? sleep;
  const history = new Map<string, AddressResult[]>();
  const record = (results: Map<string, AddressResult>) => {
    for (const [k, r] of results) history.set(k, [...(history.get(k) ?? []), r]);
  };
  record(await probeRound(opts.pools, opts.checks, opts.probe, opts.signal));

  const poolOf = new Map(opts.pools.map((p) => [p.name, p]));
  const failedFirst = (pool: string, address: string) => history.get(addressKey(pool, address))?.[0]?.ok === false;
  /** An absent standby matters only when a member it covers failed: then it may take over. */
  const standbyIdle = (pool: string, address: string): boolean => {
    const p = poolOf.get(pool)!;
    if (p.members.some((m) => m.address === address || m.hostAddress === address)) return false;
    return !p.members.some(
      (m) => (m.standby === address && failedFirst(pool, memberHealthAddress(m))) || (m.ipTakeover?.standby === address && failedFirst(pool, m.hostAddress!)),
    );
  };
  /** Probes still needed for a key to reach a verdict that would change DNS, or 0. */
  const needed = (pool: string, address: string): number => {
    const p = poolOf.get(pool)!;
    const h = history.get(addressKey(pool, address)) ?? [];
    const wantsChange = opts.inDns(pool, address) ? !h[0]?.ok : h[0]?.ok && !standbyIdle(pool, address);
    if (!wantsChange) return 0;
    const target = opts.inDns(pool, address) ? p.fall : p.rise;
    if (h.some((r) => r.ok !== h[0]!.ok)) return 0; // mixed: settled as unknown
    return Math.max(0, target - h.length);
  };
  const maxRounds = Math.max(0, ...opts.pools.map((p) => Math.max(p.rise, p.fall) - 1));
  const pending = (pool: string, address: string) => needed(pool, address) > 0;
  const interval = Math.max(0, ...opts.pools.map((p) => p.confirmIntervalMs));
  for (let round = 0; round < maxRounds; round++) {
    if (![...history.keys()].some((k) => pending(...splitKey(k)))) break;
    await wait(interval, opts.signal);
    record(await probeRound(opts.pools, opts.checks, opts.probe, opts.signal, pending));
  }

  const judgeAll = (inDns: (pool: string, address: string) => boolean): Map<string, Verdict> => {
    const verdicts = new Map<string, Verdict>();
    for (const [key, h] of history) {
      const [poolName, address] = splitKey(key);
      verdicts.set(key, judge(h, inDns(poolName, address), poolOf.get(poolName)!));
    }
    return verdicts;
  };
  const viewOf = (verdicts: Map<string, Verdict>): HealthView => (pool, address) =>
    verdicts.get(addressKey(pool, address)) ?? { health: "unknown", reason: "not probed" };
  const verdicts = judgeAll(opts.inDns);
  return { view: viewOf(verdicts), verdicts, at: (inDns) => viewOf(judgeAll(inDns)) };
}

function judge(h: readonly AddressResult[], inDns: boolean, pool: PoolSpec): Verdict {
  const last = h[h.length - 1]!;
  const observations = last.observations;
  const fails = h.filter((r) => !r.ok).length;
  const passes = h.length - fails;
  if (fails === 0) {
    if (inDns || passes >= pool.rise) return { health: "up", reason: `${passes} of ${h.length} probe(s) passed`, observations };
    return { health: "unknown", reason: `${passes} pass(es), rise needs ${pool.rise}`, observations };
  }
  if (passes === 0) {
    if (!inDns || fails >= pool.fall) return { health: "down", reason: `${fails} of ${h.length} probe(s) failed: ${last.reason}`, observations };
    return { health: "unknown", reason: `${fails} failure(s), fall needs ${pool.fall}: ${last.reason}`, observations };
  }
  return { health: "unknown", reason: `flapping: ${passes} passed, ${fails} failed (last: ${last.reason})`, observations };
}
