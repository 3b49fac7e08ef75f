/**
 * The RFC 2136 provider module: `create(config, ctx)` loads the TSIG secret (from the config,
 * where `${ENV}` put it, or from a file) and returns the provider. No network until the first read.
 */
import { readFileSync } from "node:fs";
import { isInZone, normalizeName } from "../../src/util/names.js";
import { parseBlock } from "../factory.js";
import { ProviderConfigError, type ProviderContext } from "../types.js";
import { rfc2136ConfigSchema, type Rfc2136Config, type Rfc2136ConfigInput } from "./config.js";
import { Rfc2136Provider, type Rfc2136Deps } from "./rfc2136-provider.js";
import type { TsigAlgorithm, TsigKey } from "./tsig.js";

export { rfc2136ConfigSchema, type Rfc2136Config, type Rfc2136ConfigInput } from "./config.js";
export { Rfc2136Provider, type Rfc2136Deps, type Rfc2136Native } from "./rfc2136-provider.js";

export interface Rfc2136CreateDeps extends Rfc2136Deps {
  /** Reads `secretFile` (default: the file system). */
  readonly readFile?: (path: string) => string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The secret octets of a base64 text. Throws a message naming `where`, never the text itself.
 */
export function decodeSecret(text: string, where: string): Uint8Array {
  const compact = text.replace(/\s+/g, "");
  if (compact === "" || !BASE64.test(compact)) {
    throw new ProviderConfigError(`${where}: is not a base64 TSIG secret (the text tsig-keygen prints between the quotes after "secret")`);
  }
  return new Uint8Array(Buffer.from(compact, "base64"));
}

/**
 * The secret from a key file: a bare base64 secret, or BIND key statements (tsig-keygen output),
 * of which the one named `keyName` is used; its algorithm must be the configured one.
 */
export function secretFromFile(text: string, keyName: string, algorithm: TsigAlgorithm, where: string): Uint8Array {
  if (!/\bkey\b/.test(text)) return decodeSecret(text, where);
  const wanted = normalizeName(keyName);
  const found: string[] = [];
  for (const m of text.matchAll(/\bkey\s+"?([^"\s{]+)"?\s*\{([^}]*)\}/g)) {
    const name = normalizeName(m[1]!);
    found.push(name);
    if (name !== wanted) continue;
    const alg = /\balgorithm\s+"?([A-Za-z0-9.-]+)"?\s*;/.exec(m[2]!)?.[1]?.toLowerCase();
    if (alg !== undefined && alg !== algorithm) {
      throw new ProviderConfigError(`${where}: key ${name} in the file is ${alg}, but algorithm is ${algorithm}; set algorithm: ${alg}`);
    }
    const secret = /\bsecret\s+"([^"]*)"\s*;/.exec(m[2]!)?.[1];
    if (secret === undefined) throw new ProviderConfigError(`${where}: key ${name} in the file has no secret "…"; statement`);
    return decodeSecret(secret, where);
  }
  throw new ProviderConfigError(
    `${where}: holds no key ${wanted}${found.length ? ` (it holds ${found.join(", ")})` : ""}; keyName must name a key statement in the file`,
  );
}

/** A block handed over directly: validated with the factory's schema, then opened. */
export async function create(config: Rfc2136ConfigInput, ctx: ProviderContext, deps: Rfc2136CreateDeps = {}): Promise<Rfc2136Provider> {
  return createRfc2136Provider(parseBlock(rfc2136ConfigSchema, config, ctx.name), ctx, deps);
}

export function createRfc2136Provider(config: Rfc2136Config, ctx: ProviderContext, deps: Rfc2136CreateDeps = {}): Rfc2136Provider {
  const where = `providers.${ctx.name}`;
  let secret: Uint8Array;
  if (config.secretFile !== undefined) {
    let text: string;
    try {
      text = (deps.readFile ?? ((p: string) => readFileSync(p, "utf8")))(config.secretFile);
    } catch (e) {
      throw new ProviderConfigError(`${where}.secretFile: cannot read ${config.secretFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    secret = secretFromFile(text, config.keyName, config.algorithm, `${where}.secretFile (${config.secretFile})`);
  } else {
    secret = decodeSecret(config.secret ?? "", `${where}.secret`);
  }
  if (config.zone !== undefined) {
    const zone = normalizeName(config.zone);
    const outside = ctx.pools.filter((p) => !isInZone(normalizeName(p.name), zone));
    if (outside.length > 0) {
      throw new ProviderConfigError(`${where}.zone: pool(s) ${outside.map((p) => p.name).join(", ")} are not inside zone ${zone}`);
    }
  }
  const key: TsigKey = { name: normalizeName(config.keyName), algorithm: config.algorithm, secret };
  return new Rfc2136Provider(config, ctx, key, deps);
}
