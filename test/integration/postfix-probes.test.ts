/**
 * mailpool's SMTP probes against a real Postfix, started here on 127.0.0.121 (plain SMTP with
 * STARTTLS, implicit TLS, and a port without TLS), with a certificate from a CA made at test time.
 * Needs root and the Debian packages (scripts/install-integration-deps.sh); fails without them.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProbeRunner } from "../../src/probes/index.js";
import type { CheckSpec, Observation, ProbeTarget } from "../../src/probes/types.js";
import { integrationCheck } from "./helpers/integration-check.js";
import { makeIntegrationPki, type IntegrationPki } from "./helpers/integration-pki.js";
import { BANNER_TAG, startPostfix, type PostfixServer } from "./helpers/postfix-server.js";
import { requireBuiltCli, runCli, shown } from "./helpers/run-cli.js";

const HOST = "127.0.0.121";
const NAME = "mx1.example.com";

let dir: string;
let pki: IntegrationPki;
let postfix: PostfixServer | undefined;
const run = createProbeRunner({ concurrency: 4 });
const probe = (target: ProbeTarget, check: CheckSpec): Promise<Observation> => run(target, check, AbortSignal.timeout(10_000));
const server = (): PostfixServer => {
  if (!postfix) throw new Error("Postfix did not start (see beforeAll)");
  return postfix;
};

beforeAll(async () => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "mailpool-it-postfix-"));
  chmodSync(dir, 0o755); // Postfix's daemons run as the postfix user
  pki = await makeIntegrationPki(dir, { dnsNames: [NAME, "smtp.example.com"], ips: [HOST] });
  postfix = await startPostfix({ dir: join(dir, "postfix"), host: HOST, hostname: NAME, certFile: pki.certFile, keyFile: pki.keyFile });
});

afterAll(async () => {
  await postfix?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("probes against a real Postfix", () => {
  it("reads the banner and the EHLO extensions over plain SMTP", async () => {
    const obs = await probe({ host: HOST, port: server().smtpPort }, integrationCheck("smtp", server().smtpPort));
    expect(obs.reason).toBe("ok");
    expect(obs.greeting).toBe(`220 ${NAME} ${BANNER_TAG}`);
    expect(obs.capabilities).toEqual(expect.arrayContaining(["PIPELINING", "STARTTLS", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING"]));
    expect(obs.capabilities?.some((c) => /^SIZE \d+$/.test(c))).toBe(true);
    expect(obs.tls).toBeUndefined();
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "ehlo", "quit"]);
  });

  it("upgrades with STARTTLS and verifies the certificate against the test CA", async () => {
    const check = integrationCheck("submission", server().smtpPort, { tlsRules: { ca: pki.caPem } });
    const obs = await probe({ host: HOST, port: server().smtpPort, serverName: NAME }, check);
    expect(obs.reason).toBe("ok");
    expect(obs.tls).toMatchObject({ authorized: true, subject: NAME, issuer: "mailpool integration CA" });
    expect(obs.tls?.protocol).toMatch(/^TLSv1\.[23]$/);
    // After TLS, Postfix sends its extensions again, without STARTTLS.
    expect(obs.capabilities).toEqual(expect.arrayContaining(["PIPELINING", "8BITMIME"]));
    expect(obs.capabilities).not.toContain("STARTTLS");
    expect(obs.phases.map((p) => p.name)).toEqual(expect.arrayContaining(["greeting", "ehlo", "starttls"]));
  });

  it("speaks implicit TLS (SMTPS, smtpd_tls_wrappermode) and verifies the certificate", async () => {
    const check = integrationCheck("smtps", server().smtpsPort, { tlsRules: { ca: pki.caPem } });
    const obs = await probe({ host: HOST, port: server().smtpsPort, serverName: NAME }, check);
    expect(obs.reason).toBe("ok");
    expect(obs.greeting).toBe(`220 ${NAME} ${BANNER_TAG}`);
    expect(obs.tls).toMatchObject({ authorized: true, subject: NAME });
    expect(obs.capabilities).toContain("PIPELINING");
  });

  it("fails verification when the server name is not in the certificate", async () => {
    const check = integrationCheck("submission", server().smtpPort, { tlsRules: { ca: pki.caPem } });
    const obs = await probe({ host: HOST, port: server().smtpPort, serverName: "wrong.example.org" }, check);
    expect(obs.ok).toBe(false);
    expect(obs.reason).toMatch(/^certificate verification failed for wrong\.example\.org: .*wrong\.example\.org/);
    expect(obs.tls).toMatchObject({ authorized: false, subject: NAME });
  });

  it("fails verification when only an unrelated CA is trusted", async () => {
    const check = integrationCheck("smtps", server().smtpsPort, { tlsRules: { ca: pki.otherCaPem } });
    const obs = await probe({ host: HOST, port: server().smtpsPort, serverName: NAME }, check);
    expect(obs.ok).toBe(false);
    expect(obs.reason).toBe(`certificate verification failed for ${NAME}: unable to verify the first certificate`);
  });

  it("reports STARTTLS not advertised on a listener with TLS off", async () => {
    const check = integrationCheck("submission", server().noTlsPort, { tlsRules: { ca: pki.caPem } });
    const obs = await probe({ host: HOST, port: server().noTlsPort, serverName: NAME }, check);
    expect(obs).toMatchObject({ ok: false, reason: "STARTTLS not advertised" });
    expect(obs.capabilities).toContain("PIPELINING");
  });

  it("says the plain port does not answer in TLS when implicit TLS is tried there", async () => {
    const check = integrationCheck("smtps", server().smtpPort, { tlsRules: { ca: pki.caPem } });
    const obs = await probe({ host: HOST, port: server().smtpPort, serverName: NAME }, check);
    expect(obs.ok).toBe(false);
    expect(obs.reason).toBe("TLS handshake failed: the server did not answer in TLS (wrong version number); is this a plain-text or STARTTLS port?");
  });

  it("`mailpool probe smtp://… --starttls --ca-file` passes against Postfix (certificate checked for the IP)", async () => {
    const result = await runCli(["probe", `smtp://${HOST}:${server().smtpPort}`, "--starttls", "--ca-file", pki.caFile, "--timeout", "3000"]);
    expect(result.code, shown(result)).toBe(0);
    expect(result.stdout).toContain(`smtp://${HOST}:${server().smtpPort}: ok`);
    expect(result.stdout).toMatch(/verified\s+yes/);
    expect(result.stdout).toContain(`220 ${NAME} ${BANNER_TAG}`);
  });

  it("`mailpool probe smtps://… --output json` reports the TLS facts of Postfix's certificate", async () => {
    const result = await runCli(["--output", "json", "probe", `smtps://${HOST}:${server().smtpsPort}`, "--server-name", NAME, "--ca-file", pki.caFile, "--timeout", "3000"]);
    expect(result.code, shown(result)).toBe(0);
    const [obs] = JSON.parse(result.stdout) as (Observation & { port: number })[];
    expect(obs).toMatchObject({ ok: true, port: server().smtpsPort, tls: { authorized: true, subject: NAME, issuer: "mailpool integration CA" } });
  });

  it("`mailpool probe` exits 1 with the reason when the server name does not match", async () => {
    const result = await runCli(["probe", `smtp://${HOST}:${server().smtpPort}`, "--starttls", "--server-name", "wrong.example.org", "--ca-file", pki.caFile, "--timeout", "3000"]);
    expect(result.code, shown(result)).toBe(1);
    expect(result.stdout).toContain("FAILED: certificate verification failed for wrong.example.org");
  });

  // Last: it stops the server.
  it("reports connection refused once Postfix is stopped", async () => {
    const port = server().smtpPort;
    await server().stop();
    const obs = await probe({ host: HOST, port }, integrationCheck("smtp", port));
    expect(obs).toMatchObject({ ok: false, reason: `connection refused by ${HOST}:${port}` });
    const result = await runCli(["probe", `smtp://${HOST}:${port}`, "--timeout", "3000"]);
    expect(result.code, shown(result)).toBe(1);
    expect(result.stdout).toContain(`FAILED: connection refused by ${HOST}:${port}`);
  });
});
