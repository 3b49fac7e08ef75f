/**
 * The built-in dialogues (src/probes/protocols.ts DIALOGUES: lmtp, managesieve) against a real
 * Dovecot with LMTP and ManageSieve listeners, started here on 127.0.0.133: checks loaded from a
 * config as an operator writes them, plain and STARTTLS, the certificate from a CA made at test
 * time. Needs root and the Debian packages (scripts/install-integration-deps.sh: dovecot-lmtpd,
 * dovecot-managesieved); fails without them.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../src/config/load.js";
import { createProbeRunner } from "../../src/probes/index.js";
import type { Observation } from "../../src/probes/types.js";
import { startDovecot, type DovecotServer } from "./helpers/dovecot-server.js";
import { makeIntegrationPki, type IntegrationPki } from "./helpers/integration-pki.js";

const HOST = "127.0.0.133";
const NAME = "mail.example.com";

let dir: string;
let pki: IntegrationPki;
let dovecot: DovecotServer | undefined;
let config: Config;
const run = createProbeRunner({ concurrency: 4 });

/** Probes HOST with the configured check `name`, under the certificate name NAME. */
const probe = (name: string): Promise<Observation> => {
  const check = config.checks[name]!;
  return run({ host: HOST, port: check.port, serverName: NAME }, check, AbortSignal.timeout(10_000));
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mailpool-it-dialogues-"));
  chmodSync(dir, 0o755); // Dovecot's login processes run as dovenull
  pki = await makeIntegrationPki(dir, { dnsNames: [NAME], ips: [HOST] });
  dovecot = await startDovecot({ dir: join(dir, "dovecot"), host: HOST, certFile: pki.certFile, keyFile: pki.keyFile, lineProtocols: true });
  const { lmtp, sieve } = dovecot.ports;
  const common = `timeoutMs: 5000, ehloName: prober.mailpool.test, tlsRules: { caFile: ca.pem }`;
  config = parseConfig(
    `controllerId: it
providers: { m: { type: memory } }
checks:
  lmtp: { dialogue: lmtp, port: ${lmtp}, ${common} }
  lmtp-tls: { dialogue: lmtp, port: ${lmtp}, tls: starttls, ${common} }
  sieve: { dialogue: managesieve, port: ${sieve}, ${common} }
  sieve-tls: { dialogue: managesieve, port: ${sieve}, tls: starttls, ${common} }
pools: [{ name: ${NAME}, provider: m, checks: [lmtp, sieve], members: [{ address: ${HOST} }] }]
`,
    { env: {}, readFile: () => pki.caPem },
  );
});

afterAll(async () => {
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the LMTP dialogue against Dovecot's LMTP", () => {
  it("reads the banner and the LHLO extensions in plain text", async () => {
    const obs = await probe("lmtp");
    expect(obs.reason).toBe("ok");
    expect(obs.greeting).toMatch(/^220 .*Dovecot.* ready\.$/);
    expect(obs.capabilities).toEqual(expect.arrayContaining(["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "STARTTLS"]));
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "lhlo", "quit"]);
    expect(obs.warnings).toEqual([]);
  });

  it("upgrades with STARTTLS, verifies the certificate, and asks LHLO again", async () => {
    const obs = await probe("lmtp-tls");
    expect(obs.reason).toBe("ok");
    expect(obs.tls).toMatchObject({ authorized: true, subject: NAME });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "lhlo", "starttls", "tls", "lhlo", "quit"]);
    expect(obs.capabilities).not.toContain("STARTTLS");
  });
});

describe("the ManageSieve dialogue against Dovecot's ManageSieve", () => {
  it("reads the capability-list greeting in plain text", async () => {
    const obs = await probe("sieve");
    expect(obs.reason).toBe("ok");
    expect(obs.greeting?.split("\n").at(-1)).toMatch(/^OK "Dovecot.*ready\."$/);
    expect(obs.capabilities).toEqual(expect.arrayContaining(["IMPLEMENTATION", "SIEVE", "STARTTLS", "VERSION"]));
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "logout"]);
    expect(obs.warnings).toEqual([]);
  });

  it("upgrades with STARTTLS and reads the capability list Dovecot sends again over TLS", async () => {
    const obs = await probe("sieve-tls");
    expect(obs.reason).toBe("ok");
    expect(obs.tls).toMatchObject({ authorized: true, subject: NAME });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "starttls", "tls", "capability", "logout"]);
    expect(obs.capabilities).toContain("SIEVE");
    expect(obs.capabilities).not.toContain("STARTTLS");
  });
});
