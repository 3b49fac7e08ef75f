/**
 * proberIsolation: when more than `threshold` of all judged members across at least two pools
 * are down at once, the likelier story is that the prober lost its network: every removal and
 * takeover is held. The judgement looks across pools, so the controller makes it
 * (detectProberIsolation, from the top-level `proberIsolation` block) and hands the guard its
 * reason; a single pool is failOpen's business.
 */
import { z } from "zod";
import { memberHealthAddress, type HealthView, type PoolSpec } from "../../model.js";
import { isFailureDriven, type ActionRule } from "./rule.js";

export const proberIsolationConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Hold every removal when most members of all pools fail at once."),
    threshold: z.number().gt(0).lt(1).default(0.5).describe("Share of members down (across two or more pools) above which the prober is presumed cut off."),
  })
  .prefault({})
  .describe("Prober isolation rule.");

export const proberIsolation = {
  name: "proberIsolation",
  summary: "holds removals and takeovers when most members of all pools failed at once",
  judges: "action",
  bypass: "force",
  config: { scope: "global", key: "proberIsolation", schema: proberIsolationConfigSchema },
  check(subject, { ctx }) {
    return ctx.proberIsolation !== undefined && isFailureDriven(subject.kind) ? ctx.proberIsolation : undefined;
  },
} as const satisfies ActionRule;

/**
 * Prober isolation: when more than `threshold` of all judged members across at least two pools
 * (pools with at least one judged member) are down
 * at once, the likelier story is that the prober lost its network. Returns the reason, or
 * undefined.
 */
export function detectProberIsolation(
  pools: readonly PoolSpec[],
  health: HealthView,
  threshold: number,
): string | undefined {
  let total = 0;
  let down = 0;
  let judgedPools = 0;
  for (const p of pools) {
    const verdicts = p.members.map((m) => health(p.name, memberHealthAddress(m)).health).filter((h) => h !== "unknown");
    if (verdicts.length > 0) judgedPools += 1;
    total += verdicts.length;
    down += verdicts.filter((h) => h === "down").length;
  }
  if (judgedPools < 2 || down / total <= threshold) return undefined;
  return `${down} of ${total} members across ${judgedPools} pools failed at once (more than ${Math.round(threshold * 100)} %); the prober may be the one cut off, so no address is removed`;
}
