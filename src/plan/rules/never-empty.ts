/** neverEmpty: a pool never loses its last address (per A/AAAA RRset). */
import { z } from "zod";
import type { RRsetRule } from "./rule.js";

export const neverEmpty = {
  name: "neverEmpty",
  summary: "a pool never loses its last address",
  judges: "rrset",
  bypass: "force",
  config: {
    scope: "pool",
    key: "neverEmpty",
    schema: z.boolean().describe("A pool never loses its last address (per A/AAAA RRset). Default true."),
    default: true,
  },
  check(step, { pool, config }) {
    return config && step.sizeAfter < 1 ? `${step.what} would empty ${pool.name} ${step.type}; a pool never loses its last address` : undefined;
  },
} as const satisfies RRsetRule<boolean>;
