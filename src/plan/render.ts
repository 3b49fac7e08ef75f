/**
 * A cycle's report for people (text) and for programs (JSON): two renderings of one value.
 * The JSON shape is documented in docs/plan-json.md and versioned by `version`.
 */
import type { CycleReport } from "../controller/cycle.js";
import type { Action, ActionKind, HeldAction, PoolPlan } from "../model.js";
import { markerOwner } from "../ownership.js";

export interface Summary {
  readonly remove: number;
  readonly reinstate: number;
  readonly takeover: number;
  readonly restore: number;
  readonly ttl: number;
  readonly repair: number;
  readonly adopt: number;
  readonly held: number;
  readonly errors: number;
}

export function summarize(report: CycleReport): Summary {
  const count = (k: ActionKind) => plansOf(report).reduce((n, p) => n + p.actions.filter((a) => a.kind === k).length, 0);
  return {
    remove: count("remove"),
    reinstate: count("reinstate"),
    takeover: count("takeover"),
    restore: count("restore"),
    ttl: count("ttl"),
    repair: count("repair"),
    adopt: count("adopt"),
    held: plansOf(report).reduce((n, p) => n + p.held.length, 0),
    errors: report.results.filter((r) => r.error).length,
  };
}

/** True when the plan would change DNS (held changes do not count). */
export const hasChanges = (report: CycleReport): boolean => plansOf(report).some((p) => p.actions.length > 0);

/** Adoptions a safety rule refused (another controller's marker): `adopt` did not do its job. */
export const refusedAdoptions = (report: CycleReport): HeldAction[] =>
  plansOf(report).flatMap((p) => p.held.filter((h) => h.action.kind === "adopt"));

const plansOf = (report: CycleReport): PoolPlan[] => report.results.flatMap((r) => r.plans);

const SIGN: Record<ActionKind, string> = { remove: "-", reinstate: "+", takeover: "~", restore: "~", ttl: "~", repair: "~", adopt: "+" };

function describe(a: Action): string {
  switch (a.kind) {
    case "remove":
      return `remove ${a.address}`;
    case "reinstate":
      return `reinstate ${a.address}`;
    case "takeover":
      return `takeover ${a.address} → ${a.standby}`;
    case "restore":
      return `restore ${a.address} (standby ${a.standby} steps aside)`;
    case "ttl":
      return `ttl ${a.fromTtl} → ${a.toTtl}`;
    case "repair":
      return "repair";
    case "adopt":
      return "adopt (write ownership marker)";
  }
}

/** A held action's line has room for the rule's words only; a repair also says what drifted. */
const describeHeld = (a: Action): string => (a.kind === "repair" ? `repair (drift: ${a.reason})` : describe(a));

export interface TextOptions {
  readonly color: boolean;
  /** Print only pools with actions, held actions or alarms (the demo, the daemon's dry run). */
  readonly changedOnly?: boolean;
}

export function renderText(report: CycleReport, options: TextOptions = { color: false }): string {
  const c = colors(options.color);
  const lines: string[] = [];
  if (report.proberIsolation) lines.push(c.red(`! prober isolation: ${report.proberIsolation}`), "");
  for (const result of report.results) {
    if (result.error) lines.push(c.red(`provider ${result.provider}: FAILED after ${result.attempts} attempt(s): ${result.error.message}`), "");
    for (const plan of result.plans) {
      if (options.changedOnly && plan.actions.length === 0 && plan.held.length === 0 && plan.alarms.length === 0) continue;
      lines.push(c.bold(`${plan.pool}`) + c.dim(` (provider ${plan.provider}, owner ${markerOwner(plan.current.marker) ?? "none"})`));
      for (const t of ["A", "AAAA"] as const) {
        const rr = plan.current[t];
        if (rr) lines.push(c.dim(`  now ${t} ttl ${rr.ttl}: ${rr.values.join(" ") || "(empty)"}`));
      }
      for (const h of report.health.filter((e) => e.pool === plan.pool)) {
        const mark = h.verdict.health === "up" ? c.green("up") : h.verdict.health === "down" ? c.red("down") : c.yellow("unknown");
        const who = h.role === "standby" ? `standby ${h.address} (${h.label})` : h.label === h.address ? `member  ${h.address}` : `member  ${h.label} ${h.address}`;
        lines.push(c.dim(`  ${who}: `) + mark + c.dim(` — ${h.verdict.reason}`));
      }
      for (const a of plan.actions) {
        const line = `  ${SIGN[a.kind]} ${a.type.padEnd(4)} ${describe(a)}: ${a.reason}`;
        lines.push(a.kind === "remove" ? c.red(line) : a.kind === "reinstate" || a.kind === "adopt" ? c.green(line) : c.yellow(line));
      }
      for (const h of plan.held) lines.push(c.magenta(`  ! ${h.action.type.padEnd(4)} ${describeHeld(h.action)} held by ${h.rule}: ${h.why}`));
      for (const alarm of plan.alarms) lines.push(c.red(`  alarm: ${alarm}`));
      if (plan.actions.length === 0 && plan.held.length === 0) lines.push(c.dim("  no changes"));
      lines.push("");
    }
    if (result.applied) {
      lines.push(c.dim(`provider ${result.provider}: applied ${result.applied.applied} RRset change(s) in ${result.attempts} attempt(s)`));
      for (const n of result.applied.notes) lines.push(c.dim(`  ${n}`));
      lines.push("");
    }
  }
  const s = summarize(report);
  const parts = [`${s.remove} to remove`, `${s.reinstate} to reinstate`, `${s.takeover} takeover(s)`, `${s.restore} restore(s)`, `${s.ttl} TTL fix(es)`];
  if (s.repair) parts.push(`${s.repair} repair(s)`);
  if (s.adopt) parts.push(`${s.adopt} adoption(s)`);
  parts.push(`${s.held} held`);
  if (s.errors) parts.push(`${s.errors} provider error(s)`);
  const tail = report.dryRun ? " (dry run: nothing changed)" : hasChanges(report) && s.errors === 0 ? " (applied)" : "";
  lines.push(c.bold(`Plan: ${parts.join(", ")}.${tail}`));
  return lines.join("\n") + "\n";
}

const actionJson = (a: Action) => ({
  kind: a.kind,
  type: a.type,
  address: a.address ?? null,
  standby: a.standby ?? null,
  fromTtl: a.fromTtl ?? null,
  toTtl: a.toTtl ?? null,
  reason: a.reason,
});

const heldJson = (h: HeldAction) => ({ rule: h.rule, why: h.why, action: actionJson(h.action) });

export function renderJson(report: CycleReport, meta: { controllerId: string; mode: string }): string {
  const value = {
    version: 1,
    mode: meta.mode,
    dryRun: report.dryRun,
    controllerId: meta.controllerId,
    proberIsolation: report.proberIsolation ?? null,
    pools: report.results.flatMap((r) =>
      r.plans.map((p) => ({
        pool: p.pool,
        provider: p.provider,
        owner: markerOwner(p.current.marker) ?? null,
        current: {
          A: p.current.A ? { ttl: p.current.A.ttl, values: p.current.A.values } : null,
          AAAA: p.current.AAAA ? { ttl: p.current.AAAA.ttl, values: p.current.AAAA.values } : null,
        },
        health: report.health
          .filter((h) => h.pool === p.pool)
          .map((h) => ({ address: h.address, role: h.role, label: h.label, health: h.verdict.health, reason: h.verdict.reason })),
        actions: p.actions.map(actionJson),
        held: p.held.map(heldJson),
        alarms: p.alarms,
      })),
    ),
    providers: report.results.map((r) => ({
      name: r.provider,
      attempts: r.attempts,
      applied: r.applied ? { changes: r.applied.applied, notes: r.applied.notes } : null,
      error: r.error?.message ?? null,
    })),
    summary: summarize(report),
  };
  return JSON.stringify(value, null, 2) + "\n";
}

function colors(on: boolean) {
  const wrap = (code: string) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { bold: wrap("1"), dim: wrap("2"), red: wrap("31"), green: wrap("32"), yellow: wrap("33"), magenta: wrap("35") };
}
