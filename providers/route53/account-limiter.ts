/**
 * Route 53 throttles per AWS account (5 requests per second), not per zone or per client, so
 * every Route 53 provider of one account shares one token bucket. Accounts are told apart by
 * endpoint plus access key id (or profile name when the keys come from the default chain).
 */
import { RateLimiter } from "../../src/util/rate-limiter.js";

const limiters = new Map<string, RateLimiter>();

export const DEFAULT_ENDPOINT = "https://route53.amazonaws.com";

/** "https://route53.amazonaws.com|key:AKIA…" or "…|profile:default". */
export function accountKey(endpoint: string | undefined, accessKeyId: string | undefined, profile: string | undefined): string {
  const who = accessKeyId !== undefined ? `key:${accessKeyId}` : `profile:${profile ?? "default"}`;
  return `${endpoint ?? DEFAULT_ENDPOINT}|${who}`;
}

/**
 * The account's limiter, created on first use with that provider's rate. Burst 1: requests are
 * spaced evenly, so no one-second window holds more than the rate (other tools share the quota).
 */
export function accountLimiter(key: string, requestsPerSecond: number): RateLimiter {
  let limiter = limiters.get(key);
  if (!limiter) {
    limiter = new RateLimiter({ ratePerSecond: requestsPerSecond, burst: 1 });
    limiters.set(key, limiter);
  }
  return limiter;
}
