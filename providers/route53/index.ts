/**
 * The Route 53 provider module. The AWS SDK is loaded here only, with `await import()` inside
 * create(): a config without a Route 53 pool never loads it (test/providers/route53/lazy-import).
 */
import type { RateLimiter } from "../../src/util/rate-limiter.js";
import { parseBlock } from "../factory.js";
import type { Provider, ProviderContext } from "../types.js";
import { accountKey, accountLimiter } from "./account-limiter.js";
import { route53ConfigSchema, type Route53Config, type Route53ConfigInput } from "./config.js";
import type { Route53Api } from "./route53-api.js";
import { Route53Provider, type Route53ProviderOptions } from "./route53-provider.js";

export { route53ConfigSchema, type Route53Config } from "./config.js";

/** Side effects a test may replace. Everything defaults to the real thing. */
export interface Route53Deps {
  /** A ready client seam; when absent, the AWS SDK client is created. */
  readonly api?: Route53Api;
  /** Replaces the account's shared limiter. */
  readonly limiter?: RateLimiter;
  readonly now?: Route53ProviderOptions["now"];
  readonly sleep?: Route53ProviderOptions["sleep"];
  readonly pageSize?: number;
  /** Deadline of one HTTP attempt, ms. */
  readonly requestTimeoutMs?: number;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === "" ? undefined : v.trim());

/** A block handed over directly: validated with the factory's schema, then opened. */
export async function create(config: Route53ConfigInput, ctx: ProviderContext): Promise<Provider> {
  return createRoute53Provider(parseBlock(route53ConfigSchema, config, ctx.name), ctx);
}

export async function createRoute53Provider(config: Route53Config, ctx: ProviderContext, deps: Route53Deps = {}): Promise<Provider> {
  let api = deps.api;
  if (api === undefined) {
    const endpoint = config.endpoint ?? nonEmpty(ctx.env.AWS_ENDPOINT_URL_ROUTE_53) ?? nonEmpty(ctx.env.AWS_ENDPOINT_URL);
    const accessKeyId = nonEmpty(ctx.env.AWS_ACCESS_KEY_ID);
    const secretAccessKey = nonEmpty(ctx.env.AWS_SECRET_ACCESS_KEY);
    const sessionToken = nonEmpty(ctx.env.AWS_SESSION_TOKEN);
    const credentials =
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) }
        : undefined;
    const profile = credentials === undefined ? nonEmpty(ctx.env.AWS_PROFILE) : undefined;
    const limiter = deps.limiter ?? accountLimiter(accountKey(endpoint, accessKeyId, profile), config.requestsPerSecond);
    const { createSdkRoute53Api } = await import("./sdk-route53-api.js");
    api = createSdkRoute53Api({
      region: config.region,
      endpoint,
      credentials,
      profile,
      maxAttempts: config.maxAttempts,
      limiter,
      ...(deps.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: deps.requestTimeoutMs }),
    });
  }
  return new Route53Provider({
    config,
    ctx,
    api,
    ...(deps.now === undefined ? {} : { now: deps.now }),
    ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
    ...(deps.pageSize === undefined ? {} : { pageSize: deps.pageSize }),
  });
}
