/**
 * The config block of the zone-file provider. Imports only zod: the config loader reads this
 * schema without loading the provider.
 */
import { z } from "zod";
import { normalizeName } from "../../src/util/names.js";
import { filledString, poolsOutside, zoneNameString, type BlockCheck } from "../block-check.js";

export const zonefileConfigSchema = z
  .object({
    type: z.literal("zonefile").describe("Provider type: a BIND master file on the local disk."),
    path: filledString("is empty: give the path of the zone file")
      .describe(
        "Path of the BIND master (zone) file to edit. Must not use $INCLUDE. A `<path>.lock` file is created next to it while writing.",
      ),
    origin: zoneNameString()
      .optional()
      .describe(
        "The zone apex, e.g. `example.com`. Default: the owner of the file's SOA record (or its first $ORIGIN).",
      ),
    reloadCommand: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        'Command run after every write, as an argv list without a shell, e.g. ["rndc", "reload", "example.com"]. A failed reload is retried at the next cycle.',
      ),
    reloadTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe("How long the reload command may run before it is killed, in milliseconds."),
    lockTimeoutMs: z
      .number()
      .int()
      .nonnegative()
      .default(10_000)
      .describe(
        "How long to wait for another writer's lock on the zone file before giving up (a transient error, retried), in milliseconds.",
      ),
    staleLockMs: z
      .number()
      .int()
      .min(10_000)
      .default(600_000)
      .describe(
        "A lock file older than this is taken over whoever holds it (a write holds it for milliseconds; a process killed mid-write on another host, e.g. a CronJob pod, never releases it), in milliseconds.",
      ),
  })
  .strict()
  .describe("Edits a BIND zone file in place (atomic rename, SOA serial bump) and optionally reloads the name server.");

/**
 * What the schema cannot see: pools outside `origin`. Whether the file exists is left to the run
 * (a read error, exit 1): the zone file is the name server's, and `validate` may run where it
 * is not mounted (CI, a laptop).
 */
export const checkZonefileBlock: BlockCheck<ZonefileConfig> = (c, ctx) =>
  c.origin !== undefined ? poolsOutside(normalizeName(c.origin), ctx.pools, "origin", "zone") : [];

/** The config block after parsing (defaults filled in). */
export type ZonefileConfig = z.output<typeof zonefileConfigSchema>;
/** The config block as written (defaults optional). */
export type ZonefileConfigInput = z.input<typeof zonefileConfigSchema>;
