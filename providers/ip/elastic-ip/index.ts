/** Builds the Elastic IP adapter: the SDK client from the environment's AWS settings (or a given seam). */
import type { IpAdapterContext } from "../index.js";
import type { IpAdapter } from "../types.js";
import type { ElasticIpConfig } from "./config.js";
import type { Ec2Api } from "./ec2-api.js";
import { ElasticIpAdapter } from "./elastic-ip-adapter.js";

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === "" ? undefined : v.trim());

export async function createElasticIpAdapter(config: ElasticIpConfig, ctx: IpAdapterContext, deps: { api?: Ec2Api; requestTimeoutMs?: number } = {}): Promise<IpAdapter> {
  let api = deps.api;
  if (api === undefined) {
    const accessKeyId = nonEmpty(ctx.env.AWS_ACCESS_KEY_ID);
    const secretAccessKey = nonEmpty(ctx.env.AWS_SECRET_ACCESS_KEY);
    const sessionToken = nonEmpty(ctx.env.AWS_SESSION_TOKEN);
    const credentials =
      accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) } : undefined;
    const { createSdkEc2Api } = await import("./sdk-ec2-api.js");
    api = createSdkEc2Api({
      region: config.region,
      endpoint: config.endpoint ?? nonEmpty(ctx.env.AWS_ENDPOINT_URL_EC2) ?? nonEmpty(ctx.env.AWS_ENDPOINT_URL),
      credentials,
      profile: credentials === undefined ? nonEmpty(ctx.env.AWS_PROFILE) : undefined,
      maxAttempts: config.maxAttempts,
      ...(deps.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: deps.requestTimeoutMs }),
    });
  }
  return new ElasticIpAdapter(config, api);
}
