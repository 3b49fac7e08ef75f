/**
 * `mailpool apply FILE`: applies exactly a saved plan, or refuses and changes nothing.
 *
 * Nothing in the file is taken on trust except what it says was read and probed:
 *  1. the file matches the schema (plan-file.ts), is not expired (`expiresAt`, and `--max-age`
 *     counted from `createdAt` on the injected clock), names this controller, and was made from
 *     the same config (configHash);
 *  2. its actions, held actions and RRset changes are re-derived from its own reads and health
 *     with the current config (planRound, the guard included) and must come out identical, so an
 *     edited `after`, an added action or a removed hold is refused;
 *  3. every RRset of every pool the plan changes is read again and must equal what the plan read
 *     (values, TTL, per-record state and the provider's native identity);
 * only then are the changes handed to the provider, with `before` the RRset just read — the
 * file's opaque `native` is compared, never written back — through the same compare-and-swap,
 * which refuses a change made between that read and the write.
 */
import { isDeepStrictEqual } from "node:util";
import type { ApplyResult, MinimalLogger, Provider, RRset, RRsetChange } from "../../providers/types.js";
import { isConflict, keyOf } from "../../providers/types.js";
import type { Config } from "../config/load.js";
import type { CycleReport } from "../controller/cycle.js";
import { planRound, poolKeys } from "../plan/plan-round.js";
import type { ReconcileResult } from "../plan/report.js";
import { addressKey } from "../health/probe-round.js";
import type { Action, HealthView, HeldAction, PoolPlan, PoolSpec, Verdict } from "../model.js";
import { changeWindowHold } from "../plan/rules/change-window.js";
import { detectProberIsolation } from "../plan/rules/prober-isolation.js";
import { configHash } from "./config-hash.js";
import { plain, savedChange, savedPoolPlan, type PlanFile, type SavedRRset } from "./plan-file.js";

/** Clock skew tolerated for a plan made on another machine whose clock runs ahead. */
const FUTURE_SKEW_MS = 5 * 60_000;

export interface ApplyPlanDeps {
  readonly config: Config;
  /** `apply FILE --force`: acknowledges a plan made with --force (its safety rules were off). */
  readonly force?: boolean;
  readonly provider: (name: string) => Promise<Provider>;
  readonly now: () => Date;
  readonly maxAgeMs: number;
  readonly signal: AbortSignal;
  readonly logger: MinimalLogger;
}

export type ApplyPlanOutcome =
  | { readonly status: "refused"; readonly reasons: readonly string[] }
  | { readonly status: "applied"; readonly report: CycleReport };

/** Checks that need no provider: schema aside (done by parsePlanFile), age, identity, config. */
export function staticRefusals(file: PlanFile, config: Config, now: Date, maxAgeMs: number): string[] {
  const reasons: string[] = [];
  const created = Date.parse(file.createdAt);
  const expires = Date.parse(file.expiresAt);
  const age = now.getTime() - created;
  if (created - now.getTime() > FUTURE_SKEW_MS) reasons.push(`the plan was created at ${file.createdAt}, in the future by this clock (${now.toISOString()})`);
  if (expires <= created) reasons.push(`the plan's expiresAt ${file.expiresAt} is not after its createdAt ${file.createdAt}`);
  if (now.getTime() >= expires) reasons.push(`the plan expired at ${file.expiresAt} (it is now ${now.toISOString()}); health moves on: plan again`);
  else if (age > maxAgeMs) reasons.push(`the plan is ${minutes(age)} old, more than --max-age ${minutes(maxAgeMs)}; health moves on: plan again`);
  if (file.controllerId !== config.controllerId) reasons.push(`the plan was made by controller ${file.controllerId}, not ${config.controllerId}`);
  const hash = configHash(config);
  if (file.configHash !== hash) reasons.push(`the config changed since the plan was made (plan ${file.configHash.slice(0, 19)}…, now ${hash.slice(0, 19)}…): plan again`);
  // A plan made inside the change window is not applied after it closed.
  if (!file.options.force) {
    for (const pp of file.providers.flatMap((p) => p.pools)) {
      const spec = config.pools.find((x) => x.name === pp.pool)?.safety.changeWindow;
      for (const a of pp.actions) {
        const why = changeWindowHold(a as Action, spec, now);
        if (why !== undefined) reasons.push(`pool ${pp.pool}: ${a.kind} ${a.address ?? ""} would be held by changeWindow now: ${why}`.replace("  ", " "));
      }
    }
  }
  return reasons;
}

/** Re-derives each provider's plan from the file's own reads and health; returns what differs. */
export function derivationRefusals(file: PlanFile, config: Config): string[] {
  const reasons: string[] = [];
  const health = healthViewOf(file);
  // Prober isolation is judged from the plan's own health, across the plan's pools, as the cycle did.
  const planned = config.pools.filter((p) => file.providers.some((x) => x.pools.some((pp) => pp.pool === p.name)));
  const isolation = config.proberIsolation.enabled ? detectProberIsolation(planned, health, config.proberIsolation.threshold) : undefined;
  if ((isolation ?? null) !== file.proberIsolation) {
    reasons.push(`the plan's proberIsolation (${JSON.stringify(file.proberIsolation)}) is not what its own health says (${JSON.stringify(isolation ?? null)}); was the file edited?`);
  }
  const seen = new Set<string>();
  for (const p of file.providers) {
    if (!config.providers[p.name]) {
      reasons.push(`provider ${p.name} is not in the config`);
      continue;
    }
    const pools: PoolSpec[] = [];
    for (const pp of p.pools) {
      const spec = config.pools.find((x) => x.name === pp.pool);
      if (!spec) reasons.push(`pool ${pp.pool} is not in the config`);
      else if (spec.provider !== p.name) reasons.push(`pool ${pp.pool} uses provider ${spec.provider} in the config, not ${p.name}`);
      else if (seen.has(pp.pool)) reasons.push(`pool ${pp.pool} appears twice in the plan`);
      else pools.push(spec);
      seen.add(pp.pool);
    }
    if (pools.length !== p.pools.length) continue;
    const rrsets = p.pools.flatMap((pp) => [pp.read.A, pp.read.AAAA, pp.read.marker].filter((r): r is SavedRRset => r !== null)) as RRset[];
    for (const pp of p.pools) {
      for (const [slot, r, want] of [
        ["A", pp.read.A, { name: pp.pool, type: "A" }],
        ["AAAA", pp.read.AAAA, { name: pp.pool, type: "AAAA" }],
        ["marker", pp.read.marker, poolKeys({ name: pp.pool } as PoolSpec)[2]!],
      ] as const) {
        if (r !== null && (r.name !== want.name || r.type !== want.type)) reasons.push(`pool ${pp.pool}: read.${slot} is ${r.name} ${r.type}, not ${want.name} ${want.type}`);
      }
    }
    const round = planRound(
      {
        pools,
        health,
        controllerId: config.controllerId,
        providerName: p.name,
        force: file.options.force,
        adopt: file.options.adopt,
        ...(file.proberIsolation !== null ? { proberIsolation: file.proberIsolation } : {}),
        // The change window as it was when the plan was made; apply checks it again for now.
        now: () => new Date(file.createdAt),
      },
      rrsets,
    );
    for (const [i, derived] of round.plans.map(savedPoolPlan).entries()) {
      const saved = p.pools[i]!;
      for (const part of ["actions", "held"] as const) {
        if (!isDeepStrictEqual(plain(derived[part]), plain(saved[part]))) {
          reasons.push(`pool ${saved.pool}: the plan's ${part} do not follow from its own reads and health under this config (was the file edited?)`);
        }
      }
    }
    const derivedChanges = round.changes.map(savedChange);
    if (!isDeepStrictEqual(plain(derivedChanges), plain(p.changes))) {
      const keys = (cs: readonly { key: { name: string; type: string } }[]) => cs.map((c) => `${c.key.name} ${c.key.type}`).join(", ") || "none";
      reasons.push(
        `provider ${p.name}: the plan's RRset changes (${keys(p.changes)}) are not what its actions make of what it read (${keys(derivedChanges)}); a before or after was edited`,
      );
    }
  }
  return reasons;
}

export async function applyPlanFile(file: PlanFile, deps: ApplyPlanDeps): Promise<ApplyPlanOutcome> {
  const reasons = [...staticRefusals(file, deps.config, deps.now(), deps.maxAgeMs), ...derivationRefusals(file, deps.config)];
  if (file.options.force && !deps.force) {
    reasons.push("the plan was made with --force (every safety rule but ownership off): apply it with --force to say so");
  }
  if (reasons.length > 0) return { status: "refused", reasons };

  // Every RRset of every pool the plan changes must still be what the plan read.
  const live = new Map<string, { provider: Provider; rrsets: Map<string, RRset> }>();
  for (const p of file.providers) {
    if (p.changes.length === 0) continue;
    let provider: Provider;
    let rrsets: RRset[];
    try {
      provider = await deps.provider(p.name);
      rrsets = await provider.read(
        p.pools.flatMap((pp) => poolKeys({ name: pp.pool } as PoolSpec)),
        deps.signal,
      );
    } catch (err) {
      return { status: "refused", reasons: [`provider ${p.name}: cannot re-read the records to check them: ${err instanceof Error ? err.message : String(err)}`] };
    }
    const byKey = new Map(rrsets.map((r) => [keyOf(r), r]));
    for (const pp of p.pools) {
      for (const [type, saved] of [
        ["A", pp.read.A],
        ["AAAA", pp.read.AAAA],
        ["TXT", pp.read.marker],
      ] as const) {
        const key = type === "TXT" ? keyOf(poolKeys({ name: pp.pool } as PoolSpec)[2]!) : `${pp.pool} ${type}`;
        const now = byKey.get(key);
        const difference = rrsetDifference(saved, now, provider.sameVersion?.bind(provider));
        if (difference) reasons.push(`${key} changed since the plan was made: ${difference}`);
      }
    }
    live.set(p.name, { provider, rrsets: byKey });
  }
  if (reasons.length > 0) return { status: "refused", reasons: [...reasons, "nothing was changed; plan again"] };

  const results: ReconcileResult[] = [];
  for (const p of file.providers) {
    const at = live.get(p.name);
    const plans = poolPlansOf(p);
    if (!at) {
      results.push({ provider: p.name, plans, applied: null, attempts: 1 });
      continue;
    }
    const changes: RRsetChange[] = p.changes.map((c) => ({
      key: c.key,
      // The RRset just read and compared, not the file's copy: the file's native is never used.
      before: at.rrsets.get(keyOf(c.key)) ?? null,
      after: c.after,
      pool: c.pool,
      ...(c.leave ? { leave: c.leave } : {}),
    }));
    try {
      const pending = (await at.provider.finishPending?.(deps.signal)) ?? [];
      const applied: ApplyResult = await at.provider.apply(changes, deps.signal);
      results.push({ provider: p.name, plans, applied: { applied: applied.applied, notes: [...pending, ...applied.notes] }, attempts: 1 });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const message = isConflict(err) ? `changed between the check and the write (${error.message}); nothing of this provider's batch was written: plan again` : error.message;
      deps.logger.error({ provider: p.name, err: error.message }, "applying the saved plan failed");
      results.push({ provider: p.name, plans, applied: null, attempts: 1, error: new Error(message, { cause: err }) });
    }
  }
  return { status: "applied", report: { dryRun: false, results, health: healthEntriesOf(file), ...(file.proberIsolation !== null ? { proberIsolation: file.proberIsolation } : {}) } };
}

/** Why a live RRset is not the one a plan read, in words, or "" when it is. */
export function rrsetDifference(saved: SavedRRset | null, live: RRset | undefined, sameVersion?: (saved: RRset, live: RRset) => boolean): string {
  if (saved === null) return live === undefined ? "" : `it did not exist, now it holds ${live.values.join(" ") || "(nothing)"} (ttl ${live.ttl})`;
  if (live === undefined) return `it held ${saved.values.join(" ")}, now it does not exist`;
  const now = plain(live) as SavedRRset;
  if (!isDeepStrictEqual([...saved.values].sort(), [...now.values].sort())) return `values ${saved.values.join(" ")} → ${now.values.join(" ")}`;
  if (saved.ttl !== now.ttl) return `ttl ${saved.ttl} → ${now.ttl}`;
  const byValue = (r: SavedRRset) => (r.records ? [...r.records].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)) : null);
  if (!isDeepStrictEqual(byValue(saved), byValue(now))) return "a record's own TTL or flags changed";
  if (!isDeepStrictEqual(saved.drift ?? null, now.drift ?? null)) return "its drift changed";
  const same = sameVersion ? sameVersion(saved as RRset, live) : isDeepStrictEqual(saved.native ?? null, now.native ?? null);
  if (!same) return "the provider's records behind it changed (same values, different records)";
  return "";
}

export function healthViewOf(file: PlanFile): HealthView {
  const byKey = new Map<string, Verdict>(file.health.map((h) => [addressKey(h.pool, h.address), { health: h.health, reason: h.reason }]));
  return (pool, address) => byKey.get(addressKey(pool, address)) ?? { health: "unknown", reason: "not probed in this plan" };
}

export function healthEntriesOf(file: PlanFile): CycleReport["health"] {
  return file.health.map((h) => ({ pool: h.pool, address: h.address, role: h.role, label: h.label, verdict: { health: h.health, reason: h.reason } }));
}

export function poolPlansOf(p: PlanFile["providers"][number]): PoolPlan[] {
  return p.pools.map((pp) => ({
    pool: pp.pool,
    provider: p.name,
    current: {
      ...(pp.read.A ? { A: pp.read.A as RRset } : {}),
      ...(pp.read.AAAA ? { AAAA: pp.read.AAAA as RRset } : {}),
      ...(pp.read.marker ? { marker: pp.read.marker as RRset } : {}),
    },
    actions: pp.actions as Action[],
    held: pp.held as HeldAction[],
    alarms: pp.alarms,
  }));
}

/** A saved plan as a dry-run report, for `mailpool show` (render.ts prints it). */
export function reportOfPlanFile(file: PlanFile): CycleReport {
  return {
    dryRun: true,
    results: file.providers.map((p) => ({ provider: p.name, plans: poolPlansOf(p), applied: null, attempts: 1 })),
    health: healthEntriesOf(file),
    ...(file.proberIsolation !== null ? { proberIsolation: file.proberIsolation } : {}),
  };
}

const minutes = (ms: number): string => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${(ms / 60_000).toFixed(1)} min`);
