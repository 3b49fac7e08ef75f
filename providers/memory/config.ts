/**
 * The config block of the in-memory provider (tests and `mailpool demo`). Imports only zod: the
 * config loader reads this schema without loading the provider.
 */
import { z } from "zod";

const MAX_TTL = 2 ** 31 - 1;

const memoryRecordSchema = z
  .object({
    name: z.string().min(1).describe("Owner name of the RRset, e.g. `smtp.example.com`."),
    type: z.enum(["A", "AAAA", "TXT"]).describe("Record type."),
    ttl: z.number().int().min(0).max(MAX_TTL).describe("TTL of the RRset in seconds."),
    values: z
      .array(z.string())
      .min(1)
      .describe("The RRset's values: IPv4 addresses (A), IPv6 addresses (AAAA), or unquoted text (TXT)."),
  })
  .strict()
  .superRefine((record, ctx) => {
    if (record.type === "TXT") return;
    const check = record.type === "A" ? z.ipv4() : z.ipv6();
    record.values.forEach((value, i) => {
      if (!check.safeParse(value).success) {
        ctx.addIssue({
          code: "custom",
          path: ["values", i],
          message: `not an IPv${record.type === "A" ? 4 : 6} address: ${JSON.stringify(value)}`,
        });
      }
    });
  })
  .describe("One RRset the provider starts with.");

export const memoryConfigSchema = z
  .object({
    type: z.literal("memory").describe("Provider type: records kept in memory (tests and the demo); nothing leaves the process."),
    records: z.array(memoryRecordSchema).optional().describe("The RRsets the provider starts with."),
  })
  .strict()
  .describe("An in-memory DNS provider for tests and `mailpool demo`.");

export type MemoryConfig = z.output<typeof memoryConfigSchema>;
export type MemoryConfigInput = z.input<typeof memoryConfigSchema>;
export type MemoryRecord = z.output<typeof memoryRecordSchema>;
