import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, parseConfig } from "../../src/config/load.js";
import { configJsonSchema } from "../../src/config/schema.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/config");
const ROOT = join(import.meta.dirname, "../..");

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("config loading", () => {
  it("accepts config/example.yaml, which documents every key", () => {
    const config = loadConfigFile(join(ROOT, "config/example.yaml"), { env: {} });
    expect(config.controllerId).toBe("mx-east-1");
    const smtp = config.pools.find((p) => p.name === "smtp.example.com")!;
    expect(smtp.members.map((m) => m.address)).toEqual(["192.0.2.10", "192.0.2.11", "2001:db8::10"]);
    expect(smtp.members[1]!.standby).toBe("192.0.2.20");
    expect(smtp.safety).toEqual({ neverEmpty: true, minHealthy: 1, failOpen: true, maxRemovePercent: 34 });
    expect(config.checks["mx-starttls"]).toMatchObject({ protocol: "smtp", port: 25, tls: "starttls", tlsRules: { certExpiryFailDays: 3, verify: true } });
    // Relative zone-file paths are relative to the config file.
    expect(config.providers.local).toMatchObject({ type: "zonefile", path: join(ROOT, "config/example.zone") });
  });

  it("applies defaults to pools and normalises names and addresses", () => {
    const config = parseConfig(
      `controllerId: t
providers: { m: { type: memory } }
pools:
  - { name: SMTP.Example.COM., provider: m, checks: [smtp], members: [{ address: "2001:DB8:0::1" }] }`,
      { env: {} },
    );
    expect(config.pools[0]).toMatchObject({ name: "smtp.example.com", ttl: 300, rise: 2, fall: 3, confirmIntervalMs: 2000, recordStyle: "simple" });
    expect(config.pools[0]!.members[0]!.address).toBe("2001:db8::1");
  });

  it("substitutes ${ENV} and keeps $${ literal", () => {
    const config = parseConfig(
      `controllerId: "\${ID}"
providers: { m: { type: memory } }
checks: { mx: { module: smtp, expectGreeting: "^220 $\${x}" } }
pools: [{ name: smtp.example.com, provider: m, checks: [mx], members: [{ address: 192.0.2.1 }] }]`,
      { env: { ID: "from-env" } },
    );
    expect(config.controllerId).toBe("from-env");
    expect(config.checks.mx!.expectGreeting).toBe("^220 ${x}");
  });

  it("reports every problem at once, each with its place", () => {
    const problems = problemsOf(() =>
      parseConfig(
        `controllerId: t
providers: { m: { type: memory } }
pools:
  - { name: smtp.example.com, provider: m, ttl: 60, checks: [nope], members: [{ address: x }] }`,
        { env: {} },
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^pools\[0\]\.ttl: 60 is outside 300–900/),
      'pools[0].checks[0]: "nope" is neither a built-in check nor defined under checks',
      'pools[0].members[0].address: "x" is not an IP address',
    ]);
  });

  // pools[0] names a provider and a check that fail the schema: no "not defined" on top of that.
  it("reports unknown keys, schema errors and the rules beyond the schema in one pass", () => {
    const problems = problemsOf(() =>
      parseConfig(
        `controllerId: t
defaults_typo: 1
providers:
  zone: { type: zonefile, path: zone.db, lockTimeoutMs: -1 }
  m: { type: memory }
checks:
  mx: { module: smtp, port: 70000 }
pools:
  - { name: smtp.example.com, provider: zone, ttl: 60, checks: [mx], members: [{ address: x }], colour: blue }
  - { name: imap.example.com, provider: m, rise: 0, ttl: 1000, checks: [imap], members: [{ address: 192.0.2.1, standby: 2001:db8::1 }] }
  - { name: pop.example.com, provider: nowhere, checks: [pop3], members: [{ address: 192.0.2.9 }] }`,
        { env: {} },
      ),
    );
    expect(problems).toEqual([
      "providers.zone.lockTimeoutMs: Too small: expected number to be >=0",
      "checks.mx.port: Too big: expected number to be <=65535",
      "pools[0].colour: unknown key",
      "pools[1].rise: Too small: expected number to be >=1",
      "defaults_typo: unknown key",
      // … and, in the same pass, what only the loader's rules see:
      expect.stringMatching(/^pools\[0\]\.ttl: 60 is outside 300–900/),
      'pools[0].members[0].address: "x" is not an IP address',
      expect.stringMatching(/^pools\[1\]\.ttl: 1000 is outside 300–900/),
      "pools[1].members[0].standby: 2001:db8::1 is IPv6 but the member is IPv4; a standby takes the member's place in the same RRset",
      'pools[2].provider: "nowhere" is not defined under providers (known: zone, m)',
    ]);
  });

  describe("a provider block that cannot work", () => {
    const withProvider = (block: string, pool = "smtp.example.com") => `controllerId: t
providers:
  p: ${block}
pools:
  - { name: ${pool}, provider: p, checks: [smtp], members: [{ address: 192.0.2.1 }] }`;

    it("says which variable left a Cloudflare token empty, without its value", () => {
      for (const value of ["", "  "]) {
        const problems = problemsOf(() => parseConfig(withProvider('{ type: cloudflare, zoneName: example.com, apiToken: "${CF_API_TOKEN}" }'), { env: { CF_API_TOKEN: value } }));
        expect(problems).toEqual(["providers.p.apiToken: is empty after ${CF_API_TOKEN} was resolved: give an API token with Zone.DNS:Edit on the zone"]);
      }
    });

    it("reports an unset variable once, not again as the empty value it leaves", () => {
      const problems = problemsOf(() => parseConfig(withProvider('{ type: cloudflare, zoneName: example.com, apiToken: "${CF_API_TOKEN}" }'), { env: {} }));
      expect(problems).toEqual(["providers.p.apiToken: environment variable CF_API_TOKEN is not set"]);
    });

    it("takes a Cloudflare token left to CLOUDFLARE_API_TOKEN only when that is set", () => {
      const block = "{ type: cloudflare, zoneId: 023e105f4ecef8ad9ca31a8372d0c353 }";
      expect(problemsOf(() => parseConfig(withProvider(block), { env: { CLOUDFLARE_API_TOKEN: " " } }))).toEqual([
        expect.stringMatching(/^providers\.p\.apiToken: no Cloudflare API token: /),
      ]);
      expect(parseConfig(withProvider(block), { env: { CLOUDFLARE_API_TOKEN: "t0ken" } }).providers.p).toMatchObject({ type: "cloudflare" });
    });

    it("rejects an empty Route 53 region or zone id, naming the variable", () => {
      const problems = problemsOf(() =>
        parseConfig(withProvider('{ type: route53, hostedZoneId: "${ZONE}", region: "${REGION}" }'), { env: { ZONE: "", REGION: "" } }),
      );
      expect(problems).toEqual([
        "providers.p.hostedZoneId: is empty after ${ZONE} was resolved: give the hosted zone id, e.g. Z0123456789ABCDEFGHIJ",
        "providers.p.region: is empty after ${REGION} was resolved: give an AWS region such as us-east-1, or leave the key out",
      ]);
    });

    it("rejects pools outside the zone a block names, and takes a one-label private zone", () => {
      expect(problemsOf(() => parseConfig(withProvider("{ type: route53, zoneName: Example.COM. }", "smtp.example.net"), { env: {} }))).toEqual([
        "providers.p.zoneName: pool(s) smtp.example.net are not inside hosted zone example.com; each zone needs its own provider block",
      ]);
      expect(parseConfig(withProvider("{ type: route53, zoneName: corp, privateZone: true }", "smtp.corp"), { env: {} }).pools).toHaveLength(1);
    });

    it("rejects an empty zone-file path", () => {
      expect(problemsOf(() => parseConfig(withProvider('{ type: zonefile, path: "${ZONE_FILE}" }'), { env: { ZONE_FILE: "" } }))).toEqual([
        "providers.p.path: is empty after ${ZONE_FILE} was resolved: give the path of the zone file",
      ]);
    });
  });

  const invalid = readdirSync(FIXTURES).filter((f) => f.startsWith("invalid-"));
  it.each(invalid)("rejects %s with the expected message", (file) => {
    const text = readFileSync(join(FIXTURES, file), "utf8");
    const expected = /^# expect: (.*)$/m.exec(text)![1]!;
    const problems = problemsOf(() => parseConfig(text, { env: {}, source: file }));
    expect(problems.join("\n")).toContain(expected);
  });
});

describe("config/schema.json", () => {
  it("is generated from the same schema the loader uses (run `npm run schema` after changing it)", () => {
    const onDisk = JSON.parse(readFileSync(join(ROOT, "config/schema.json"), "utf8"));
    expect(onDisk).toEqual(configJsonSchema());
  });
});
