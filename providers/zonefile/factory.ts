/**
 * The zone-file provider's factory: its config block (config.ts), the check beyond the schema,
 * and the loader step: `path` is relative to the config file. The provider itself (and the
 * parser, the editor, the lock) is imported only by `open`.
 */
import { resolve } from "node:path";
import { defineProvider } from "../factory.js";
import { checkZonefileBlock, zonefileConfigSchema } from "./config.js";

export const zonefileFactory = defineProvider({
  type: "zonefile",
  schema: zonefileConfigSchema,
  check: checkZonefileBlock,
  load: (config, { baseDir }) => ({ ...config, path: resolve(baseDir, config.path) }),
  open: async (config, ctx) => (await import("./index.js")).openZonefile(config, ctx),
});
