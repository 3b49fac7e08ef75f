/**
 * The Cloudflare provider module. The Cloudflare SDK is imported inside create(), so a config
 * without a Cloudflare provider never loads it: nothing in this file's static import graph imports
 * "cloudflare" at run time (sdk-client.ts only imports its types).
 */
import type Cloudflare from "cloudflare";
import { isInZone, normalizeName } from "../../src/util/names.js";
import { TTL_MAX, TTL_MIN } from "../../src/config/ttl-window.js";
import { parseBlock } from "../factory.js";
import { ProviderConfigError, type Provider, type ProviderContext } from "../types.js";
import type { CloudflareClient } from "./client.js";
import { cloudflareConfigSchema, type CloudflareConfig, type CloudflareConfigInput } from "./config.js";
import { LimiterRegistry, limitedFetch, sharedLimiters } from "./limited-fetch.js";
import { CloudflareProvider } from "./provider.js";
import { createSdkClient } from "./sdk-client.js";

export const DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4";

/** Side effects a test may replace. */
export interface CloudflareDeps {
  /** Rate limiters by token; default: the process-wide registry. */
  readonly limiters?: LimiterRegistry;
  /** The fetch under the limiter; default: globalThis.fetch. */
  readonly fetch?: typeof globalThis.fetch;
  /** Loads the SDK class; default: `await import("cloudflare")`. */
  readonly loadSdk?: () => Promise<typeof Cloudflare>;
  /** Records per list page (tests use small pages). */
  readonly perPage?: number;
}

/** A block handed over directly: validated with the factory's schema, then opened. */
export async function createCloudflareProvider(
  config: CloudflareConfigInput,
  ctx: ProviderContext,
  deps: CloudflareDeps = {},
): Promise<CloudflareProvider> {
  return openCloudflare(parseBlock(cloudflareConfigSchema, config, ctx.name), ctx, deps);
}

export async function openCloudflare(c: CloudflareConfig, ctx: ProviderContext, deps: CloudflareDeps = {}): Promise<CloudflareProvider> {
  if (c.zoneName !== undefined) {
    const zone = normalizeName(c.zoneName);
    const outside = ctx.pools.filter((p) => !isInZone(normalizeName(p.name), zone)).map((p) => p.name);
    if (outside.length > 0) {
      throw new ProviderConfigError(
        `providers.${ctx.name}.zoneName: pool(s) ${outside.join(", ")} are not in zone ${zone}; each zone needs its own provider block`,
      );
    }
  }
  const apiToken = resolveToken(c, ctx);
  const baseUrl = c.baseUrl ?? nonEmpty(ctx.env.CLOUDFLARE_BASE_URL) ?? DEFAULT_BASE_URL;
  const limiter = (deps.limiters ?? sharedLimiters).get(apiToken, c.requestsPer5Minutes);
  const Sdk = await (deps.loadSdk ?? loadSdk)();
  const client: CloudflareClient = createSdkClient(Sdk, {
    apiToken,
    baseUrl,
    maxRetries: c.maxRetries,
    timeoutMs: c.timeoutMs,
    fetch: limitedFetch({ limiter, ...(deps.fetch ? { fetch: deps.fetch } : {}) }),
  });
  return new CloudflareProvider({
    client,
    name: ctx.name,
    controllerId: ctx.controllerId,
    zone: c.zoneId !== undefined ? { id: c.zoneId } : { name: c.zoneName! },
    batchSize: c.batchSize,
    ttlWindow: { min: TTL_MIN, max: TTL_MAX },
    logger: ctx.logger,
    secrets: [apiToken],
    ...(deps.perPage !== undefined ? { perPage: deps.perPage } : {}),
  });
}

async function loadSdk(): Promise<typeof Cloudflare> {
  const mod = await import("cloudflare");
  return mod.default;
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s.trim() === "" ? undefined : s);

function resolveToken(c: CloudflareConfig, ctx: ProviderContext): string {
  const token = nonEmpty(c.apiToken) ?? nonEmpty(ctx.env.CLOUDFLARE_API_TOKEN);
  if (token === undefined) {
    throw new ProviderConfigError(
      `providers.${ctx.name}.apiToken: no Cloudflare API token: set apiToken (e.g. "\${CLOUDFLARE_API_TOKEN}") or the CLOUDFLARE_API_TOKEN environment variable to a token with Zone.DNS:Edit on the zone`,
    );
  }
  if (/\$\{[^}]*\}/.test(token)) {
    throw new ProviderConfigError(
      `providers.${ctx.name}.apiToken: holds an unexpanded \${…} reference; the environment variable it names was not substituted`,
    );
  }
  return token;
}

export const create = (config: CloudflareConfigInput, ctx: ProviderContext): Promise<Provider> => createCloudflareProvider(config, ctx);
