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
import { AsyncLocalStorage } from "node:async_hooks";
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

const callSignal = new AsyncLocalStorage<AbortSignal>();

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
  // Writes go through a client that makes one attempt: after a lost reply (a 502, a timeout)
  // the SDK's retry would find its own DELETEs gone and fail as a conflict. The controller
  // re-reads instead, sees whether the batch landed, and re-plans.
  const writer = new Route53Client({ ...config, maxAttempts: 1 });
  // Per HTTP attempt: placed after the SDK's retry middleware, so its retries wait for tokens too.
  // The SDK does not hand the call's AbortSignal to middleware, so each call carries it in
  // async-local storage: a cancelled cycle stops waiting for a token instead of spending one.
  const rateLimit: FinalizeRequestMiddleware<object, object> = (next) => async (args) => {
    await options.limiter.take(callSignal.getStore());
    return next(args);
  };
  for (const c of [client, writer]) {
    c.middlewareStack.addRelativeTo(
      rateLimit as Parameters<typeof c.middlewareStack.addRelativeTo>[0],
      { name: "mailpoolRateLimit", relation: "after", toMiddleware: "retryMiddleware", override: true },
    );
  }
  const call = <T>(signal: AbortSignal, send: () => Promise<T>): Promise<T> => callSignal.run(signal, send);
  return {
    listHostedZonesByName: (input, signal) =>
      call(signal, () => client.send(new ListHostedZonesByNameCommand(input), { abortSignal: signal })),
    listResourceRecordSets: (input, signal) =>
      call(signal, () => client.send(new ListResourceRecordSetsCommand(input), { abortSignal: signal })),
    changeResourceRecordSets: (input, signal) =>
      call(signal, () => writer.send(new ChangeResourceRecordSetsCommand(input), { abortSignal: signal })),
    getChange: (input, signal) => call(signal, () => client.send(new GetChangeCommand(input), { abortSignal: signal })),
    close: () => {
      client.destroy();
      writer.destroy();
    },
  };
}
