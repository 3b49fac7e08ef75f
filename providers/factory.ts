/**
 * What a provider folder hands the rest of mailpool: one `ProviderFactory` in its factory.ts,
 * listed once in providers/registry.ts. The factory carries everything the config loader needs
 * — the block's schema (whose `.default()`s are the block's defaults), the rules beyond it, the
 * loader that resolves what is relative to the config file, the pool-level keys the provider
 * reads — and `open`, which imports the adapter lazily. A factory module imports only zod and
 * small pure helpers, so `mailpool validate` or a zone-file run never loads an SDK.
 */
import type { z } from "zod";
import type { BlockCheck } from "./block-check.js";
import { ProviderConfigError, type Provider, type ProviderContext } from "./types.js";

/** A provider block's schema: an object whose `type` key names the provider. */
export type BlockSchema = z.ZodType<{ type: string }> & { readonly shape: { readonly type: z.ZodLiteral<string> } };

/** What the loader step is given besides the validated block. */
export interface BlockLoadContext {
  /** The folder of the config file (the working directory for a config given as text). */
  readonly baseDir: string;
}

/**
 * A key a provider reads from each pool that uses it (`pools[i].<key>`), e.g. Route 53's
 * recordStyle. Its schema joins the pool schema (optional, no default, so the generated JSON
 * Schema stays what the operator writes); `default` fills a pool that leaves the key out.
 */
export interface PoolOption<T> {
  readonly schema: z.ZodType<T | undefined>;
  readonly default: T;
  /**
   * A pool whose provider is of another type and sets this key: a problem (the message, without
   * the place), or undefined when the value is harmless there (e.g. the default).
   */
  elsewhere?(value: T, provider: { readonly name: string; readonly type: string }): string | undefined;
}

export interface ProviderFactory<S extends BlockSchema = BlockSchema, P extends Record<string, PoolOption<unknown>> = Record<string, PoolOption<unknown>>> {
  /** The config `type` ("zonefile"); the same literal as the schema's `type`. */
  readonly type: z.output<S>["type"];
  /** The config block; its defaults are its `.default()`s. */
  readonly schema: S;
  /** Pool-level keys this provider reads (absent: none). */
  readonly poolOptions?: P;
  /** Rules beyond the schema that need the environment or the pools using the block. */
  readonly check?: BlockCheck<z.output<S>>;
  /** Resolves the validated block against its config file (relative paths). Default: as it is. */
  readonly load?: (config: z.output<S>, ctx: BlockLoadContext) => z.output<S>;
  /** Creates the provider from a loaded block; imports the adapter (and its SDK) only now. */
  readonly open: (config: z.output<S>, ctx: ProviderContext) => Promise<Provider>;
}

/** Declares a factory, keeping its schema's and pool options' types for the registry. */
export const defineProvider = <S extends BlockSchema, P extends Record<string, PoolOption<unknown>> = Record<never, never>>(
  factory: ProviderFactory<S, P>,
): ProviderFactory<S, P> => factory;

/** Declares a pool option, keeping its value type. */
export const poolOption = <T>(option: PoolOption<T>): PoolOption<T> => option;

/**
 * The one way a provider's `create()` validates a block it was handed directly (tests, tools):
 * with the factory's schema, every problem named with its place, as one ProviderConfigError
 * (`providers.cf.zoneId: set exactly one of zoneId or zoneName; providers.cf.…`). The config
 * loader has already validated the blocks it hands the registry, which calls `open` directly.
 */
export function parseBlock<S extends z.ZodType>(schema: S, config: unknown, name: string): z.output<S> {
  const parsed = schema.safeParse(config);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `providers.${name}${i.path.map((p) => `.${String(p)}`).join("")}: ${i.message}`);
  throw new ProviderConfigError(problems.join("; "));
}
