/**
 * The saved plan (`mailpool plan --out FILE`): what a dry run read, judged and decided, as one
 * versioned JSON document that `mailpool apply FILE` applies exactly and `mailpool show FILE`
 * prints. The format is docs/plan-json.md ("Saved plans"); the zod schema below is what a file
 * must match to be applied at all (unknown keys are refused, like in the config).
 */
import { z } from "zod";
import type { RRset, RRsetChange } from "../../providers/types.js";
import type { Config } from "../config/load.js";
import type { CycleReport } from "../controller/cycle.js";
import type { Action, HeldAction, PoolPlan } from "../model.js";
import { configHash } from "./config-hash.js";

export const PLAN_FORMAT = "mailpool-plan";
export const PLAN_VERSION = 1;
/** How long a saved plan stays applicable unless `--max-age` says otherwise: health moves on. */
export const DEFAULT_MAX_AGE_MS = 15 * 60_000;

const rrTypeSchema = z.enum(["A", "AAAA", "TXT"]);

const rrsetSchema = z.strictObject({
  name: z.string().min(1),
  type: rrTypeSchema,
  ttl: z.number().int().min(0),
  values: z.array(z.string()),
  drift: z.array(z.string()).optional(),
  records: z
    .array(z.strictObject({ value: z.string(), ttl: z.number().int().min(0), drift: z.array(z.string()), breaksName: z.string().optional() }))
    .optional(),
  /** Provider-specific and opaque: compared with the live RRset's on apply, never written back. */
  native: z.unknown().optional(),
});

// kind and type are any text here: apply re-derives every action and requires equality, so an
// unknown kind is refused there, and a kind added to the planner needs no change of this schema.
const actionSchema = z.strictObject({
  pool: z.string(),
  type: z.string(),
  kind: z.string(),
  address: z.string().optional(),
  standby: z.string().optional(),
  fromTtl: z.number().int().optional(),
  toTtl: z.number().int().optional(),
  reason: z.string(),
});

const heldSchema = z.strictObject({
  action: actionSchema,
  rule: z.string(),
  why: z.string(),
});

const changeSchema = z.strictObject({
  key: z.strictObject({ name: z.string(), type: rrTypeSchema }),
  before: rrsetSchema.nullable(),
  after: z.strictObject({ ttl: z.number().int().min(0), values: z.array(z.string()) }).nullable(),
  pool: z.string(),
  leave: z.array(z.string()).optional(),
});

const healthSchema = z.strictObject({
  pool: z.string(),
  address: z.string(),
  role: z.enum(["member", "standby", "host"]),
  label: z.string(),
  health: z.enum(["up", "down", "unknown"]),
  reason: z.string(),
  /** The probe evidence: the latest observation per check (for people; not used to apply). */
  observations: z.record(z.string(), z.unknown()).optional(),
});

const poolPlanSchema = z.strictObject({
  pool: z.string(),
  /** The RRsets read before planning (absent ones are null): what apply insists is still live. */
  read: z.strictObject({ A: rrsetSchema.nullable(), AAAA: rrsetSchema.nullable(), marker: rrsetSchema.nullable() }),
  actions: z.array(actionSchema),
  held: z.array(heldSchema),
  alarms: z.array(z.string()),
});

export const planFileSchema = z.strictObject({
  format: z.literal(PLAN_FORMAT),
  version: z.literal(PLAN_VERSION),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  controllerId: z.string().min(1),
  /** "sha256:<hex>" of the loaded config (config-hash.ts). */
  configHash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** The config file's path when planned (for people; the hash is what is checked). */
  configSource: z.string().nullable(),
  options: z.strictObject({
    force: z.boolean(),
    adopt: z.boolean(),
    pools: z.array(z.string()).nullable(),
  }),
  proberIsolation: z.string().nullable(),
  health: z.array(healthSchema),
  providers: z.array(
    z.strictObject({
      name: z.string(),
      pools: z.array(poolPlanSchema),
      /** The compare-and-swap edits: `before` exactly as read, `after` what the RRset becomes. */
      changes: z.array(changeSchema),
    }),
  ),
});

export type PlanFile = z.output<typeof planFileSchema>;
export type SavedRRset = z.output<typeof rrsetSchema>;

/** A saved plan that cannot be read, or that does not match its schema. */
export class PlanFileError extends Error {
  override readonly name = "PlanFileError";
}

export interface BuildOptions {
  readonly config: Config;
  readonly report: CycleReport;
  readonly now: Date;
  readonly maxAgeMs?: number;
  readonly force: boolean;
  readonly adopt: boolean;
  readonly pools?: readonly string[];
}

/** The saved plan of a dry-run cycle. Refuses a report with a provider error: it read too little. */
export function buildPlanFile(o: BuildOptions): PlanFile {
  const failed = o.report.results.filter((r) => r.error);
  if (failed.length > 0) {
    throw new PlanFileError(`not saving a plan: ${failed.map((r) => `provider ${r.provider}: ${r.error!.message}`).join("; ")}`);
  }
  const file: PlanFile = {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    createdAt: o.now.toISOString(),
    expiresAt: new Date(o.now.getTime() + (o.maxAgeMs ?? DEFAULT_MAX_AGE_MS)).toISOString(),
    controllerId: o.config.controllerId,
    configHash: configHash(o.config),
    configSource: o.config.source ?? null,
    options: { force: o.force, adopt: o.adopt, pools: o.pools ? [...o.pools] : null },
    proberIsolation: o.report.proberIsolation ?? null,
    health: o.report.health.map((h) => ({
      pool: h.pool,
      address: h.address,
      role: h.role,
      label: h.label,
      health: h.verdict.health,
      reason: h.verdict.reason,
      ...(h.verdict.observations ? { observations: plain(h.verdict.observations) as Record<string, unknown> } : {}),
    })),
    providers: o.report.results.map((r) => ({
      name: r.provider,
      pools: r.plans.map(savedPoolPlan),
      changes: (r.changes ?? []).map(savedChange),
    })),
  };
  // What is written is what the schema accepts: a plan we could not apply is never saved.
  return planFileSchema.parse(file);
}

export function savedPoolPlan(p: PoolPlan): PlanFile["providers"][number]["pools"][number] {
  return {
    pool: p.pool,
    read: { A: savedRRset(p.current.A), AAAA: savedRRset(p.current.AAAA), marker: savedRRset(p.current.marker) },
    actions: p.actions.map(savedAction),
    held: p.held.map(savedHeld),
    alarms: [...p.alarms],
  };
}

export const savedAction = (a: Action) => plain(a) as z.output<typeof actionSchema>;
const savedHeld = (h: HeldAction) => plain(h) as z.output<typeof heldSchema>;
export const savedChange = (c: RRsetChange) => plain(c) as z.output<typeof changeSchema>;
export const savedRRset = (r: RRset | undefined): SavedRRset | null => (r === undefined ? null : (plain(r) as SavedRRset));

/** A value as JSON sees it (undefined keys dropped): how saved and recomputed values compare. */
export function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

export function serializePlanFile(file: PlanFile): string {
  return JSON.stringify(file, null, 2) + "\n";
}

/** Parses and schema-checks a saved plan; every problem is named with its place. */
export function parsePlanFile(text: string, source = "plan file"): PlanFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new PlanFileError(`${source}: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (data !== null && typeof data === "object" && "format" in data && (data as { format: unknown }).format === PLAN_FORMAT) {
    const version = (data as { version?: unknown }).version;
    if (version !== PLAN_VERSION) {
      throw new PlanFileError(`${source}: plan format version ${JSON.stringify(version)} is not supported (this mailpool reads version ${PLAN_VERSION})`);
    }
  }
  const parsed = planFileSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 10).map((i) => `${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`);
    throw new PlanFileError(`${source}: not a mailpool plan file:\n  ${problems.join("\n  ")}`);
  }
  return parsed.data;
}
