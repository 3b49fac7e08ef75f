/** The AWS Elastic IP takeover adapter's config block. Imports only zod (not the AWS SDK). */
import { z } from "zod";

const hostSchema = z
  .strictObject({
    instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/, "must be an EC2 instance id such as i-0123456789abcdef0").optional().describe("The host's EC2 instance (its primary network interface)."),
    networkInterfaceId: z
      .string()
      .regex(/^eni-[0-9a-f]{8,17}$/, "must be a network interface id such as eni-0123456789abcdef0")
      .optional()
      .describe("The host's elastic network interface (give this or instanceId)."),
    privateIpAddress: z.ipv4().optional().describe("With networkInterfaceId: the private address of the interface to associate with. Default: its primary."),
  })
  .superRefine((v, ctx) => {
    const given = [v.instanceId, v.networkInterfaceId].filter((x) => x !== undefined).length;
    if (given !== 1) ctx.addIssue({ code: "custom", path: ["instanceId"], message: given === 0 ? "give instanceId or networkInterfaceId" : "give instanceId or networkInterfaceId, not both" });
    if (v.privateIpAddress !== undefined && v.networkInterfaceId === undefined) ctx.addIssue({ code: "custom", path: ["privateIpAddress"], message: "is only meaningful with networkInterfaceId" });
  });

export const elasticIpConfigSchema = z
  .strictObject({
    type: z.literal("elastic-ip").describe("Re-associate an AWS Elastic IP between EC2 instances or network interfaces."),
    region: z.string().min(1, "is empty").describe("AWS region of the Elastic IPs, e.g. eu-west-1."),
    endpoint: z.url().optional().describe("EC2 API endpoint URL for an emulator or a proxy. Default: env AWS_ENDPOINT_URL_EC2, then the AWS endpoint."),
    maxAttempts: z.number().int().min(1).max(10).default(3).describe("Attempts the AWS SDK makes per read (its own retries). A move is one attempt; mailpool re-reads after a failure."),
    hosts: z
      .record(z.string(), hostSchema)
      .describe("Each host mailpool may move an Elastic IP to, by its own address (a member's hostAddress, a standby): the instance or network interface it is."),
  })
  .describe("IP takeover with AWS Elastic IPs.");

export type ElasticIpConfig = z.output<typeof elasticIpConfigSchema>;
export type ElasticIpHost = z.output<typeof hostSchema>;
