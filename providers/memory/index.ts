/** The in-memory provider: `create(config, ctx)` for the config loader, the class for tests. */
import { ProviderConfigError } from "../types.js";
import type { ProviderContext } from "../types.js";
import { memoryConfigSchema } from "./config.js";
import type { MemoryConfigInput } from "./config.js";
import { MemoryProvider } from "./memory-provider.js";

export { memoryConfigSchema } from "./config.js";
export type { MemoryConfig, MemoryConfigInput, MemoryRecord } from "./config.js";
export { MemoryProvider } from "./memory-provider.js";
export type { InjectedFailure, RRsetInit } from "./memory-provider.js";

export async function create(config: MemoryConfigInput, ctx: ProviderContext): Promise<MemoryProvider> {
  const parsed = memoryConfigSchema.safeParse(config);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ProviderConfigError(
      `providers.${ctx.name}${first?.path.length ? `.${first.path.join(".")}` : ""}: ${first?.message ?? "invalid"}`,
    );
  }
  return new MemoryProvider(parsed.data.records ?? []);
}
