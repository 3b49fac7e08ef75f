/**
 * One cycle (DESIGN.md): probe → judge → (read → plan → guard → apply) per provider. The judge
 * is the daemon's hysteresis or, for one-shot runs, the stateless confirmation against DNS.
 */
import type { MinimalLogger, Provider, RRset } from "../../providers/types.js";
import type { Config } from "../config/load.js";
import { confirmHealth } from "../health/confirm.js";
import type { HysteresisJudge } from "../health/hysteresis.js";
import { addressKey, probeRound, type ProbeFn } from "../health/probe-round.js";
import type { HealthView, PoolSpec } from "../model.js";
import { detectProberIsolation } from "../plan/rules/prober-isolation.js";
import type { IpAdapter } from "../../providers/ip/types.js";
import { ipMembers, type IpRead } from "../plan/plan-ip-takeover.js";
import { poolKeys } from "../plan/plan-round.js";
import type { CycleReport, HealthEntry, ReconcileResult } from "../plan/report.js";
import { readIpHoldings, reconcileIpTakeover } from "./ip-takeover.js";
import { presenceIn, reconcileProvider } from "./reconcile.js";
import { retrying } from "./retry.js";

export interface CycleDeps {
  readonly config: Config;
  /** The provider instance for a config block name (created once, reused across cycles). */
  readonly provider: (name: string) => Promise<Provider>;
  readonly probe: ProbeFn;
  readonly logger: MinimalLogger;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The clock (changeWindow rule); default the system clock. */
  readonly now?: () => Date;
  /** The IP takeover adapter for a block name under `ipTakeover` (created once, reused). */
  readonly ipAdapter?: (name: string) => Promise<IpAdapter>;
}

export interface CycleOptions {
  readonly dryRun: boolean;
  readonly force?: boolean;
  readonly adopt?: boolean;
  /** The daemon's judge; absent: one-shot confirmation. */
  readonly judge?: HysteresisJudge;
  /** Only these pools (by name); all when absent. */
  readonly pools?: readonly string[];
  readonly signal: AbortSignal;
}

export type { CycleReport, HealthEntry } from "../plan/report.js";

export async function runCycle(deps: CycleDeps, opts: CycleOptions): Promise<CycleReport> {
  const pools = deps.config.pools.filter((p) => !opts.pools || opts.pools.includes(p.name));
  const byProvider = groupBy(pools, (p) => p.provider);

  let view: HealthView;
  let healthFor: ((inDns: (pool: string, address: string) => boolean) => HealthView) | undefined;
  /** Providers whose records could not be read before probing (one-shot): reported, not planned. */
  const unreadable = new Map<string, { error: Error; attempts: number }>();
  /** One-shot: what each provider's read before probing returned, reused by its first round. */
  let firstReads = new Map<string, { rrsets: RRset[]; attempts: number }>();
  // IP takeover: who holds each floating address, read before probing (a one-shot judge's state,
  // like DNS); every move is compare-and-swap on this read.
  const ipPools = pools.filter((p) => ipMembers(p).length > 0);
  const ipAdapter = deps.ipAdapter ?? (() => Promise.reject(new Error("no IP takeover adapters in this runtime")));
  const ipReads: Map<string, IpRead> = ipPools.length > 0 ? await readIpHoldings({ ipAdapter, logger: deps.logger }, ipPools, opts.signal) : new Map();
  const ipPresent = ipPresence(ipPools, ipReads);
  if (opts.judge) {
    const results = await probeRound(pools, deps.config.checks, deps.probe, opts.signal);
    // An aborted round says nothing about the members: it must not count as failures.
    opts.signal.throwIfAborted();
    for (const c of opts.judge.observe(pools, results)) {
      deps.logger.info({ pool: c.pool, address: c.address, from: c.from, to: c.to, reason: opts.judge.verdict(c.pool, c.address).reason }, "health changed");
    }
    view = opts.judge.view;
  } else {
    firstReads = await readBeforeProbing(deps, byProvider, unreadable, opts.signal);
    const live = presenceIn([...firstReads.values()].flatMap((r) => r.rrsets));
    let at: (inDns: (pool: string, address: string) => boolean) => HealthView;
    ({ view, at } = await confirmHealth({
      pools: pools.filter((p) => !unreadable.has(p.provider)),
      checks: deps.config.checks,
      probe: deps.probe,
      inDns: (pool, address) => live(pool, address) || ipPresent(pool, address),
      signal: opts.signal,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    }));
    healthFor = (inDns) => at((pool, address) => inDns(pool, address) || ipPresent(pool, address));
    opts.signal.throwIfAborted();
  }

  const isolation = deps.config.proberIsolation.enabled
    ? detectProberIsolation(pools, view, deps.config.proberIsolation.threshold)
    : undefined;
  if (isolation) deps.logger.warn({ reason: isolation }, "prober isolation: holding every removal");

  // IP moves first: they take effect at once, DNS only as caches expire.
  const ipTakeover =
    ipPools.length > 0
      ? await reconcileIpTakeover({ ipAdapter, probe: deps.probe, checks: deps.config.checks, logger: deps.logger, ...(deps.sleep ? { sleep: deps.sleep } : {}) }, ipPools, ipReads, view, {
          dryRun: opts.dryRun,
          force: opts.force ?? false,
          ...(isolation !== undefined ? { proberIsolation: isolation } : {}),
          now: (deps.now ?? (() => new Date()))(),
          signal: opts.signal,
        })
      : undefined;

  const results = await Promise.all(
    [...byProvider].map(async ([name, providerPools]): Promise<ReconcileResult> => {
      let provider: Provider;
      const early = unreadable.get(name);
      if (early) {
        deps.logger.error({ provider: name, err: early.error.message, attempts: early.attempts }, "provider cycle failed");
        return { provider: name, plans: [], applied: null, attempts: early.attempts, error: early.error };
      }
      try {
        provider = await deps.provider(name);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        deps.logger.error({ provider: name, err: error.message }, "provider cycle failed");
        return { provider: name, plans: [], applied: null, attempts: 0, error };
      }
      const initial = firstReads.get(name);
      const result = await reconcileProvider({
        provider,
        providerName: name,
        pools: providerPools,
        health: view,
        controllerId: deps.config.controllerId,
        dryRun: opts.dryRun,
        force: opts.force ?? false,
        adopt: opts.adopt ?? false,
        ...(isolation !== undefined ? { proberIsolation: isolation } : {}),
        signal: opts.signal,
        retry: deps.config.retry,
        logger: deps.logger,
        ...(healthFor ? { healthFor } : {}),
        ...(initial ? { initial } : {}),
        now: deps.now ?? (() => new Date()),
      });
      if (result.error) deps.logger.error({ provider: name, err: result.error.message, attempts: result.attempts }, "provider cycle failed");
      return result;
    }),
  );

  const health: HealthEntry[] = [];
  for (const p of pools) {
    for (const m of p.members) health.push({ pool: p.name, address: m.address, role: "member", label: m.label, verdict: view(p.name, m.address) });
    for (const m of p.members) {
      if (m.standby !== undefined && !health.some((h) => h.pool === p.name && h.address === m.standby)) {
        health.push({ pool: p.name, address: m.standby, role: "standby", label: `for ${m.label}`, verdict: view(p.name, m.standby) });
      }
    }
    for (const m of ipMembers(p)) {
      health.push({ pool: p.name, address: m.hostAddress!, role: "host", label: `${m.label}'s own address`, verdict: view(p.name, m.hostAddress!) });
      const s = m.ipTakeover!.standby;
      if (!health.some((h) => h.pool === p.name && h.address === s)) health.push({ pool: p.name, address: s, role: "standby", label: `IP standby for ${m.label}`, verdict: view(p.name, s) });
    }
  }
  return {
    dryRun: opts.dryRun,
    results,
    health,
    ...(isolation !== undefined ? { proberIsolation: isolation } : {}),
    ...(ipTakeover !== undefined ? { ipTakeover } : {}),
  };
}

/**
 * One-shot runs: each provider's pool RRsets, read before probing (the judge's state), under the
 * same retry policy as every later read and write: one throttled call must not fail a CronJob.
 */
async function readBeforeProbing(
  deps: CycleDeps,
  byProvider: Map<string, PoolSpec[]>,
  unreadable: Map<string, { error: Error; attempts: number }>,
  signal: AbortSignal,
): Promise<Map<string, { rrsets: RRset[]; attempts: number }>> {
  const reads = new Map<string, { rrsets: RRset[]; attempts: number }>();
  await Promise.all(
    [...byProvider].map(async ([name, pools]) => {
      let attempts = 0;
      try {
        const provider = await deps.provider(name);
        const rrsets = await retrying(
          (n) => {
            attempts = n;
            return provider.read(pools.flatMap(poolKeys), signal);
          },
          { retry: deps.config.retry, signal, logger: deps.logger, providerName: name, what: "reading records before probing" },
        );
        reads.set(name, { rrsets, attempts });
      } catch (err) {
        // Without the live records a one-shot run cannot tell which probes need confirming.
        unreadable.set(name, { error: err instanceof Error ? err : new Error(String(err)), attempts });
      }
    }),
  );
  return reads;
}

/**
 * The one-shot judge's state for IP hosts, as DNS presence is for addresses: the host that holds
 * its floating address (or the member's host, when nobody or nothing readable does) is "present",
 * so it needs `fall` failures to be judged down; the other needs `rise` passes to be judged up.
 */
function ipPresence(pools: readonly PoolSpec[], reads: ReadonlyMap<string, IpRead>): (pool: string, address: string) => boolean {
  const present = new Set<string>();
  for (const p of pools) {
    for (const m of ipMembers(p)) {
      const r = reads.get(m.address);
      const standbyHolds = r !== undefined && "holding" in r && r.holding.holder.kind === "host" && r.holding.holder.host === m.ipTakeover!.standby;
      present.add(addressKey(p.name, standbyHolds ? m.ipTakeover!.standby : m.hostAddress!));
    }
  }
  return (pool, address) => present.has(addressKey(pool, address));
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const i of items) out.set(key(i), [...(out.get(key(i)) ?? []), i]);
  return out;
}
