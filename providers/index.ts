/**
 * Provider modules by config `type`, loaded lazily: a Route 53 user never imports the
 * Cloudflare SDK, and a zone-file user imports neither.
 */
import { redactingLogger, redactingProvider, redactorFor } from "./redacting-provider.js";
import type { ProviderContext, ProviderModule, Provider } from "./types.js";

const loaders: Readonly<Record<string, () => Promise<ProviderModule<never>>>> = {
  zonefile: () => import("./zonefile/index.js"),
  memory: () => import("./memory/index.js"),
  route53: () => import("./route53/index.js"),
  cloudflare: () => import("./cloudflare/index.js"),
  rfc2136: () => import("./rfc2136/index.js"),
};

export const providerKinds = Object.keys(loaders);

export async function createProvider(config: { type: string }, ctx: ProviderContext): Promise<Provider> {
  const load = loaders[config.type];
  if (!load) throw new TypeError(`unknown provider type ${JSON.stringify(config.type)}`);
  const mod = (await load()) as ProviderModule<unknown>;
  // Secrets leave no provider: its errors, notes and log lines are redacted here, in one place.
  const redactor = redactorFor(config, ctx);
  try {
    return redactingProvider(await mod.create(config, { ...ctx, logger: redactingLogger(ctx.logger, redactor) }), redactor);
  } catch (e) {
    throw redactor.error(e);
  }
}
