/**
 * Alert events: what changed between two cycle reports of the same pools, in words. Pure: the
 * daemon feeds it each report with the previous one; the dispatcher sends what it returns.
 */
import type { CycleReport } from "../controller/cycle.js";

export type AlertKind =
  | "member_down"
  | "member_up"
  | "takeover"
  | "restore"
  | "change_held"
  | "pool_all_down"
  | "prober_isolation"
  | "apply_failed"
  | "leadership_lost"
  | "ip_takeover"
  | "ip_return"
  | "ip_move_failed";

export type Severity = "critical" | "warning" | "info";

export interface AlertEvent {
  readonly kind: AlertKind;
  readonly severity: Severity;
  /** One line for a person: "mx2 (192.0.2.11) in smtp.example.com is down: 3 failure(s) in a row: …". */
  readonly summary: string;
  readonly pool?: string;
  readonly address?: string;
  readonly provider?: string;
  /** Safety rule (change_held). */
  readonly rule?: string;
  /** ISO 8601, when mailpool saw it. */
  readonly time: string;
  readonly controllerId: string;
  /** This replica (leader election identity or host name). */
  readonly instance: string;
}

export const SEVERITY: Readonly<Record<AlertKind, Severity>> = {
  member_down: "warning",
  member_up: "info",
  takeover: "warning",
  restore: "info",
  change_held: "warning",
  pool_all_down: "critical",
  prober_isolation: "critical",
  apply_failed: "critical",
  leadership_lost: "warning",
  ip_takeover: "warning",
  ip_return: "info",
  ip_move_failed: "critical",
};

/** Events shared by every alert: who and when. */
export interface EventContext {
  readonly now: number;
  readonly controllerId: string;
  readonly instance: string;
}

type Body = Omit<AlertEvent, "severity" | "time" | "controllerId" | "instance">;

export function makeEvent(body: Body, ctx: EventContext): AlertEvent {
  return { ...body, severity: SEVERITY[body.kind], time: new Date(ctx.now).toISOString(), controllerId: ctx.controllerId, instance: ctx.instance };
}

/** The key under which repeats of one event are de-duplicated. */
export const dedupeKey = (e: AlertEvent): string => [e.kind, e.pool ?? "", e.address ?? "", e.rule ?? "", e.provider ?? ""].join("|");

/** Transitions from `prev` (undefined: the daemon's first cycle) to `next`. */
export function transitions(prev: CycleReport | undefined, next: CycleReport, ctx: EventContext): AlertEvent[] {
  const out: AlertEvent[] = [];
  const add = (b: Body) => out.push(makeEvent(b, ctx));
  const before = new Map(prev?.health.map((h) => [`${h.pool}|${h.address}`, h.verdict.health]) ?? []);

  for (const h of next.health) {
    const was = before.get(`${h.pool}|${h.address}`) ?? "unknown";
    const is = h.verdict.health;
    const who = h.role === "host" ? `${h.label} ${h.address}` : h.role === "member" ? `${h.label === h.address ? h.address : `${h.label} (${h.address})`}` : `standby ${h.address} (${h.label})`;
    if (is === "down" && was !== "down") add({ kind: "member_down", pool: h.pool, address: h.address, summary: `${who} in ${h.pool} is down: ${h.verdict.reason}` });
    if (is === "up" && was === "down") add({ kind: "member_up", pool: h.pool, address: h.address, summary: `${who} in ${h.pool} is up again: ${h.verdict.reason}` });
  }

  // A pool is all down when every member and standby is judged down.
  const pools = new Map<string, { total: number; down: number }>();
  for (const h of next.health) {
    const p = pools.get(h.pool) ?? { total: 0, down: 0 };
    p.total += 1;
    if (h.verdict.health === "down") p.down += 1;
    pools.set(h.pool, p);
  }
  const wasAllDown = (pool: string) => {
    const hs = prev?.health.filter((h) => h.pool === pool) ?? [];
    return hs.length > 0 && hs.every((h) => h.verdict.health === "down");
  };
  for (const [pool, p] of pools) {
    if (p.total > 0 && p.down === p.total && !wasAllDown(pool)) {
      add({ kind: "pool_all_down", pool, summary: `every member and standby of ${pool} is down (${p.total}); nothing is removed while the safety rules hold` });
    }
  }

  if (next.proberIsolation !== undefined && prev?.proberIsolation === undefined) {
    add({ kind: "prober_isolation", summary: `prober isolation: ${next.proberIsolation}; every removal is held` });
  }

  const heldBefore = new Set(
    prev?.results.flatMap((r) => r.plans.flatMap((p) => p.held.map((h) => `${p.pool}|${h.action.kind}|${h.action.address ?? ""}|${h.rule}`))) ?? [],
  );
  const failedBefore = new Set(prev?.results.filter((r) => r.error).map((r) => r.provider) ?? []);
  for (const r of next.results) {
    const written = !next.dryRun && r.applied !== null;
    for (const p of r.plans) {
      if (written) {
        for (const a of p.actions) {
          if (a.kind === "takeover") add({ kind: "takeover", pool: p.pool, address: a.address, provider: r.provider, summary: `${a.standby} took ${a.address}'s place in ${p.pool}: ${a.reason}` });
          if (a.kind === "restore") add({ kind: "restore", pool: p.pool, address: a.address, provider: r.provider, summary: `${a.address} is back in ${p.pool}; standby ${a.standby} stepped aside` });
        }
      }
      for (const h of p.held) {
        if (heldBefore.has(`${p.pool}|${h.action.kind}|${h.action.address ?? ""}|${h.rule}`)) continue;
        add({
          kind: "change_held",
          pool: p.pool,
          ...(h.action.address !== undefined ? { address: h.action.address } : {}),
          rule: h.rule,
          provider: r.provider,
          summary: `${h.action.kind}${h.action.address ? ` ${h.action.address}` : ""} in ${p.pool} held by ${h.rule}: ${h.why}`,
        });
      }
    }
    if (!next.dryRun && r.error && !failedBefore.has(r.provider) && r.error.name !== "AbortError") {
      add({ kind: "apply_failed", provider: r.provider, summary: `provider ${r.provider} failed after ${r.attempts} attempt(s): ${r.error.message}` });
    }
  }

  // IP moves: each one carried out (moves are only made outside dry runs), and each failure.
  const ipHeldBefore = new Set(prev?.ipTakeover?.held.map((h) => `${h.action.address}|${h.rule}`) ?? []);
  for (const m of next.ipTakeover?.moves ?? []) {
    const a = m.action;
    const where = { pool: a.pool, address: a.address, provider: a.via };
    if (!m.ok) add({ kind: "ip_move_failed", ...where, summary: `${a.kind} ${a.address} → ${a.to} in ${a.pool} failed: ${m.error}` });
    else {
      const verified = m.verify?.ok ? m.verify.reason : `moved, but ${m.verify?.reason ?? "not verified"}`;
      if (a.kind === "takeover-ip") add({ kind: "ip_takeover", ...where, summary: `${a.address} moved to standby ${a.standby} (${a.reason}); ${verified}` });
      else add({ kind: "ip_return", ...where, summary: `${a.address} returned to ${a.member}'s host ${a.hostAddress}; ${verified}` });
    }
  }
  for (const h of next.ipTakeover?.held ?? []) {
    if (ipHeldBefore.has(`${h.action.address}|${h.rule}`)) continue;
    add({ kind: "change_held", pool: h.action.pool, address: h.action.address, rule: h.rule, provider: h.action.via, summary: `${h.action.kind} ${h.action.address} in ${h.action.pool} held by ${h.rule}: ${h.why}` });
  }
  return out;
}
