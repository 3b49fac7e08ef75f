/**
 * Test wiring: a fake Route 53 server and a provider driving the real AWS SDK against it.
 */
import { createRoute53Provider, type Route53Deps } from "../../../providers/route53/index.js";
import { route53ConfigSchema, type Route53ConfigInput } from "../../../providers/route53/config.js";
import type { MinimalLogger, Provider, ProviderContext, ProviderPool } from "../../../providers/types.js";
import { RateLimiter } from "../../../src/util/rate-limiter.js";
import { FakeRoute53Server, type FakeRoute53Options } from "../../fakes/route53-server.js";

export interface LoggedLine {
  readonly level: string;
  readonly obj: object;
  readonly msg: string | undefined;
}

export function memoryLogger(): MinimalLogger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export const TEST_ENV = { AWS_ACCESS_KEY_ID: "AKIDTEST", AWS_SECRET_ACCESS_KEY: "x" } as const;

export interface Rig {
  readonly fake: FakeRoute53Server;
  readonly zoneId: string;
  readonly logger: ReturnType<typeof memoryLogger>;
  provider(
    config?: Partial<Route53ConfigInput>,
    pools?: readonly ProviderPool[],
    deps?: Route53Deps,
    env?: Record<string, string | undefined>,
  ): Promise<Provider>;
  close(): Promise<void>;
}

/** A fake with zone example.com and a provider factory; a fast limiter unless a test gives one. */
export async function startRig(options: FakeRoute53Options & { zone?: string } = {}): Promise<Rig> {
  const fake = await FakeRoute53Server.start(options);
  const zone = fake.addZone(options.zone ?? "example.com");
  const logger = memoryLogger();
  const providers: Provider[] = [];
  return {
    fake,
    zoneId: zone.id,
    logger,
    async provider(config = {}, pools = [], deps = {}, env = { ...TEST_ENV }) {
      const parsed = route53ConfigSchema.parse({
        type: "route53",
        ...(config.zoneName === undefined ? { hostedZoneId: zone.id } : {}),
        endpoint: fake.url,
        maxAttempts: 1,
        ...config,
      });
      const ctx: ProviderContext = { name: "aws", controllerId: "ctl-test", pools, env, logger };
      const provider = await createRoute53Provider(parsed, ctx, {
        limiter: new RateLimiter({ ratePerSecond: 1000, burst: 1000 }),
        requestTimeoutMs: 5000,
        ...deps,
      });
      providers.push(provider);
      return provider;
    },
    async close() {
      for (const p of providers) await p.close?.();
      await fake.close();
    },
  };
}

export const signal = (): AbortSignal => AbortSignal.timeout(20_000);
