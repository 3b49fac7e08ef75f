/**
 * The provider registry: each factory's declarations reach the config loader unchanged — its
 * type, its loader step (paths relative to the config file), its pool-level keys with their
 * default and their message for a pool of another provider — and a block handed to create()
 * directly is validated in the one style (every problem with its place).
 */
import { describe, expect, it } from "vitest";
import { parseBlock } from "../../providers/factory.js";
import { rfc2136ConfigSchema } from "../../providers/rfc2136/config.js";
import {
  checkProviderBlock,
  factoryOf,
  loadProviderBlock,
  poolOptionProblems,
  poolOptionValues,
  providerFactories,
  providerPoolOf,
  providerSchema,
  type ProviderConfig,
} from "../../providers/registry.js";
import { ProviderConfigError } from "../../providers/types.js";
import { ConfigError, parseConfig } from "../../src/config/load.js";

const block = (raw: unknown): ProviderConfig => providerSchema.parse(raw);

describe("the provider registry", () => {
  it("lists each provider type once, each factory's type the literal of its schema", () => {
    const types = providerFactories.map((f) => f.type);
    expect(types).toEqual(["zonefile", "route53", "cloudflare", "memory", "rfc2136"]);
    for (const f of providerFactories) {
      expect(f.schema.shape.type.value).toBe(f.type);
      expect(factoryOf(f.type)).toBe(f);
    }
    expect(factoryOf("bind")).toBeUndefined();
  });

  it("the loader step resolves a zone file and a TSIG key file against the config's folder, and nothing else", () => {
    const zone = loadProviderBlock(block({ type: "zonefile", path: "zones/example.zone" }), { baseDir: "/etc/mailpool" });
    expect(zone).toMatchObject({ type: "zonefile", path: "/etc/mailpool/zones/example.zone", reloadTimeoutMs: 10_000 });
    expect(loadProviderBlock(block({ type: "zonefile", path: "/var/named/example.zone" }), { baseDir: "/etc/mailpool" })).toMatchObject({
      path: "/var/named/example.zone",
    });
    const ns = { type: "rfc2136", server: "192.0.2.53", keyName: "k" };
    expect(loadProviderBlock(block({ ...ns, secretFile: "k.key" }), { baseDir: "/etc/mailpool" })).toMatchObject({ secretFile: "/etc/mailpool/k.key" });
    const withSecret = block({ ...ns, secret: "c2VjcmV0" });
    expect(loadProviderBlock(withSecret, { baseDir: "/etc/mailpool" })).toEqual(withSecret);
    const mem = block({ type: "memory" });
    expect(loadProviderBlock(mem, { baseDir: "/etc/mailpool" })).toBe(mem);
  });

  it("runs each block's own check beyond its schema", () => {
    const cf = block({ type: "cloudflare", zoneName: "example.com", apiToken: "t" });
    expect(checkProviderBlock(cf, { env: {}, pools: ["smtp.example.com"] })).toEqual([]);
    expect(checkProviderBlock(cf, { env: {}, pools: ["smtp.example.net"] })).toEqual([
      { path: ["zoneName"], message: "pool(s) smtp.example.net are not inside zone example.com; each zone needs its own provider block" },
    ]);
    expect(checkProviderBlock(block({ type: "memory" }), { env: {}, pools: ["smtp.example.net"] })).toEqual([]);
  });

  it("Route 53's recordStyle: its default, its pools only, and a multivalue pool of another provider is a problem", () => {
    expect(poolOptionValues({})).toEqual({ recordStyle: "simple" });
    expect(poolOptionValues({ recordStyle: "multivalue" })).toEqual({ recordStyle: "multivalue" });
    expect(poolOptionProblems({ recordStyle: "multivalue" }, { name: "local", type: "zonefile" })).toEqual([
      { key: "recordStyle", message: "multivalue is a Route 53 record style; provider local is zonefile" },
    ]);
    expect(poolOptionProblems({ recordStyle: "simple" }, { name: "local", type: "zonefile" })).toEqual([]);
    expect(poolOptionProblems({ recordStyle: "multivalue" }, { name: "aws", type: "route53" })).toEqual([]);
    const pool = { name: "smtp.example.com", ttl: 300, recordStyle: "multivalue" };
    expect(providerPoolOf(pool, "route53")).toEqual({ name: "smtp.example.com", recordStyle: "multivalue" });
    expect(providerPoolOf(pool, "zonefile")).toEqual({ name: "smtp.example.com" });
  });

  it("the config loader reports a multivalue pool on a zone file with its place, and fills the default", () => {
    const text = (style: string) => `controllerId: c
providers: { local: { type: zonefile, path: example.zone } }
pools:
  - name: smtp.example.com
    provider: local
    checks: [smtp]
    members: [{ address: 192.0.2.10 }]
${style}`;
    expect(parseConfig(text(""), { env: {} }).pools[0]?.recordStyle).toBe("simple");
    expect(parseConfig(text("    recordStyle: simple"), { env: {} }).pools[0]?.recordStyle).toBe("simple");
    let error: unknown;
    try {
      parseConfig(text("    recordStyle: multivalue"), { env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(["pools[0].recordStyle: multivalue is a Route 53 record style; provider local is zonefile"]);
  });

  it("parseBlock names every problem with its place, in one ProviderConfigError", () => {
    expect(parseBlock(rfc2136ConfigSchema, { type: "rfc2136", server: "192.0.2.53", keyName: "k", secret: "c2VjcmV0" }, "ns")).toMatchObject({
      port: 53,
      algorithm: "hmac-sha256",
    });
    let error: unknown;
    try {
      parseBlock(rfc2136ConfigSchema, { type: "rfc2136", server: "192.0.2.53", port: 70000, keyName: "k", secret: "c2VjcmV0", bogus: 1 }, "ns");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProviderConfigError);
    const parts = (error as Error).message.split("; ");
    expect(parts).toHaveLength(2);
    expect(parts).toContain("providers.ns.port: 70000 is above 65535");
    expect(parts.some((p) => p.startsWith("providers.ns: ") && p.includes("bogus"))).toBe(true);
  });
});
