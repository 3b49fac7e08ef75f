/**
 * The Route 53 provider's factory: its config block, the check beyond the schema, and the one
 * pool-level key it reads, `recordStyle`. The AWS SDK is imported only once `open` runs (and
 * then only by the SDK wrapper that index.ts imports inside createRoute53Provider).
 */
import { defineProvider, poolOption } from "../factory.js";
import { checkRoute53Block, recordStyleSchema, route53ConfigSchema } from "./config.js";

export const route53Factory = defineProvider({
  type: "route53",
  schema: route53ConfigSchema,
  check: checkRoute53Block,
  poolOptions: {
    recordStyle: poolOption({
      schema: recordStyleSchema,
      default: "simple" as const,
      elsewhere: (style, provider) =>
        style === "multivalue" ? `multivalue is a Route 53 record style; provider ${provider.name} is ${provider.type}` : undefined,
    }),
  },
  open: async (config, ctx) => (await import("./index.js")).createRoute53Provider(config, ctx),
});
