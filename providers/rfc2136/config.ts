/**
 * The config block of the RFC 2136 provider (DNS UPDATE signed with TSIG). Imports only zod: the
 * config loader reads this schema without loading the provider.
 */
import { z } from "zod";

const above = (max: number) => (iss: { input?: unknown }) => `${String(iss.input)} is above ${max}`;
const below = (min: number) => (iss: { input?: unknown }) => `${String(iss.input)} is below ${min}`;

export const rfc2136ConfigSchema = z
  .object({
    type: z.literal("rfc2136").describe("Provider type: dynamic updates (RFC 2136) signed with TSIG (RFC 8945) to the zone's primary name server."),
    server: z
      .string()
      .min(1)
      .describe("Address (or host name) of the primary name server that accepts updates for the zone, e.g. `192.0.2.53`."),
    port: z.number().int().min(1, { error: below(1) }).max(65535, { error: above(65535) }).default(53).describe("Its DNS port."),
    zone: z
      .string()
      .min(1)
      .optional()
      .describe("The zone apex, e.g. `example.com`. Checked against the server's SOA. Default: each pool's zone, found from the SOA the server returns for the pool name."),
    keyName: z.string().min(1).describe("The TSIG key's name, as in the server's `key \"…\" { … };` statement, e.g. `mailpool-update`."),
    algorithm: z
      .enum(["hmac-sha256", "hmac-sha512", "hmac-sha1"])
      .default("hmac-sha256")
      .describe("The TSIG key's algorithm. hmac-sha1 only for servers that know nothing newer."),
    secret: z
      .string()
      .min(1)
      // The message never repeats the value: it is a secret.
      .regex(/^\s*(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\s*$/, 'is not a base64 TSIG secret (the text tsig-keygen prints between the quotes after "secret")')
      .optional()
      .describe("The key's secret, base64 as tsig-keygen prints it. Write `${ENV_VAR}`, never the secret itself. Give this or `secretFile`. Never logged."),
    secretFile: z
      .string()
      .min(1)
      .optional()
      .describe("A file holding the secret: the base64 text alone, or a BIND key statement (tsig-keygen's output) for `keyName`. Relative to the config file. Give this or `secret`."),
    transport: z
      .enum(["udp", "tcp"])
      .default("udp")
      .describe("How updates travel: udp (falling back to TCP for a truncated answer or a message over 512 octets) or tcp. Reads always use TCP."),
    timeoutMs: z
      .number()
      .int()
      .min(100, { error: below(100) })
      .max(120_000, { error: above(120_000) })
      .default(5000)
      .describe("Deadline of one request and its answer, in milliseconds. A timeout is transient: the cycle re-reads and retries."),
    connectTimeoutMs: z
      .number()
      .int()
      .min(100, { error: below(100) })
      .max(120_000, { error: above(120_000) })
      .default(3000)
      .describe("Deadline of a TCP connect, in milliseconds."),
  })
  .strict()
  .superRefine((value, ctx) => {
    const given = [value.secret, value.secretFile].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: "custom",
        path: value.secret === undefined ? ["secretFile"] : ["secret"],
        message: given === 0 ? "give either secret or secretFile" : "give either secret or secretFile, not both",
      });
    }
  })
  .describe(
    "Writes the pools' A/AAAA RRsets with DNS UPDATE (RFC 2136) signed with TSIG: one message per zone per cycle, prerequisites as compare-and-swap.",
  );

/** The config block after parsing (defaults filled in). */
export type Rfc2136Config = z.output<typeof rfc2136ConfigSchema>;
/** The config block as written (defaults optional). */
export type Rfc2136ConfigInput = z.input<typeof rfc2136ConfigSchema>;
