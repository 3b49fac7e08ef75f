/** minHealthy: removals that would leave fewer addresses than this (per A/AAAA RRset) are held. */
import { z } from "zod";
import type { RRsetRule } from "./rule.js";

export const minHealthy = {
  name: "minHealthy",
  summary: "holds removals that would leave fewer addresses than minHealthy",
  judges: "rrset",
  bypass: "force",
  config: {
    scope: "pool",
    key: "minHealthy",
    schema: z.number().int().min(0).describe("Removals that would leave fewer addresses than this are held. Default 1."),
    default: 1,
  },
  check(step, { config }) {
    return step.sizeAfter < config ? `${step.what} would leave ${step.sizeAfter} address(es), fewer than minHealthy ${config}` : undefined;
  },
} as const satisfies RRsetRule<number>;
