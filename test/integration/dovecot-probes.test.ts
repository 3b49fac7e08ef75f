/**
 * mailpool's IMAP and POP3 probes against a real Dovecot, started here on 127.0.0.131 with
 * imap, imaps, pop3 and pop3s listeners and a certificate from a CA made at test time.
 * Needs root and the Debian packages (scripts/install-integration-deps.sh); fails without them.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProbeRunner } from "../../src/probes/index.js";
import type { CheckSpec, Observation, ProbeTarget } from "../../src/probes/types.js";
import { startDovecot, type DovecotServer } from "./helpers/dovecot-server.js";
import { integrationCheck } from "./helpers/integration-check.js";
import { makeIntegrationPki, type IntegrationPki } from "./helpers/integration-pki.js";
import { requireBuiltCli, runCli, shown } from "./helpers/run-cli.js";

const HOST = "127.0.0.131";
const NAME = "imap.example.com";

let dir: string;
let pki: IntegrationPki;
let dovecot: DovecotServer | undefined;
const run = createProbeRunner({ concurrency: 4 });
const probe = (target: ProbeTarget, check: CheckSpec): Promise<Observation> => run(target, check, AbortSignal.timeout(10_000));
const ports = (): DovecotServer["ports"] => {
  if (!dovecot) throw new Error("Dovecot did not start (see beforeAll)");
  return dovecot.ports;
};
const target = (port: number): ProbeTarget => ({ host: HOST, port, serverName: NAME });

beforeAll(async () => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "mailpool-it-dovecot-"));
  chmodSync(dir, 0o755); // Dovecot's login processes run as dovenull
  pki = await makeIntegrationPki(dir, { dnsNames: [NAME, "pop.example.com"], ips: [HOST] });
  dovecot = await startDovecot({ dir: join(dir, "dovecot"), host: HOST, certFile: pki.certFile, keyFile: pki.keyFile });
});

afterAll(async () => {
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("IMAP probes against a real Dovecot", () => {
  it("reads the banner and CAPABILITY in plain text, STARTTLS advertised", async () => {
    const obs = await probe(target(ports().imap), integrationCheck("imap", ports().imap));
    expect(obs.reason).toBe("ok");
    expect(obs.greeting).toMatch(/^\* OK .*Dovecot.* ready\.$/);
    expect(obs.capabilities).toEqual(expect.arrayContaining(["IMAP4rev1", "STARTTLS", "AUTH=PLAIN"]));
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "capability", "quit"]);
  });

  it("upgrades with STARTTLS, verifies the certificate, and lists capabilities again without STARTTLS", async () => {
    const obs = await probe(target(ports().imap), integrationCheck("imap", ports().imap, { tls: "starttls", tlsRules: { ca: pki.caPem } }));
    expect(obs.reason).toBe("ok");
    expect(obs.tls).toMatchObject({ authorized: true, subject: NAME, issuer: "mailpool integration CA" });
    expect(obs.capabilities).toContain("IMAP4rev1");
    expect(obs.capabilities).not.toContain("STARTTLS");
  });

  it("speaks IMAPS (implicit TLS) and verifies the certificate", async () => {
    const obs = await probe(target(ports().imaps), integrationCheck("imaps", ports().imaps, { tlsRules: { ca: pki.caPem } }));
    expect(obs.reason).toBe("ok");
    expect(obs.tls).toMatchObject({ authorized: true, subject: NAME });
    expect(obs.capabilities).toContain("IMAP4rev1");
  });

  it("fails IMAPS when only an unrelated CA is trusted", async () => {
    const obs = await probe(target(ports().imaps), integrationCheck("imaps", ports().imaps, { tlsRules: { ca: pki.otherCaPem } }));
    expect(obs.ok).toBe(false);
    expect(obs.reason).toBe(`certificate verification failed for ${NAME}: unable to verify the first certificate`);
    expect(obs.tls).toMatchObject({ authorized: false, subject: NAME });
  });

  it("fails IMAP STARTTLS when the server name is not in the certificate", async () => {
    const check = integrationCheck("imap", ports().imap, { tls: "starttls", tlsRules: { ca: pki.caPem } });
    const obs = await probe({ host: HOST, port: ports().imap, serverName: "wrong.example.org" }, check);
    expect(obs.ok).toBe(false);
    expect(obs.reason).toMatch(/^certificate verification failed for wrong\.example\.org: /);
  });
});

describe("POP3 probes against a real Dovecot", () => {
  it("reads the banner and CAPA in plain text, STLS advertised", async () => {
    const obs = await probe(target(ports().pop3), integrationCheck("pop3", ports().pop3));
    expect(obs.reason).toBe("ok");
    expect(obs.greeting).toMatch(/^\+OK .*Dovecot.* ready\.$/);
    expect(obs.capabilities).toEqual(expect.arrayContaining(["CAPA", "TOP", "UIDL", "STLS", "USER", "SASL PLAIN"]));
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "capa", "quit"]);
  });

  it("upgrades with STLS and verifies the certificate", async () => {
    const obs = await probe(target(ports().pop3), integrationCheck("pop3", ports().pop3, { tls: "starttls", tlsRules: { ca: pki.caPem } }));
    expect(obs.reason).toBe("ok");
    expect(obs.tls).toMatchObject({ authorized: true, subject: NAME });
    expect(obs.capabilities).toContain("UIDL");
    expect(obs.capabilities).not.toContain("STLS");
  });

  it("speaks POP3S (implicit TLS) and verifies the certificate", async () => {
    const obs = await probe(target(ports().pop3s), integrationCheck("pop3s", ports().pop3s, { tlsRules: { ca: pki.caPem } }));
    expect(obs.reason).toBe("ok");
    expect(obs.greeting).toMatch(/^\+OK /);
    expect(obs.tls).toMatchObject({ authorized: true, subject: NAME });
  });

  it("fails POP3S when only an unrelated CA is trusted", async () => {
    const obs = await probe(target(ports().pop3s), integrationCheck("pop3s", ports().pop3s, { tlsRules: { ca: pki.otherCaPem } }));
    expect(obs.ok).toBe(false);
    expect(obs.reason).toBe(`certificate verification failed for ${NAME}: unable to verify the first certificate`);
  });
});

describe("`mailpool probe` against a real Dovecot", () => {
  it("passes imaps:// and pop3:// --starttls with the test CA, certificate checked for the IP", async () => {
    const imaps = await runCli(["probe", `imaps://${HOST}:${ports().imaps}`, "--ca-file", pki.caFile, "--timeout", "3000"]);
    expect(imaps.code, shown(imaps)).toBe(0);
    expect(imaps.stdout).toMatch(/verified\s+yes/);
    const pop3 = await runCli(["probe", `pop3://${HOST}:${ports().pop3}`, "--starttls", "--ca-file", pki.caFile, "--timeout", "3000"]);
    expect(pop3.code, shown(pop3)).toBe(0);
    expect(pop3.stdout).toContain(`pop3://${HOST}:${ports().pop3}: ok`);
  });

  it("exits 1 for imap:// --starttls with the wrong CA", async () => {
    const result = await runCli(["probe", `imap://${HOST}:${ports().imap}`, "--starttls", "--ca-file", pki.otherCaFile, "--timeout", "3000"]);
    expect(result.code, shown(result)).toBe(1);
    expect(result.stdout).toContain(`FAILED: certificate verification failed for ${HOST}: unable to verify the first certificate`);
  });
});
