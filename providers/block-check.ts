/**
 * A provider block's rules beyond its schema, run by the config loader: what needs the
 * environment (a credential the block leaves to an environment variable) or the pools that use
 * the block (every pool inside the block's zone). A block that cannot work is a config error
 * (exit 78, with its place), not a failed run. Imports only zod: each provider's config.ts
 * exports its check next to its schema, its factory.ts hands both to the registry
 * (providers/registry.ts), and none of them loads the provider or its SDK.
 */
import { z } from "zod";
export interface BlockCheckContext {
  /** The environment `${VAR}` references were resolved from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Names (normalized) of the pools that use this block. */
  readonly pools: readonly string[];
}

export interface BlockProblem {
  /** Inside the block, e.g. ["apiToken"]. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export type BlockCheck<C> = (config: C, ctx: BlockCheckContext) => BlockProblem[];

/** For schemas: a string that is empty or only white space holds nothing. */
export const isBlank = (s: string): boolean => s.trim() === "";

/** Pools outside `zone`, as one problem at `path`, or none. */
export function poolsOutside(zone: string, pools: readonly string[], path: string, what: string): BlockProblem[] {
  const outside = pools.filter((p) => p !== zone && !p.endsWith(`.${zone}`));
  if (outside.length === 0) return [];
  return [{ path: [path], message: `pool(s) ${outside.join(", ")} are not inside ${what} ${zone}; each zone needs its own provider block` }];
}

const ZONE_LABEL = /^(?:_?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$/;

/** Why `name` is not a usable zone name (one label, e.g. a private `corp`, is fine), or undefined. */
export function invalidZoneReason(name: string): string | undefined {
  const n = name.trim().toLowerCase().replace(/\.$/, "");
  if (n === "") return "is empty: give the zone's name, e.g. example.com";
  if (n.length > 253) return `is ${n.length} characters long (at most 253)`;
  const bad = n.split(".").find((l) => !ZONE_LABEL.test(l));
  return bad === undefined ? undefined : `has an invalid label ${JSON.stringify(bad)}`;
}

const zoneNameError = (iss: { input: unknown }): string => {
  const why = invalidZoneReason(String(iss.input)) ?? "is not a zone name";
  return why.startsWith("is empty") ? why : `${JSON.stringify(iss.input)} ${why}`;
};

/**
 * A string that must hold something: empty or only white space (as a `${VAR}` set to "" leaves
 * it) is an error with `message`, which starts "is empty" so the loader can name the variable.
 */
export const filledString = (message: `is empty${string}`) =>
  z.string().min(1, { error: message, abort: true }).refine((s) => !isBlank(s), { error: message, abort: true });

/** A zone name: labels of letters, digits and hyphens; one label (a private `corp`) is fine. */
export const zoneNameString = () =>
  z
    .string()
    .min(1, { error: zoneNameError, abort: true })
    .refine((s) => invalidZoneReason(s) === undefined, { error: zoneNameError, abort: true });
