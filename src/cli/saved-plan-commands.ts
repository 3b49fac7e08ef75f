/**
 * The CLI side of saved plans: `plan --out FILE` writes one, `apply FILE` applies it (or refuses,
 * exit 1), `show FILE` prints it, and `apply` on a terminal asks before applying the plan it
 * just showed (it applies that very plan, through the same checks as `apply FILE`).
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { MinimalLogger } from "../../providers/types.js";
import type { Config } from "../config/load.js";
import type { CycleReport } from "../controller/cycle.js";
import { renderJson, renderText } from "../plan/render.js";
import { applyPlanFile, reportOfPlanFile, type ApplyPlanDeps } from "../saved-plan/apply-plan.js";
import { parsePlanFile, PlanFileError, serializePlanFile, type PlanFile } from "../saved-plan/plan-file.js";
import { UsageError } from "./usage-error.js";

export interface Out {
  write(s: string): unknown;
}

/** Writes a plan file atomically (a reader never sees half a plan). */
export function writePlanFile(path: string, file: PlanFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, serializePlanFile(file), { mode: 0o600 });
  renameSync(tmp, path);
}

export function readPlanFile(path: string): PlanFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new PlanFileError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parsePlanFile(text, path);
}

/** `mailpool show FILE`: the saved plan, as text (with its age and expiry) or as its own JSON. */
export function showPlanFile(path: string, output: "text" | "json", out: Out, now: Date): number {
  const file = readPlanFile(path);
  if (output === "json") {
    out.write(serializePlanFile(file));
    return 0;
  }
  const expired = now.getTime() >= Date.parse(file.expiresAt);
  out.write(
    `Saved plan ${path}: controller ${file.controllerId}, created ${file.createdAt}, ` +
      `${expired ? "EXPIRED" : "expires"} ${file.expiresAt}, config ${file.configHash.slice(0, 19)}…` +
      `${file.options.force ? ", planned with --force" : ""}\n\n`,
  );
  out.write(renderText(reportOfPlanFile(file), { color: false }));
  return 0;
}

export interface ApplyFileContext {
  readonly deps: ApplyPlanDeps;
  readonly output: "text" | "json";
  readonly out: Out;
  readonly err: Out;
  readonly color: boolean;
}

/** Applies a saved plan; a refusal is exit 1 with every reason, nothing changed. */
export async function applySavedPlan(file: PlanFile, source: string, ctx: ApplyFileContext): Promise<number> {
  const outcome = await applyPlanFile(file, ctx.deps);
  if (outcome.status === "refused") {
    if (ctx.output === "json") {
      ctx.out.write(JSON.stringify({ version: 1, mode: "apply", plan: source, status: "refused", reasons: outcome.reasons }) + "\n");
    }
    ctx.err.write(`mailpool: refusing to apply ${source}; nothing was changed:\n${outcome.reasons.map((r) => `  - ${r}`).join("\n")}\n`);
    return 1;
  }
  ctx.out.write(render(outcome.report, ctx, file.controllerId));
  return outcome.report.results.some((r) => r.error) ? 1 : 0;
}

const render = (report: CycleReport, ctx: { output: "text" | "json"; color: boolean }, controllerId: string): string =>
  ctx.output === "json" ? renderJson(report, { controllerId, mode: "apply" }) : renderText(report, { color: ctx.color });

/** "Apply 3 changes to 2 pools?" — what `apply` on a terminal asks. */
export function confirmQuestion(report: CycleReport): string | undefined {
  const plans = report.results.flatMap((r) => r.plans).filter((p) => p.actions.length > 0);
  const changes = plans.reduce((n, p) => n + p.actions.length, 0);
  if (changes === 0) return undefined;
  return `Apply ${changes} change${changes === 1 ? "" : "s"} to ${plans.length} pool${plans.length === 1 ? "" : "s"}? [y/N] `;
}

/**
 * Asks on `output` and reads one line from `input` (at most 1 KiB): true only for y/yes. End of
 * input, an abort or anything else is no.
 */
export function askYesNo(question: string, input: NodeJS.ReadableStream, output: Out, signal: AbortSignal): Promise<boolean> {
  output.write(question);
  return new Promise((resolve) => {
    const rl = createInterface({ input, terminal: false });
    let done = false;
    let seen = 0;
    const finish = (yes: boolean) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      input.removeListener("data", count);
      rl.close();
      resolve(yes);
    };
    const onAbort = () => finish(false);
    const count = (chunk: Buffer | string) => {
      seen += chunk.length;
      if (seen > 1024) finish(false);
    };
    if (signal.aborted) return finish(false);
    signal.addEventListener("abort", onAbort, { once: true });
    input.on("data", count);
    rl.once("line", (line) => finish(/^\s*(y|yes)\s*$/i.test(line)));
    rl.once("close", () => finish(false));
  });
}

/** `--max-age 15m`: a duration with a unit (s, m, h), e.g. 90s, 15m, 1h. */
export function parseDuration(v: string, name: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(v.trim());
  if (!m) throw new UsageError(`${name}: ${JSON.stringify(v)} is not a duration such as 90s, 15m or 1h`);
  const n = Number(m[1]);
  if (n <= 0) throw new UsageError(`${name}: must be above 0`);
  return n * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "s" | "m" | "h"];
}

export type { Config, MinimalLogger };
