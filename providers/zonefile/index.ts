/**
 * The zone-file provider (the embedded default): `create(config, ctx)` plus the pure pieces —
 * parser, editor, serial arithmetic — for tests and tools.
 */
import { resolve } from "node:path";
import { isInZone, normalizeName } from "../../src/util/names.js";
import { parseBlock } from "../factory.js";
import { ProviderConfigError } from "../types.js";
import type { ProviderContext } from "../types.js";
import { zonefileConfigSchema } from "./config.js";
import type { ZonefileConfig, ZonefileConfigInput } from "./config.js";
import { ZonefileProvider } from "./zonefile-provider.js";
import type { ZonefileDeps } from "./zonefile-provider.js";

export { zonefileConfigSchema } from "./config.js";
export type { ZonefileConfig, ZonefileConfigInput } from "./config.js";
export { ZonefileProvider } from "./zonefile-provider.js";
export type { ZonefileDeps } from "./zonefile-provider.js";
export { parseZone, resolveName } from "./parse-zone.js";
export type { ParsedZone, ZoneRecord, SoaRecord, ZoneDirective, ParseOptions } from "./parse-zone.js";
export { editZone, checkChanges } from "./edit-zone.js";
export type { ZoneEdit, EditOptions } from "./edit-zone.js";
export { rrsetOf, recordsOf } from "./read-rrsets.js";
export type { ZonefileNative } from "./read-rrsets.js";
export { bumpSerial, isDateSerial, dateSerial } from "./serial.js";
export { parseTtl } from "./ttl.js";
export { encodeTxt, decodeTxt } from "./txt-codec.js";
export { ZoneSyntaxError } from "./zone-syntax-error.js";

/** A block handed over directly: validated with the factory's schema, then opened. */
export async function create(
  config: ZonefileConfigInput,
  ctx: ProviderContext,
  deps: ZonefileDeps = {},
): Promise<ZonefileProvider> {
  return openZonefile(parseBlock(zonefileConfigSchema, config, ctx.name), ctx, deps);
}

/**
 * Checks the file (it must exist and parse, and every pool of this provider must be inside its
 * zone), then returns the provider.
 */
export async function openZonefile(config: ZonefileConfig, ctx: ProviderContext, deps: ZonefileDeps = {}): Promise<ZonefileProvider> {
  const provider = new ZonefileProvider({ ...config, path: resolve(config.path) }, ctx, deps);
  const { zone } = await provider.load();
  for (const pool of ctx.pools) {
    if (!isInZone(normalizeName(pool.name), zone.apex)) {
      throw new ProviderConfigError(
        `pool ${pool.name} uses provider ${ctx.name}, but ${provider.config.path} holds the zone ${zone.apex}`,
      );
    }
  }
  return provider;
}
