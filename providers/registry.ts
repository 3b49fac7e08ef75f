/**
 * Every DNS provider mailpool knows, by config `type`: one factory per provider folder
 * (providers/<type>/factory.ts), listed once below. Everything the core needs of a provider
 * comes from here — the `providers` schema, the checks beyond it, the loader step, the pool-level
 * keys — so the config loader names no provider. Adding a provider = its folder + one line in
 * `providerFactories`. Nothing here loads an adapter or an SDK: `open` does, lazily.
 */
import { z } from "zod";
import type { BlockCheckContext, BlockProblem } from "./block-check.js";
import type { BlockLoadContext, PoolOption, ProviderFactory } from "./factory.js";
import type { ProviderPool } from "./types.js";
import { cloudflareFactory } from "./cloudflare/factory.js";
import { memoryFactory } from "./memory/factory.js";
import { rfc2136Factory } from "./rfc2136/factory.js";
import { route53Factory } from "./route53/factory.js";
import { zonefileFactory } from "./zonefile/factory.js";

/** In the order of the `providers` union in the config's JSON Schema (config/schema.json). */
export const providerFactories = [zonefileFactory, route53Factory, cloudflareFactory, memoryFactory, rfc2136Factory] as const;

type Factories = typeof providerFactories;
type SchemasOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] extends { readonly schema: infer S } ? S : never };
type Schemas = SchemasOf<Factories>;

/** A provider block: one of the factories' schemas, chosen by `type`. */
export const providerSchema = z.discriminatedUnion("type", providerFactories.map((f) => f.schema) as unknown as Schemas);

/** A provider block after the schema (defaults filled in). */
export type ProviderConfig = z.output<typeof providerSchema>;

const byType: ReadonlyMap<string, ProviderFactory> = new Map(providerFactories.map((f) => [f.type, f as unknown as ProviderFactory]));

/** The factory of a provider type, or undefined for a type no factory declares. */
export const factoryOf = (type: string): ProviderFactory | undefined => byType.get(type);

/** A block's rules beyond its schema (providers/block-check.ts), run by the config loader. */
export function checkProviderBlock(block: ProviderConfig, ctx: BlockCheckContext): BlockProblem[] {
  return factoryOf(block.type)?.check?.(block, ctx) ?? [];
}

/** The block resolved against its config file by its factory's loader step (relative paths). */
export function loadProviderBlock(block: ProviderConfig, ctx: BlockLoadContext): ProviderConfig {
  const load = factoryOf(block.type)?.load;
  return load ? (load(block, ctx) as ProviderConfig) : block;
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type PoolOptionsOf<F> = F extends { readonly poolOptions?: infer O } ? NonNullable<O> : Record<never, never>;
type AllPoolOptions = UnionToIntersection<PoolOptionsOf<Factories[number]>>;

/** The pool-level keys the factories declare, as a resolved pool carries them (defaults applied). */
export type ProviderPoolOptions = { readonly [K in keyof AllPoolOptions]: AllPoolOptions[K] extends PoolOption<infer T> ? T : never };

const poolOptions: readonly (readonly [key: string, option: PoolOption<unknown>, owner: string])[] = providerFactories.flatMap((f) =>
  Object.entries((f as ProviderFactory).poolOptions ?? {}).map(([key, option]) => [key, option, f.type] as const),
);

/** The pool schema's keys the factories declare (each optional), for src/config/schema.ts. */
export const poolOptionShape = Object.fromEntries(poolOptions.map(([key, option]) => [key, option.schema])) as {
  readonly [K in keyof AllPoolOptions]: AllPoolOptions[K] extends PoolOption<unknown> ? AllPoolOptions[K]["schema"] : never;
};

/**
 * What a pool's provider-owned keys say about the pool's provider: a key of another provider
 * type that does not belong there (e.g. recordStyle: multivalue on a zone file). `key` is the
 * pool key; the message names no place.
 */
export function poolOptionProblems(
  pool: { readonly [key: string]: unknown },
  provider: { readonly name: string; readonly type: string },
): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  for (const [key, option, owner] of poolOptions) {
    const value = pool[key];
    if (value === undefined || owner === provider.type) continue;
    const message = option.elsewhere?.(value, provider);
    if (message !== undefined) out.push({ key, message });
  }
  return out;
}

/** Every declared pool-level key of `pool`, with its default where the pool sets none. */
export function poolOptionValues(pool: { readonly [key: string]: unknown }): ProviderPoolOptions {
  return Object.fromEntries(poolOptions.map(([key, option]) => [key, pool[key] ?? option.default])) as ProviderPoolOptions;
}

/** A pool as the provider of `type` is told of it: its name and the keys that provider declares. */
export function providerPoolOf(pool: { readonly name: string }, type: string): ProviderPool {
  const own = poolOptions.filter(([, , owner]) => owner === type).map(([key]) => [key, (pool as Readonly<Record<string, unknown>>)[key]] as const);
  return { name: pool.name, ...Object.fromEntries(own) };
}
