/**
 * Creating a provider from a config block the loader validated: its factory (providers/
 * registry.ts) opens it, importing the adapter lazily — a Route 53 user never imports the
 * Cloudflare SDK, and a zone-file user imports neither.
 */
import { redactingLogger, redactingProvider, redactorFor } from "./redacting-provider.js";
import { factoryOf } from "./registry.js";
import type { ProviderContext, Provider } from "./types.js";

export async function createProvider(config: { type: string }, ctx: ProviderContext): Promise<Provider> {
  const factory = factoryOf(config.type);
  if (!factory) throw new TypeError(`unknown provider type ${JSON.stringify(config.type)}`);
  // Secrets leave no provider: its errors, notes and log lines are redacted here, in one place.
  const redactor = redactorFor(config, ctx);
  try {
    return redactingProvider(await factory.open(config, { ...ctx, logger: redactingLogger(ctx.logger, redactor) }), redactor);
  } catch (e) {
    throw redactor.error(e);
  }
}
