/**
 * The production Route53Api: the AWS SDK v3 client, with every HTTP attempt (the SDK's own
 * retries included) taking a token from the account's rate limiter first. This is the only file
 * that imports the SDK at runtime; index.ts loads it with `await import()`.
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type Route53ClientConfig,
} from "@aws-sdk/client-route-53";
import type { FinalizeRequestMiddleware } from "@smithy/types";
import type { RateLimiter } from "../../src/util/rate-limiter.js";
import type { Route53Api } from "./route53-api.js";

export interface SdkRoute53ApiOptions {
  readonly region: string;
  readonly endpoint?: string | undefined;
  /** Explicit keys; when absent the SDK's default chain (env, profile, web identity/IRSA) applies. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  readonly profile?: string | undefined;
  readonly maxAttempts: number;
  readonly limiter: RateLimiter;
  /** Deadline of one HTTP attempt, ms. */
  readonly requestTimeoutMs?: number;
  readonly connectionTimeoutMs?: number;
}

export function createSdkRoute53Api(options: SdkRoute53ApiOptions): Route53Api {
  const config: Route53ClientConfig = {
    region: options.region,
    maxAttempts: options.maxAttempts,
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? 15_000,
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
    },
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  };
  const client = new Route53Client(config);
  // Per HTTP attempt: placed after the SDK's retry middleware, so its retries wait for tokens too.
  const rateLimit: FinalizeRequestMiddleware<object, object> = (next, context) => async (args) => {
    const signal = (context as { __smithy_context?: { abortSignal?: AbortSignal } }).__smithy_context?.abortSignal;
    await options.limiter.take(signal);
    return next(args);
  };
  client.middlewareStack.addRelativeTo(
    rateLimit as Parameters<typeof client.middlewareStack.addRelativeTo>[0],
    { name: "mailpoolRateLimit", relation: "after", toMiddleware: "retryMiddleware", override: true },
  );
  return {
    listHostedZonesByName: (input, signal) => client.send(new ListHostedZonesByNameCommand(input), { abortSignal: signal }),
    listResourceRecordSets: (input, signal) => client.send(new ListResourceRecordSetsCommand(input), { abortSignal: signal }),
    changeResourceRecordSets: (input, signal) =>
      client.send(new ChangeResourceRecordSetsCommand(input), { abortSignal: signal }),
    getChange: (input, signal) => client.send(new GetChangeCommand(input), { abortSignal: signal }),
    close: () => client.destroy(),
  };
}
