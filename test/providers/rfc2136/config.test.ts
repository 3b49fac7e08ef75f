import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { rfc2136ConfigSchema } from "../../../providers/rfc2136/config.js";
import { ConfigError, parseConfig } from "../../../src/config/load.js";
import { createLogger } from "../../../src/log.js";

const configText = (block: string) => `controllerId: test
providers:
  ns:
${block
  .trim()
  .split("\n")
  .map((l) => `    ${l}`)
  .join("\n")}
pools:
  - name: smtp.example.com
    provider: ns
    checks: [smtp]
    members: [{ address: 192.0.2.10 }]
`;

const problems = (text: string, env: Record<string, string> = {}): readonly string[] => {
  try {
    parseConfig(text, { env });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe("rfc2136ConfigSchema", () => {
  it("fills in the defaults", () => {
    expect(rfc2136ConfigSchema.parse({ type: "rfc2136", server: "192.0.2.53", keyName: "k", secret: "c2VjcmV0" })).toEqual({
      type: "rfc2136",
      server: "192.0.2.53",
      port: 53,
      keyName: "k",
      algorithm: "hmac-sha256",
      secret: "c2VjcmV0",
      transport: "udp",
      timeoutMs: 5000,
      connectTimeoutMs: 3000,
    });
  });

  it("is one of the config's provider types, the secret from ${ENV}, a key file relative to the config", () => {
    const config = parseConfig(configText("type: rfc2136\nserver: 192.0.2.53\nkeyName: mailpool\nsecret: ${TSIG_SECRET}"), { env: { TSIG_SECRET: "c2VjcmV0" } });
    expect(config.providers.ns).toMatchObject({ type: "rfc2136", secret: "c2VjcmV0" });
    const withFile = parseConfig(configText("type: rfc2136\nserver: 192.0.2.53\nkeyName: mailpool\nsecretFile: keys/mailpool.key"), {
      source: "/etc/mailpool/mailpool.yaml",
    });
    expect(withFile.providers.ns).toMatchObject({ secretFile: "/etc/mailpool/keys/mailpool.key" });
  });

  it("names the place and the bound of a bad port, and wants exactly one of secret and secretFile", () => {
    expect(problems(configText("type: rfc2136\nserver: 192.0.2.53\nport: 70000\nkeyName: k\nsecret: c2VjcmV0"))).toEqual(["providers.ns.port: 70000 is above 65535"]);
    expect(problems(configText("type: rfc2136\nserver: 192.0.2.53\nkeyName: k"))).toEqual(["providers.ns.secretFile: give either secret or secretFile"]);
    expect(problems(configText("type: rfc2136\nserver: 192.0.2.53\nkeyName: k\nsecret: c2VjcmV0\nsecretFile: /k"))).toEqual([
      "providers.ns.secret: give either secret or secretFile, not both",
    ]);
    expect(problems(configText("type: rfc2136\nserver: 192.0.2.53\nkeyName: k\nsecret: c2VjcmV0\nalgorithm: hmac-md5"))[0]).toMatch(/^providers\.ns\.algorithm: /);
    expect(problems(configText("type: rfc2136\nserver: 192.0.2.53\nkeyName: k\nsecret: c2VjcmV0\ntsig: x"))).toEqual(["providers.ns.tsig: unknown key"]);
  });

  it("refuses a secret that is not base64 at load (exit 78), without repeating it", () => {
    const shown = problems(configText("type: rfc2136\nserver: 192.0.2.53\nkeyName: k\nsecret: ${TSIG_SECRET}"), { TSIG_SECRET: "hunter2!" });
    expect(shown).toEqual(['providers.ns.secret: is not a base64 TSIG secret (the text tsig-keygen prints between the quotes after "secret")']);
  });

  it("never shows the secret in a config error", () => {
    const shown = problems(configText("type: rfc2136\nserver: 192.0.2.53\nport: 0\nkeyName: k\nsecret: ${TSIG_SECRET}"), { TSIG_SECRET: "aHVudGVyMg==" });
    expect(shown).toEqual(["providers.ns.port: 0 is below 1"]);
    expect(shown.join("\n")).not.toContain("aHVudGVyMg==");
  });

  it("describes every field in its JSON Schema", () => {
    const schema = z.toJSONSchema(rfc2136ConfigSchema, { io: "input" }) as { description?: string; properties: Record<string, { description?: string }> };
    expect(schema.description).toBeTruthy();
    expect(Object.entries(schema.properties).filter(([, p]) => !p.description).map(([k]) => k)).toEqual([]);
  });
});

describe("logs", () => {
  it("redact the TSIG secret wherever a config block rides along", () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger("info", stream);
    log.info({ secret: "c2VjcmV0LTE=", block: { secret: "c2VjcmV0LTI=" }, config: { providers: { ns: { secret: "c2VjcmV0LTM=" } } } }, "config");
    expect(lines.join("")).not.toMatch(/c2VjcmV0LT/);
    expect(JSON.parse(lines[0]!).block.secret).toBe("[redacted]");
  });
});
