/**
 * IP takeover in a cycle: read who holds each floating address (adapter.read), plan and guard
 * the moves (src/plan/plan-ip-takeover.ts, pure), carry them out unless this is a dry run
 * (decided here, once: the adapter's move is never called in a dry run), then probe each moved
 * address to report whether the new holder answers on it.
 */
import type { IpAdapter, IpTarget } from "../../providers/ip/types.js";
import { isIpConflict } from "../../providers/ip/types.js";
import type { MinimalLogger } from "../../providers/types.js";
import { probeAddress, type ProbeFn } from "../health/probe-round.js";
import type { IpMoveOutcome, IpTakeoverReport, IpVerify } from "../plan/report.js";
import type { HealthView, PoolSpec } from "../model.js";
import { guardIpTakeover, ipMembers, planIpTakeover, type IpAction, type IpRead } from "../plan/plan-ip-takeover.js";
import type { CheckSpec } from "../probes/types.js";
import { sleep as realSleep } from "../util/rate-limiter.js";

export interface IpTakeoverDeps {
  readonly ipAdapter: (name: string) => Promise<IpAdapter>;
  readonly probe: ProbeFn;
  readonly checks: Readonly<Record<string, CheckSpec>>;
  readonly logger: MinimalLogger;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Probes of the moved address after a move: up to this many, this far apart. */
export const VERIFY_ATTEMPTS = 3;
export const VERIFY_INTERVAL_MS = 1000;

const targetOf = (m: { address: string; hostAddress?: string; ipTakeover?: { standby: string } }): IpTarget => ({ address: m.address, member: m.hostAddress!, standby: m.ipTakeover!.standby });

/** Who holds each floating address of these pools, by address; an adapter that fails marks its addresses with the error. */
export async function readIpHoldings(deps: Pick<IpTakeoverDeps, "ipAdapter" | "logger">, pools: readonly PoolSpec[], signal: AbortSignal): Promise<Map<string, IpRead>> {
  const byVia = new Map<string, IpTarget[]>();
  for (const p of pools) for (const m of ipMembers(p)) byVia.set(m.ipTakeover!.via, [...(byVia.get(m.ipTakeover!.via) ?? []), targetOf(m)]);
  const reads = new Map<string, IpRead>();
  await Promise.all(
    [...byVia].map(async ([via, targets]) => {
      try {
        const adapter = await deps.ipAdapter(via);
        const holdings = await adapter.read(targets, signal);
        for (const h of holdings) reads.set(h.address, { holding: h });
      } catch (err) {
        if (signal.aborted) throw err;
        const message = err instanceof Error ? err.message : String(err);
        deps.logger.error({ ipTakeover: via, err: message }, "cannot read who holds the floating addresses");
        for (const t of targets) reads.set(t.address, { error: message });
      }
    }),
  );
  return reads;
}

export interface IpReconcileOptions {
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly proberIsolation?: string;
  /** The instant of the plan, for the changeWindow rule. */
  readonly now?: Date;
  readonly signal: AbortSignal;
}

export async function reconcileIpTakeover(
  deps: IpTakeoverDeps,
  pools: readonly PoolSpec[],
  reads: ReadonlyMap<string, IpRead>,
  health: HealthView,
  opts: IpReconcileOptions,
): Promise<IpTakeoverReport> {
  const plan = planIpTakeover(pools, (a) => reads.get(a), health);
  const { allowed, held } = guardIpTakeover(pools, plan.actions, health, {
    force: opts.force,
    ...(opts.proberIsolation !== undefined ? { proberIsolation: opts.proberIsolation } : {}),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  });
  const report = { addresses: plan.addresses, actions: allowed, held, alarms: plan.alarms, moves: [] as IpMoveOutcome[] };
  if (opts.dryRun) return report;
  const byName = new Map(pools.map((p) => [p.name, p]));
  // One move at a time: each is an API call or a hook the operator wrote, and a cycle moves few.
  for (const action of allowed) {
    opts.signal.throwIfAborted();
    const read = reads.get(action.address);
    if (!read || "error" in read) continue; // planned only from a successful read
    const pool = byName.get(action.pool)!;
    const member = pool.members.find((m) => m.address === action.address)!;
    const kind = action.kind === "takeover-ip" ? "takeover" : "return";
    let notes: readonly string[];
    try {
      const adapter = await deps.ipAdapter(action.via);
      ({ notes } = await adapter.move({ action: kind, target: targetOf(member), to: action.to, expected: read.holding }, opts.signal));
    } catch (err) {
      if (opts.signal.aborted && !isIpConflict(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      deps.logger.error({ pool: action.pool, address: action.address, to: action.to, err: message }, `${action.kind} failed`);
      report.moves.push({ action, ok: false, conflict: isIpConflict(err), error: message, notes: [] });
      continue;
    }
    deps.logger.info({ pool: action.pool, address: action.address, to: action.to }, `${action.kind} done`);
    const i = report.addresses.findIndex((a) => a.address === action.address);
    if (i >= 0) report.addresses[i] = { ...report.addresses[i]!, holder: kind === "takeover" ? "standby" : "member", detail: `moved this cycle (as read: ${report.addresses[i]!.detail})` };
    const verify = await verifyMove(deps, pool, action, member.serverName ?? pool.name, health, opts.signal);
    report.moves.push({ action, ok: true, conflict: false, notes, verify });
  }
  return report;
}

/** Probes the moved address with the pool's checks until the new holder answers (or attempts run out). */
async function verifyMove(deps: IpTakeoverDeps, pool: PoolSpec, action: IpAction, serverName: string, health: HealthView, signal: AbortSignal): Promise<IpVerify> {
  const wait = deps.sleep ?? realSleep;
  const holder = action.kind === "takeover-ip" ? `standby ${action.standby}` : `${action.member}'s host ${action.hostAddress}`;
  let reason = "";
  for (let attempt = 1; attempt <= VERIFY_ATTEMPTS; attempt++) {
    if (attempt > 1) await wait(VERIFY_INTERVAL_MS, signal);
    const r = await probeAddress(pool, action.address, serverName, deps.checks, deps.probe, signal);
    if (r.ok) {
      return { ok: true, attempts: attempt, reason: `${holder} answers on ${action.address}${sameGreeting(r.observations, health(pool.name, action.to).observations)}` };
    }
    reason = r.reason;
  }
  return { ok: false, attempts: VERIFY_ATTEMPTS, reason: `${holder} does not answer on ${action.address} after ${VERIFY_ATTEMPTS} probe(s): ${reason}` };
}

/** Evidence that the answer comes from the new holder: its greeting matches the one on its own address. */
function sameGreeting(moved: Readonly<Record<string, { greeting?: string }>>, own: Readonly<Record<string, { greeting?: string }>> | undefined): string {
  for (const [check, o] of Object.entries(moved)) {
    const g = own?.[check]?.greeting;
    if (o.greeting !== undefined && g !== undefined) return o.greeting === g ? ` (${check} greeting matches its own: ${JSON.stringify(g)})` : ` (but the ${check} greeting ${JSON.stringify(o.greeting)} differs from its own ${JSON.stringify(g)})`;
  }
  return "";
}
