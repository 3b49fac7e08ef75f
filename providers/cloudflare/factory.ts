/**
 * The Cloudflare provider's factory: its config block and the check beyond the schema (a token
 * left to the environment, pools outside `zoneName`). The Cloudflare SDK is imported only once
 * `open` runs.
 */
import { defineProvider } from "../factory.js";
import { checkCloudflareBlock, cloudflareConfigSchema } from "./config.js";

export const cloudflareFactory = defineProvider({
  type: "cloudflare",
  schema: cloudflareConfigSchema,
  check: checkCloudflareBlock,
  open: async (config, ctx) => (await import("./index.js")).openCloudflare(config, ctx),
});
