/**
 * The config block of the Route 53 provider. Imports only zod: the config loader reads this
 * schema without loading the AWS SDK.
 */
import { z } from "zod";
import { normalizeName } from "../../src/util/names.js";
import { filledString, poolsOutside, zoneNameString, type BlockCheck } from "../block-check.js";

export const waitForSyncSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe("After writing, poll GetChange until Route 53 reports the change INSYNC (or the timeout passes)."),
    timeoutSeconds: z
      .number()
      .positive()
      .max(3600)
      .default(60)
      .describe("How long to wait for INSYNC before reporting the change still PENDING, in seconds."),
    pollSeconds: z
      .number()
      .positive()
      .max(300)
      .default(2)
      .describe("Time between two GetChange polls, in seconds. Every poll takes a token of the account's rate limit."),
  })
  .strict()
  .describe("Optional wait for propagation to every Route 53 name server; the outcome is reported in the apply notes.");

export const route53ConfigSchema = z
  .object({
    type: z.literal("route53").describe("Provider type: an Amazon Route 53 hosted zone."),
    hostedZoneId: filledString("is empty: give the hosted zone id, e.g. Z0123456789ABCDEFGHIJ")
      .regex(/^(\/hostedzone\/)?[A-Za-z0-9]+$/, "must be a hosted zone id such as Z0123456789ABCDEFGHIJ")
      .optional()
      .describe("The hosted zone id, e.g. `Z0123456789ABCDEFGHIJ` (a `/hostedzone/` prefix is accepted). Give this or `zoneName`."),
    zoneName: zoneNameString()
      .optional()
      .describe("The hosted zone's name, e.g. `example.com`, looked up with ListHostedZonesByName. Give this or `hostedZoneId`."),
    privateZone: z
      .boolean()
      .default(false)
      .describe("With `zoneName`: pick the private hosted zone of that name (true) or the public one (false) when both exist."),
    region: filledString("is empty: give an AWS region such as us-east-1, or leave the key out")
      .default("us-east-1")
      .describe("AWS region used to sign requests. Route 53 is global; leave us-east-1 unless a partition needs another."),
    endpoint: z
      .url()
      .optional()
      .describe("API endpoint URL for a local emulator or a proxy. Default: env AWS_ENDPOINT_URL_ROUTE_53, then the AWS endpoint."),
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe("Attempts the AWS SDK makes per API call (its own retries). mailpool re-reads and re-plans after that."),
    requestsPerSecond: z
      .number()
      .positive()
      .max(100)
      .default(5)
      .describe(
        "API requests per second for all Route 53 providers sharing one account (endpoint + access key or profile). Route 53 throttles above 5 per second per account.",
      ),
    waitForSync: waitForSyncSchema.prefault({}),
  })
  .strict()
  .superRefine((value, ctx) => {
    const given = [value.hostedZoneId, value.zoneName].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: "custom",
        path: value.hostedZoneId === undefined ? ["zoneName"] : ["hostedZoneId"],
        message: given === 0 ? "give either hostedZoneId or zoneName" : "give either hostedZoneId or zoneName, not both",
      });
    }
  })
  .describe(
    "Writes the pools' A/AAAA RRsets in one Amazon Route 53 hosted zone (one change batch per cycle, compare-and-swap by DELETE+CREATE).",
  );

/** What the schema cannot see: pools outside `zoneName` (with hostedZoneId, known only once read). */
export const checkRoute53Block: BlockCheck<Route53Config> = (c, ctx) =>
  c.zoneName !== undefined ? poolsOutside(normalizeName(c.zoneName), ctx.pools, "zoneName", "hosted zone") : [];

/**
 * The pool-level key Route 53 reads (`pools[i].recordStyle`): how a pool's addresses are kept.
 * A pool leaving it out is simple; another provider type accepts only simple.
 */
export const recordStyleSchema = z
  .enum(["simple", "multivalue"])
  .optional()
  .describe("Route 53 only: simple (one RRset, every address) or multivalue (one record set per member). Default simple.");

export type RecordStyle = NonNullable<z.output<typeof recordStyleSchema>>;

/** The record style of a pool as the provider context carries it (absent or unknown: simple). */
export function recordStyleOf(pool: { readonly [option: string]: unknown } | undefined): RecordStyle {
  const style = recordStyleSchema.safeParse(pool?.recordStyle);
  return (style.success && style.data) || "simple";
}

/** The config block after parsing (defaults filled in). */
export type Route53Config = z.output<typeof route53ConfigSchema>;
/** The config block as written (defaults optional). */
export type Route53ConfigInput = z.input<typeof route53ConfigSchema>;
