/**
 * The RFC 2136 provider's factory: its config block and the loader step: `secretFile` is
 * relative to the config file. The secret itself is read by `open`, when the provider is made.
 */
import { resolve } from "node:path";
import { defineProvider } from "../factory.js";
import { rfc2136ConfigSchema } from "./config.js";

export const rfc2136Factory = defineProvider({
  type: "rfc2136",
  schema: rfc2136ConfigSchema,
  load: (config, { baseDir }) => (config.secretFile === undefined ? config : { ...config, secretFile: resolve(baseDir, config.secretFile) }),
  open: async (config, ctx) => (await import("./index.js")).createRfc2136Provider(config, ctx),
});
