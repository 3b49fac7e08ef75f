/**
 * The in-memory provider's factory (tests and `mailpool demo`): a schema of the RRsets it starts
 * with, nothing to resolve, nothing to check beyond the schema.
 */
import { defineProvider } from "../factory.js";
import { memoryConfigSchema } from "./config.js";

export const memoryFactory = defineProvider({
  type: "memory",
  schema: memoryConfigSchema,
  open: async (config, ctx) => (await import("./index.js")).openMemory(config, ctx),
});
