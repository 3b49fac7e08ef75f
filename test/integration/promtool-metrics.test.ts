/**
 * Prometheus's own linter on what mailpool serves: `promtool check metrics` (Debian package
 * `prometheus`, installed by scripts/install-integration-deps.sh) reads a live /metrics of the
 * built `mailpool run` and a live /probe answer. It fails loudly when promtool is missing.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMailListener, type MailListener } from "../../src/demo/mail-listener.js";
import { testCerts } from "../fakes/certs.js";
import { CLI_BIN, requireBuiltCli } from "./helpers/run-cli.js";

function promtool(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile("promtool", ["check", "metrics"], { encoding: "utf8", timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error("promtool is not installed: apt-get install prometheus (scripts/install-integration-deps.sh does)"));
        return;
      }
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
    child.stdin!.end(text);
  });
}

let listener: MailListener;
let daemon: ChildProcess;
let base = "";
let stderr = "";

beforeAll(async () => {
  requireBuiltCli();
  const certs = await testCerts();
  listener = await startMailListener({ protocol: "smtp", host: "127.0.0.1", tls: certs.valid });
  const dir = mkdtempSync(join(tmpdir(), "mailpool-promtool-"));
  writeFileSync(join(dir, "ca.pem"), certs.ca);
  // An IP takeover pool too, so the move counter and the holder gauge have samples: the hook
  // keeps the holder in a file; the member's host (127.0.0.5) does not answer, its standby does.
  writeFileSync(join(dir, "holder"), "127.0.0.5\n");
  writeFileSync(
    join(dir, "move-ip.sh"),
    `#!/bin/sh\ncase "$MAILPOOL_ACTION" in status) cat "${dir}/holder" ;; takeover) echo "$MAILPOOL_STANDBY" > "${dir}/holder" ;; return) echo "$MAILPOOL_MEMBER" > "${dir}/holder" ;; esac\n`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(dir, "mailpool.yaml"),
    `controllerId: ci
schedule: "*/1 * * * * *"
defaults: { rise: 1, fall: 1 }
daemon: { listen: "127.0.0.1:0" }
checks:
  mx: { module: smtp, port: ${listener.port}, tls: starttls, tlsRules: { caFile: ca.pem } }
providers:
  mem:
    type: memory
    records:
      - { name: smtp.example.com, type: A, ttl: 300, values: [127.0.0.1, 127.0.0.2] }
      - { name: _mailpool.smtp.example.com, type: TXT, ttl: 300, values: ["mailpool owner=ci"] }
# Two pools with a member down each would read as the prober cut off, holding the move.
proberIsolation: { enabled: false }
ipTakeover:
  hook: { type: exec, command: [${join(dir, "move-ip.sh")}] }
pools:
  - name: smtp.example.com
    provider: mem
    checks: [mx]
    members:
      - { address: 127.0.0.1, serverName: mx1.example.net }
      - { address: 127.0.0.2, serverName: mx1.example.net }
  - name: ip.example.com
    provider: mem
    checks: [mx]
    members:
      - { address: 127.0.0.4, serverName: mx1.example.net, hostAddress: 127.0.0.5, ipTakeover: { via: hook, standby: 127.0.0.1 } }
`,
  );
  daemon = spawn(process.execPath, [CLI_BIN, "run", "-c", join(dir, "mailpool.yaml"), "--log-level", "info"], { stdio: ["ignore", "ignore", "pipe"] });
  daemon.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const end = Date.now() + 20_000;
  while (!base) {
    const line = stderr.split("\n").find((l) => l.includes("endpoint listening"));
    if (line) base = `http://127.0.0.1:${JSON.parse(line).port}`;
    else if (Date.now() > end) throw new Error(`daemon did not start:\n${stderr}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  // Two cycles: the histograms, counters and per-address gauges all have samples.
  while ((stderr.match(/"msg":"cycle done"/g) ?? []).length < 2) {
    if (Date.now() > end) throw new Error(`no cycles:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  daemon?.kill("SIGTERM");
  await listener?.stop();
});

describe("promtool check metrics", () => {
  it("accepts a live /metrics of `mailpool run`", async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain("mailpool_probe_duration_seconds_bucket");
    expect(text).toContain("mailpool_tls_cert_not_after_timestamp_seconds");
    expect(text).toMatch(/^mailpool_ip_moves_total\{kind="takeover-ip",result="(ok|unverified)"\} 1$/m);
    expect(text).toContain('mailpool_ip_address_holder{pool="ip.example.com",address="127.0.0.4",holder="standby"} 1');
    const r = await promtool(text);
    expect(r.out).toBe("");
    expect(r.code).toBe(0);
  });

  it("accepts a live /probe answer, passed and failed", async () => {
    for (const target of [`127.0.0.1:${listener.port}`, `127.0.0.2:${listener.port}`]) {
      const text = await (await fetch(`${base}/probe?target=${target}&module=mx`)).text();
      expect(text).toContain("probe_success");
      const r = await promtool(text);
      expect(r.out).toBe("");
      expect(r.code).toBe(0);
    }
  });

  it("catches what it should: a counter without _total is reported", async () => {
    const r = await promtool("# HELP bad_counter x\n# TYPE bad_counter counter\nbad_counter 1\n");
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("_total");
  });
});
