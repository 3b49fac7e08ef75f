/**
 * `mailpool lint` as a user runs it: the built CLI against a loopback DNS server (test/lint/
 * dns-server.ts) that plays both the resolver and the domain's name servers. Exit codes, output
 * formats, usage and config errors. `npm test` builds first; run `npm run build` before running
 * this file alone.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDnsServer, type TestDnsServer } from "../lint/dns-server.js";

const BIN = join(import.meta.dirname, "../../dist/src/cli/bin.js");

const records = (domain: string, mx: string[]) => [
  `${domain} 3600 SOA ns1.${domain} hostmaster.${domain} 2026010101 3600 900 604800 300`,
  `${domain} 3600 NS ns1.${domain}`,
  `${domain} 3600 NS ns.other.test`,
  ...mx.map((m) => `${domain} 3600 MX ${m}`),
  `ns1.${domain} 3600 A 127.0.0.1`,
  `mx1.${domain} 300 A 127.0.0.61`,
  `smtp.${domain} 300 A 127.0.0.61`,
  `imap.${domain} 300 A 127.0.0.61`,
  `_submission._tcp.${domain} 3600 SRV 0 1 587 smtp.${domain}`,
  `_imap._tcp.${domain} 3600 SRV 0 1 143 imap.${domain}`,
  `_imaps._tcp.${domain} 3600 SRV 0 1 993 imap.${domain}`,
  `_pop3s._tcp.${domain} 3600 SRV 0 0 0 .`,
];
const WORLD = [
  // Both name servers answer on 127.0.0.1: one network, so a warning.
  ...records("warn.test", ["10 mx1.warn.test", "20 mx.other.test"]),
  ...records("bad.test", ["10 mail.bad.test", "20 mx.other.test"]),
  "mail.bad.test 3600 CNAME mx1.bad.test",
  "ns.other.test 3600 A 127.0.0.1",
  "mx.other.test 300 A 127.0.1.61",
  "61.0.0.127.in-addr.arpa 3600 PTR mx1.warn.test",
  "61.1.0.127.in-addr.arpa 3600 PTR mx.other.test",
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
const cli = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });

let dns: TestDnsServer;
let dir: string;
const net = () => ["--resolver", `127.0.0.1:${dns.port}`, "--ns-port", String(dns.port), "--no-rcpt", "--timeout", "1000"];

beforeAll(async () => {
  dns = await startTestDnsServer({ records: WORLD });
  dir = await mkdtemp(join(tmpdir(), "mailpool-lint-cli-"));
});
afterAll(async () => {
  await dns.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("mailpool lint", () => {
  it("exits 0 when the findings are below --fail-on (default error), and prints them by severity", async () => {
    const run = await cli(["lint", ...net(), "warn.test"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("warn.test: 0 errors, 1 warning, 0 info");
    expect(run.stdout).toContain("  warning\n    ns-one-network  warn.test\n");
    expect(run.stdout).not.toContain("\x1b[");
  });

  it("exits 1 when a finding is at or above --fail-on", async () => {
    expect((await cli(["lint", ...net(), "--fail-on", "warning", "warn.test"])).code).toBe(1);
    expect((await cli(["lint", ...net(), "bad.test"])).code).toBe(1);
  });

  it("prints JSON with --output json", async () => {
    const run = await cli(["--output", "json", "lint", ...net(), "bad.test", "warn.test"]);
    const report = JSON.parse(run.stdout) as { version: number; domains: { domain: string; findings: { id: string }[] }[]; summary: Record<string, number> };
    expect(report.version).toBe(1);
    expect(report.domains.map((d) => [d.domain, d.findings.map((f) => f.id)])).toEqual([
      ["bad.test", ["mx-cname", "ns-one-network"]],
      ["warn.test", ["ns-one-network"]],
    ]);
    expect(report.summary).toEqual({ error: 1, warning: 2, info: 0 });
  });

  it("lints the domains of the config's pools with -c", async () => {
    const config = join(dir, "ok.yaml");
    await writeFile(config, "controllerId: t\nproviders: { m: { type: memory } }\npools: [{ name: mx1.warn.test, provider: m, checks: [smtp], members: [{ address: 127.0.0.61 }] }]\n");
    const run = await cli(["-c", config, "lint", ...net()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^warn\.test: /);
  });

  it("exits 78 on a bad config, naming the place", async () => {
    const config = join(dir, "bad.yaml");
    await writeFile(config, "controllerId: t\nproviders: { m: { type: memory } }\npools: [{ name: mx1.warn.test, provider: nope, checks: [smtp], members: [{ address: 127.0.0.61 }] }]\n");
    const run = await cli(["-c", config, "lint", ...net()]);
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('pools[0].provider: "nope" is not defined under providers');
  });

  it("exits 64 on usage errors", async () => {
    const noDomain = await cli(["lint", ...net()]);
    expect(noDomain.code).toBe(64);
    expect(noDomain.stderr).toContain("lint: name a DOMAIN, or give -c mailpool.yaml");
    const badResolver = await cli(["lint", "--resolver", "dns.example:53", "warn.test"]);
    expect([badResolver.code, badResolver.stderr]).toEqual([64, 'mailpool: --resolver: "dns.example:53" is not an IP address with an optional port (127.0.0.1:5353, [::1]:53)\n']);
    expect((await cli(["lint", ...net(), "--fail-on", "fatal", "warn.test"])).code).toBe(64);
    expect((await cli(["lint", ...net(), "--ns-port", "70000", "warn.test"])).code).toBe(64);
    expect((await cli(["lint", ...net(), "not_a domain"])).code).toBe(64);
  });
});
