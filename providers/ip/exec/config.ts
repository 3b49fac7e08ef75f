/** The exec (keepalived-style notify hook) IP takeover adapter's config block. Imports only zod. */
import { z } from "zod";

export const execIpConfigSchema = z
  .strictObject({
    type: z.literal("exec").describe("Move the address with a command of yours (keepalived-style notify hook)."),
    command: z
      .array(z.string().min(1, "is empty"))
      .min(1)
      .describe(
        "argv of the hook, run without a shell. The environment carries MAILPOOL_ACTION (takeover, return or status), MAILPOOL_ADDRESS, MAILPOOL_MEMBER (the member host's own address), MAILPOOL_STANDBY and PATH. Exit 0 is success. For status it prints the address of the host that holds the address now (the member's, the standby's) or `none`.",
      ),
    timeoutMs: z.number().int().min(100).max(600_000).default(10_000).describe("A hook still running after this long is killed and the move reported failed. Default 10000."),
  })
  .describe("IP takeover through a command of yours.");

export type ExecIpConfig = z.output<typeof execIpConfigSchema>;
