/** The in-memory provider: `create(config, ctx)` for a block handed over directly, the class for tests. */
import { parseBlock } from "../factory.js";
import type { ProviderContext } from "../types.js";
import { memoryConfigSchema } from "./config.js";
import type { MemoryConfig, MemoryConfigInput } from "./config.js";
import { MemoryProvider } from "./memory-provider.js";

export { memoryConfigSchema } from "./config.js";
export type { MemoryConfig, MemoryConfigInput, MemoryRecord } from "./config.js";
export { MemoryProvider } from "./memory-provider.js";
export type { InjectedFailure, RRsetInit } from "./memory-provider.js";

/** A block handed over directly: validated with the factory's schema, then opened. */
export async function create(config: MemoryConfigInput, ctx: ProviderContext): Promise<MemoryProvider> {
  return openMemory(parseBlock(memoryConfigSchema, config, ctx.name), ctx);
}

/** A provider holding the block's records. */
export async function openMemory(config: MemoryConfig, _ctx: ProviderContext): Promise<MemoryProvider> {
  return new MemoryProvider(config.records ?? []);
}
