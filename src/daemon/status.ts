/**
 * GET /status: what the daemon knows, as one JSON document — pools with their members and the
 * verdicts (with reasons and the last observation per check), the last plan of each schedule
 * (the same shape as `mailpool plan --output json`), leader or follower, and the last error.
 */
import type { Config } from "../config/load.js";
import type { CycleReport } from "../plan/report.js";
import type { LeaderElector } from "../leader/elector.js";
import { planDocument } from "../plan/render.js";

export interface GroupStatus {
  readonly schedule: string;
  readonly pools: readonly string[];
  readonly skippedTicks: number;
  readonly running: boolean;
  readonly lastTickAt?: number;
  readonly nextRunAt?: number;
  readonly lastReport?: CycleReport;
  readonly lastFinishedAt?: number;
}

export interface StatusInput {
  readonly config: Config;
  readonly version: string;
  readonly identity: string;
  readonly startedAt: number;
  readonly now: number;
  readonly dryRun: boolean;
  readonly leader: boolean;
  readonly elector?: LeaderElector;
  readonly lastError?: { at: number; message: string };
  readonly groups: readonly GroupStatus[];
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function buildStatus(s: StatusInput): object {
  const reports = new Map<string, CycleReport>();
  for (const g of s.groups) if (g.lastReport) for (const p of g.pools) reports.set(p, g.lastReport);
  return {
    version: 1,
    mailpool: s.version,
    controllerId: s.config.controllerId,
    instance: s.identity,
    startedAt: iso(s.startedAt),
    now: iso(s.now),
    dryRun: s.dryRun,
    role: s.elector ? (s.leader ? "leader" : "follower") : "single",
    applies: s.leader && !s.dryRun,
    leaderElection: s.elector
      ? { enabled: true, identity: s.elector.identity, holder: s.elector.observedHolder ?? null, lastError: s.elector.lastError ?? null }
      : { enabled: false },
    lastError: s.lastError ? { at: iso(s.lastError.at), message: s.lastError.message } : null,
    schedules: s.groups.map((g) => ({
      schedule: g.schedule,
      pools: g.pools,
      running: g.running,
      skippedTicks: g.skippedTicks,
      lastTickAt: iso(g.lastTickAt),
      nextRunAt: iso(g.nextRunAt),
      lastCycleAt: iso(g.lastFinishedAt),
      lastPlan: g.lastReport ? planDocument(g.lastReport, { controllerId: s.config.controllerId, mode: "run" }) : null,
    })),
    pools: s.config.pools.map((p) => {
      const report = reports.get(p.name);
      const result = report?.results.find((r) => r.plans.some((x) => x.pool === p.name) || r.provider === p.provider);
      return {
        name: p.name,
        provider: p.provider,
        schedule: p.schedule ?? s.config.schedule,
        checks: p.checks,
        error: result?.error?.message ?? null,
        ipTakeover: (report?.ipTakeover?.addresses ?? [])
          .filter((a) => a.pool === p.name)
          .map((a) => ({ address: a.address, member: a.member, holder: a.holder, hostAddress: a.hostAddress, standby: a.standby, via: a.via, detail: a.detail })),
        members: (report?.health ?? [])
          .filter((h) => h.pool === p.name)
          .map((h) => ({
            address: h.address,
            label: h.label,
            role: h.role,
            health: h.verdict.health,
            reason: h.verdict.reason,
            checks: Object.fromEntries(
              Object.entries(h.verdict.observations ?? {}).map(([name, o]) => [
                name,
                {
                  ok: o.ok,
                  reason: o.reason,
                  latencyMs: o.latencyMs,
                  warnings: o.warnings,
                  ...(o.tls ? { tls: { protocol: o.tls.protocol, validTo: o.tls.validTo, daysLeft: o.tls.daysLeft, authorized: o.tls.authorized } } : {}),
                },
              ]),
            ),
          })),
      };
    }),
  };
}
