/**
 * The config block of the Cloudflare provider. Imports only zod: the config loader reads this
 * schema without loading the provider (or the Cloudflare SDK).
 */
import { z } from "zod";
import { normalizeName } from "../../src/util/names.js";
import { filledString, isBlank, poolsOutside, zoneNameString, type BlockCheck } from "../block-check.js";

export const cloudflareConfigSchema = z
  .object({
    type: z.literal("cloudflare").describe("Provider type: Cloudflare DNS through the official API (v4)."),
    zoneId: z
      .string()
      .regex(/^[0-9a-f]{32}$/, "must be a Cloudflare zone id: 32 lower-case hex digits")
      .optional()
      .describe(
        "The zone's id (32 hex digits, on the zone's Overview page). Set this or `zoneName`; an id needs no Zone:Read permission.",
      ),
    zoneName: zoneNameString()
      .optional()
      .describe("The zone's name, e.g. `example.com`, looked up once (needs Zone:Read). Set this or `zoneId`."),
    apiToken: filledString("is empty: give an API token with Zone.DNS:Edit on the zone")
      .refine((s) => !/\$\{[^}]*\}/.test(s), "holds an unexpanded ${…} reference")
      .optional()
      .describe(
        "API token with Zone.DNS:Edit on the zone (plus Zone:Read when `zoneName` is used). Write `${CLOUDFLARE_API_TOKEN}`; default: the CLOUDFLARE_API_TOKEN environment variable. Never logged.",
      ),
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        "API base URL. Default: the CLOUDFLARE_BASE_URL environment variable, else https://api.cloudflare.com/client/v4.",
      ),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(3500)
      .default(200)
      .describe(
        "Most record operations in one batch request: 200 on the Free plan, 3,500 on Pro and above. One pool's changes stay in one batch whenever they fit.",
      ),
    maxRetries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(2)
      .describe("Retries the Cloudflare SDK makes itself on 5xx, connection errors and short rate-limit waits."),
    requestsPer5Minutes: z
      .number()
      .int()
      .min(1)
      .default(1200)
      .describe(
        "Request budget per API token per 5 minutes (Cloudflare's limit is 1,200), shared by every Cloudflare provider block using the same token.",
      ),
    timeoutMs: z
      .number()
      .int()
      .min(100)
      .max(300_000)
      .default(30_000)
      .describe("Deadline of one API request, in milliseconds (including its wait for the rate limiter)."),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.zoneId === undefined) === (c.zoneName === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: c.zoneId === undefined ? ["zoneId"] : ["zoneName"],
        message: "set exactly one of zoneId or zoneName",
      });
    }
  })
  .describe(
    "Cloudflare DNS: each address is its own record; changes of a cycle go out as one atomic batch per zone, after a re-read that checks nobody changed them.",
  );

/** What the schema cannot see: a token left to the environment, pools outside `zoneName`. */
export const checkCloudflareBlock: BlockCheck<CloudflareConfig> = (c, ctx) => [
  ...(c.apiToken === undefined && isBlank(ctx.env.CLOUDFLARE_API_TOKEN ?? "")
    ? [
        {
          path: ["apiToken"],
          message: `no Cloudflare API token: set apiToken (e.g. "\${CLOUDFLARE_API_TOKEN}") or the CLOUDFLARE_API_TOKEN environment variable to a token with Zone.DNS:Edit on the zone`,
        },
      ]
    : []),
  ...(c.zoneName !== undefined ? poolsOutside(normalizeName(c.zoneName), ctx.pools, "zoneName", "zone") : []),
];

/** The config block after parsing (defaults filled in). */
export type CloudflareConfig = z.output<typeof cloudflareConfigSchema>;
/** The config block as written (defaults optional). */
export type CloudflareConfigInput = z.input<typeof cloudflareConfigSchema>;
