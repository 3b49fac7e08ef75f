/**
 * Shared set-up for the Cloudflare provider tests: a fake API server, a provider built through
 * the real SDK against it, and a logger that keeps what was logged.
 */
import type { MinimalLogger, ProviderContext } from "../../../providers/types.js";
import { createCloudflareProvider, type CloudflareDeps } from "../../../providers/cloudflare/index.js";
import type { CloudflareConfigInput } from "../../../providers/cloudflare/config.js";
import { LimiterRegistry } from "../../../providers/cloudflare/limited-fetch.js";
import type { CloudflareProvider } from "../../../providers/cloudflare/provider.js";
import { CloudflareFake, DEFAULT_TOKEN, type CloudflareFakeOptions } from "../../fakes/cloudflare-server.js";

export const CONTROLLER = "ctl-1";
export const ZONE = "example.com";
export const POOL = "smtp.example.com";
export const COMMENT = `managed by mailpool (owner=${CONTROLLER})`;

export interface LogEntry {
  readonly level: string;
  readonly obj: object;
  readonly msg?: string | undefined;
}

export function captureLogger(): MinimalLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    entries.push({ level, obj, msg });
  };
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export function context(overrides: Partial<ProviderContext> = {}): ProviderContext & { logger: ReturnType<typeof captureLogger> } {
  return {
    name: "cf",
    controllerId: CONTROLLER,
    pools: [{ name: POOL, recordStyle: "simple" }],
    env: {},
    logger: captureLogger(),
    ...overrides,
  } as ProviderContext & { logger: ReturnType<typeof captureLogger> };
}

export interface Harness {
  readonly fake: CloudflareFake;
  readonly zoneId: string;
  readonly ctx: ReturnType<typeof context>;
  provider(config?: Partial<CloudflareConfigInput>, deps?: CloudflareDeps): Promise<CloudflareProvider>;
}

export async function harness(options: CloudflareFakeOptions = {}): Promise<Harness> {
  const fake = await CloudflareFake.start(options);
  const zoneId = fake.addZone(ZONE);
  const ctx = context();
  return {
    fake,
    zoneId,
    ctx,
    provider: (config = {}, deps = {}) =>
      createCloudflareProvider(
        {
          type: "cloudflare",
          ...(config.zoneName === undefined ? { zoneId } : {}),
          apiToken: DEFAULT_TOKEN,
          baseUrl: fake.baseUrl,
          maxRetries: 0,
          timeoutMs: 5_000,
          ...config,
        } as CloudflareConfigInput,
        ctx,
        { limiters: new LimiterRegistry(), ...deps },
      ),
  };
}

export const signal = (): AbortSignal => AbortSignal.timeout(20_000);

/** Seeds an A record the way mailpool would have written it. */
export function seedA(h: Harness, content: string, extra: { ttl?: number; proxied?: boolean; comment?: string | null; name?: string } = {}) {
  return h.fake.seed(h.zoneId, {
    name: extra.name ?? POOL,
    type: "A",
    content,
    ttl: extra.ttl ?? 300,
    proxied: extra.proxied ?? false,
    comment: extra.comment === undefined ? COMMENT : extra.comment,
  });
}

export function seedMarker(h: Harness, owner = CONTROLLER) {
  return h.fake.seed(h.zoneId, {
    name: `_mailpool.${POOL}`,
    type: "TXT",
    content: `"mailpool owner=${owner}"`,
    ttl: 300,
    comment: COMMENT,
  });
}

/** Sorted A contents at a name. */
export const addresses = (h: Harness, name = POOL, type = "A"): string[] =>
  h.fake.records(h.zoneId, name, type).map((r) => r.content).sort();
