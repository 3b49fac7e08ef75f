/**
 * A cycle's report for people (text) and for programs (JSON): two renderings of one value.
 * The JSON shape is documented in docs/plan-json.md and versioned by `version`.
 */
import { unreachable, type Action, type ActionKind, type HeldAction, type PoolPlan } from "../model.js";
import { markerOwner } from "../ownership.js";
import type { HeldIpAction, IpAction } from "./plan-ip-takeover.js";
import type { CycleReport } from "./report.js";

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
  /** IP takeover: addresses moved (or, in a dry run, to move) to a standby, and returned. */
  readonly takeoverIp: number;
  readonly returnIp: number;
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
    held: plansOf(report).reduce((n, p) => n + p.held.length, 0) + (report.ipTakeover?.held.length ?? 0),
    errors: report.results.filter((r) => r.error).length,
    takeoverIp: report.ipTakeover?.actions.filter((a) => a.kind === "takeover-ip").length ?? 0,
    returnIp: report.ipTakeover?.actions.filter((a) => a.kind === "return-ip").length ?? 0,
  };
}

/** True when the plan would change DNS (held changes do not count). */
export const hasChanges = (report: CycleReport): boolean => plansOf(report).some((p) => p.actions.length > 0) || (report.ipTakeover?.actions.length ?? 0) > 0;

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
    default:
      return unreachable(a);
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
  const health = healthByPool(report);
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
      for (const h of health.get(plan.pool) ?? []) {
        const mark = h.verdict.health === "up" ? c.green("up") : h.verdict.health === "down" ? c.red("down") : c.yellow("unknown");
        const who =
          h.role === "host" ? `host    ${h.address} (${h.label})` : h.role === "standby" ? `standby ${h.address} (${h.label})` : h.label === h.address ? `member  ${h.address}` : `member  ${h.label} ${h.address}`;
        lines.push(c.dim(`  ${who}: `) + mark + c.dim(` — ${h.verdict.reason}`));
      }
      for (const a of plan.actions) {
        const line = `  ${SIGN[a.kind]} ${a.type.padEnd(4)} ${describe(a)}: ${a.reason}`;
        lines.push(a.kind === "remove" ? c.red(line) : a.kind === "reinstate" || a.kind === "adopt" ? c.green(line) : c.yellow(line));
      }
      for (const h of plan.held) lines.push(c.magenta(`  ! ${h.action.type.padEnd(4)} ${describeHeld(h.action)} held by ${h.rule}: ${h.why}`));
      for (const alarm of plan.alarms) lines.push(c.red(`  alarm: ${alarm}`));
      const ip = ipLines(report, plan.pool, c);
      lines.push(...ip.lines);
      if (plan.actions.length === 0 && plan.held.length === 0 && !ip.changes) lines.push(c.dim("  no changes"));
      lines.push("");
    }
    if (result.applied) {
      lines.push(c.dim(`provider ${result.provider}: applied ${result.applied.applied} RRset change(s) in ${result.attempts} attempt(s)`));
      for (const n of result.applied.notes) lines.push(c.dim(`  ${n}`));
      lines.push("");
    }
  }
  // IP takeover of pools whose DNS plan is missing (their provider failed) still shows.
  const shown = new Set(report.results.flatMap((r) => r.plans.map((p) => p.pool)));
  for (const pool of [...new Set(report.ipTakeover?.addresses.map((a) => a.pool) ?? [])].filter((p) => !shown.has(p))) {
    lines.push(c.bold(pool) + c.dim(" (IP takeover)"), ...ipLines(report, pool, c).lines, "");
  }
  const s = summarize(report);
  const parts = [`${s.remove} to remove`, `${s.reinstate} to reinstate`, `${s.takeover} takeover(s)`, `${s.restore} restore(s)`, `${s.ttl} TTL fix(es)`];
  if (s.repair) parts.push(`${s.repair} repair(s)`);
  if (s.adopt) parts.push(`${s.adopt} adoption(s)`);
  if (s.takeoverIp || s.returnIp) parts.push(`${s.takeoverIp} IP takeover(s)`, `${s.returnIp} IP return(s)`);
  parts.push(`${s.held} held`);
  if (s.errors) parts.push(`${s.errors} provider error(s)`);
  const tail = report.dryRun ? " (dry run: nothing changed)" : hasChanges(report) && s.errors === 0 ? " (applied)" : "";
  lines.push(c.bold(`Plan: ${parts.join(", ")}.${tail}`));
  return lines.join("\n") + "\n";
}

const describeIp = (a: IpAction): string =>
  a.kind === "takeover-ip" ? `takeover-ip ${a.address} → ${a.standby}` : `return-ip ${a.address} → ${a.hostAddress} (${a.member})`;

/** A pool's IP takeover lines: who holds each address, the moves, held moves, results, alarms. */
function ipLines(report: CycleReport, pool: string, c: ReturnType<typeof colors>): { lines: string[]; changes: boolean } {
  const ip = report.ipTakeover;
  if (!ip) return { lines: [], changes: false };
  const lines: string[] = [];
  for (const a of ip.addresses.filter((x) => x.pool === pool)) {
    const holder = a.holder === "member" ? `${a.member}'s host ${a.hostAddress}` : a.holder === "standby" ? `standby ${a.standby}` : a.holder;
    lines.push(c.dim(`  ip ${a.address} (via ${a.via}): held by ${holder} — ${a.detail}`));
  }
  const actions = ip.actions.filter((a) => a.pool === pool);
  for (const a of actions) lines.push(c.yellow(`  ~ ip   ${describeIp(a)}: ${a.reason}`));
  for (const h of ip.held.filter((x) => x.action.pool === pool)) lines.push(c.magenta(`  ! ip   ${describeIp(h.action)} held by ${h.rule}: ${h.why}`));
  for (const m of ip.moves.filter((x) => x.action.pool === pool)) {
    if (!m.ok) lines.push(c.red(`  ip ${m.action.kind} ${m.action.address} FAILED${m.conflict ? " (moved by someone else since the read; nothing changed)" : ""}: ${m.error}`));
    else {
      for (const n of m.notes) lines.push(c.dim(`  ip ${m.action.kind} ${m.action.address}: ${n}`));
      if (m.verify) lines.push((m.verify.ok ? c.green : c.red)(`  ip ${m.action.kind} ${m.action.address} ${m.verify.ok ? "verified" : "NOT verified"}: ${m.verify.reason}`));
    }
  }
  for (const a of ip.alarms.filter((x) => x.pool === pool)) lines.push(c.red(`  alarm: ${a.text}`));
  return { lines, changes: actions.length > 0 || ip.held.some((x) => x.action.pool === pool) };
}

const ipActionJson = (a: IpAction) => ({
  kind: a.kind,
  pool: a.pool,
  address: a.address,
  member: a.member,
  hostAddress: a.hostAddress,
  standby: a.standby,
  via: a.via,
  to: a.to,
  reason: a.reason,
});

const ipHeldJson = (h: HeldIpAction) => ({ rule: h.rule, why: h.why, action: ipActionJson(h.action) });

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

/** Health entries by pool, in report order: one pass, not one filter per pool (pools × members). */
function healthByPool(report: CycleReport): Map<string, CycleReport["health"][number][]> {
  const out = new Map<string, CycleReport["health"][number][]>();
  for (const h of report.health) {
    const list = out.get(h.pool);
    if (list) list.push(h);
    else out.set(h.pool, [h]);
  }
  return out;
}

export function renderJson(report: CycleReport, meta: { controllerId: string; mode: string }): string {
  return [...renderJsonParts(report, meta)].join("");
}

type PlanOfReport = CycleReport["results"][number]["plans"][number];

/**
 * The JSON plan as a value (what `JSON.parse(renderJson(…))` gives), for the daemon's one-line
 * JSON output and its /status: built once, not rendered, parsed and stringified again.
 */
export function planDocument(report: CycleReport, meta: { controllerId: string; mode: string }): Record<string, unknown> {
  const poolJson = poolJsonOf(report);
  return documentOf(report, meta, report.results.flatMap((r) => r.plans).map(poolJson));
}

function poolJsonOf(report: CycleReport): (p: PlanOfReport) => unknown {
  const health = healthByPool(report);
  return (p) => ({
    pool: p.pool,
    provider: p.provider,
    owner: markerOwner(p.current.marker) ?? null,
    current: {
      A: p.current.A ? { ttl: p.current.A.ttl, values: p.current.A.values } : null,
      AAAA: p.current.AAAA ? { ttl: p.current.AAAA.ttl, values: p.current.AAAA.values } : null,
    },
    health: (health.get(p.pool) ?? []).map((h) => ({ address: h.address, role: h.role, label: h.label, health: h.verdict.health, reason: h.verdict.reason })),
    actions: p.actions.map(actionJson),
    held: p.held.map(heldJson),
    alarms: p.alarms,
  });
}

function documentOf(report: CycleReport, meta: { controllerId: string; mode: string }, pools: unknown[]): Record<string, unknown> {
  return {
    version: 1,
    mode: meta.mode,
    dryRun: report.dryRun,
    controllerId: meta.controllerId,
    proberIsolation: report.proberIsolation ?? null,
    pools,
    providers: report.results.map((r) => ({
      name: r.provider,
      attempts: r.attempts,
      applied: r.applied ? { changes: r.applied.applied, notes: r.applied.notes } : null,
      error: r.error?.message ?? null,
    })),
    ipTakeover: report.ipTakeover
      ? {
          addresses: report.ipTakeover.addresses.map((a) => ({ ...a })),
          actions: report.ipTakeover.actions.map(ipActionJson),
          held: report.ipTakeover.held.map(ipHeldJson),
          moves: report.ipTakeover.moves.map((m) => ({
            action: ipActionJson(m.action),
            ok: m.ok,
            conflict: m.conflict,
            error: m.error ?? null,
            notes: m.notes,
            verify: m.verify ?? null,
          })),
          alarms: report.ipTakeover.alarms.map((a) => ({ pool: a.pool, text: a.text })),
        }
      : null,
    summary: summarize(report),
  };
}

/**
 * The JSON plan in parts whose concatenation is exactly `renderJson`: the document without its
 * pools, then each pool's entry, so a 10,000-member plan (2.4 MB) is never one object tree and
 * one string at once; write the parts as they come (`writeParts`).
 */
export function* renderJsonParts(report: CycleReport, meta: { controllerId: string; mode: string }): Generator<string> {
  const poolJson = poolJsonOf(report);
  const value = documentOf(report, meta, []);
  const whole = JSON.stringify(value, null, 2) + "\n";
  // The empty pools array at the top level: JSON strings hold no raw newline, so this is the key.
  const slot = '\n  "pools": [],\n';
  const at = whole.indexOf(slot);
  const plans = report.results.flatMap((r) => r.plans);
  if (plans.length === 0 || at < 0) {
    yield whole;
    return;
  }
  yield whole.slice(0, at) + '\n  "pools": [';
  let first = true;
  // Each pool stringified inside a one-pool document of the same shape, so JSON.stringify does
  // the indentation the whole document would have had; only the wrapper is cut off.
  const open = '{\n  "pools": [\n'.length;
  const close = "\n  ]\n}".length;
  for (const p of plans) {
    const one = JSON.stringify({ pools: [poolJson(p)] }, null, 2);
    yield (first ? "\n" : ",\n") + one.slice(open, one.length - close);
    first = false;
  }
  yield "\n  ]," + whole.slice(at + slot.length - 1);
}

/** Writes parts in batches of about 64 KiB. */
export function writeParts(out: { write(s: string): unknown }, parts: Iterable<string>): void {
  let batch = "";
  for (const part of parts) {
    batch += part;
    if (batch.length >= 65_536) {
      out.write(batch);
      batch = "";
    }
  }
  if (batch.length > 0) out.write(batch);
}

function colors(on: boolean) {
  const wrap = (code: string) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { bold: wrap("1"), dim: wrap("2"), red: wrap("31"), green: wrap("32"), yellow: wrap("33"), magenta: wrap("35") };
}
