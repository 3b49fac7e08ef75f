/**
 * maxRemovePercent: at most this share of an A/AAAA RRset as read leaves it in one cycle (at
 * least one address may go, unless it is 0); the rest wait for the next cycle.
 */
import { z } from "zod";
import type { RRsetRule } from "./rule.js";

export const maxRemovePercent = {
  name: "maxRemovePercent",
  summary: "at most this share of an RRset leaves it in one cycle",
  judges: "rrset",
  bypass: "force",
  config: {
    scope: "pool",
    key: "maxRemovePercent",
    schema: z
      .number()
      .min(0)
      .max(100)
      .describe("Removals beyond this share of the live RRset in one cycle wait for the next (at least one may go). Default 50."),
    default: 50,
  },
  check(step, { pool, config }) {
    const budget = maxRemovals(step.liveSize, config);
    if (step.shrunk + step.shrink <= budget) return undefined;
    return `at most ${budget} of ${step.liveSize} address(es) (${config} %) leave ${pool.name} ${step.type} in one cycle; ${step.what} waits for the next`;
  },
} as const satisfies RRsetRule<number>;

/** How many addresses may leave an RRset of `size` in one cycle. */
export function maxRemovals(size: number, percent: number): number {
  if (percent <= 0) return 0;
  return Math.max(1, Math.floor((size * percent) / 100));
}
