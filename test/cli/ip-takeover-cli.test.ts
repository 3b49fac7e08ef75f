/**
 * The CLI with IP takeover, end to end on loopback: real SMTP listeners (the standby 127.0.0.3
 * and the floating address 127.0.0.4 answer, the member's host 127.0.0.2 does not), an exec hook
 * that keeps the holder in a file, and mailpool's exit codes.
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startListenersOnOnePort, type MailListener } from "../../src/demo/mail-listener.js";

const BIN = join(import.meta.dirname, "../../dist/src/cli/bin.js");
let dir: string;
let listeners: MailListener[];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const config = (member: string) => `controllerId: ci
defaults: { rise: 1, fall: 1, confirmIntervalMs: 0 }
providers:
  mem:
    type: memory
    records:
      - { name: smtp.example.com, type: A, ttl: 300, values: [127.0.0.4] }
      - { name: _mailpool.smtp.example.com, type: TXT, ttl: 300, values: ["mailpool owner=ci"] }
ipTakeover:
  hook: { type: exec, command: [${join(dir, "hook.sh")}], timeoutMs: 5000 }
checks:
  mx: { module: smtp, port: ${listeners[0]!.port}, connectTimeoutMs: 1000, timeoutMs: 2000 }
pools:
  - name: smtp.example.com
    provider: mem
    checks: [mx]
    members:
      - ${member}`;

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), "mailpool-ip-cli-"));
  listeners = await startListenersOnOnePort("smtp", ["127.0.0.3", "127.0.0.4"]);
  writeFileSync(join(dir, "holder"), "127.0.0.2\n");
  writeFileSync(
    join(dir, "hook.sh"),
    `#!/bin/sh
case "$MAILPOOL_ACTION" in
  status) cat "${dir}/holder" ;;
  takeover) echo "$MAILPOOL_STANDBY" > "${dir}/holder" ;;
  return) echo "$MAILPOOL_MEMBER" > "${dir}/holder" ;;
esac
`,
  );
  chmodSync(join(dir, "hook.sh"), 0o755);
});
afterAll(async () => {
  await Promise.all(listeners.map((l) => l.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const good = "{ address: 127.0.0.4, label: mx1, hostAddress: 127.0.0.2, ipTakeover: { via: hook, standby: 127.0.0.3 } }";

describe("mailpool with IP takeover", () => {
  it("validate: a member naming an undefined adapter exits 78 and names the place", async () => {
    writeFileSync(join(dir, "bad.yaml"), config("{ address: 127.0.0.4, hostAddress: 127.0.0.2, ipTakeover: { via: nope, standby: 127.0.0.3 } }"));
    const r = await cli(["validate", "-c", join(dir, "bad.yaml")]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('pools[0].members[0].ipTakeover.via: "nope" is not defined under ipTakeover (known: hook)');
  });

  it("plan prints the move, exits 2 with --detailed-exitcode, and moves nothing", async () => {
    writeFileSync(join(dir, "mailpool.yaml"), config(good));
    const r = await cli(["plan", "-c", join(dir, "mailpool.yaml"), "--detailed-exitcode"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toContain("  ip 127.0.0.4 (via hook): held by mx1's host 127.0.0.2 — status hook: 127.0.0.2");
    expect(r.stdout).toMatch(/  ~ ip   takeover-ip 127\.0\.0\.4 → 127\.0\.0\.3: mx1 \(127\.0\.0\.4\)'s host 127\.0\.0\.2 is down: .*connection refused/);
    expect(r.stdout).toContain("1 IP takeover(s), 0 IP return(s)");
    expect(readFileSync(join(dir, "holder"), "utf8").trim()).toBe("127.0.0.2");
  });

  it("plan --out refuses to save a plan with IP moves (saved plans carry no moves yet) and writes no file", async () => {
    const out = join(dir, "moves.plan.json");
    const r = await cli(["plan", "-c", join(dir, "mailpool.yaml"), "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("this plan moves addresses (IP takeover), and saved plans do not carry IP moves yet; no plan file was written");
    expect(existsSync(out)).toBe(false);
    expect(readFileSync(join(dir, "holder"), "utf8").trim()).toBe("127.0.0.2");
  });

  it("apply moves it through the hook and reports that the floating address answers", async () => {
    const r = await cli(["apply", "-c", join(dir, "mailpool.yaml"), "--output", "json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ipTakeover: { moves: { ok: boolean; verify: { ok: boolean; reason: string } }[] }; summary: { takeoverIp: number } };
    expect(report.ipTakeover.moves[0]).toMatchObject({ ok: true, verify: { ok: true } });
    expect(report.ipTakeover.moves[0]!.verify.reason).toMatch(/^standby 127\.0\.0\.3 answers on 127\.0\.0\.4 \(mx greeting matches its own/);
    expect(report.summary.takeoverIp).toBe(1);
    expect(readFileSync(join(dir, "holder"), "utf8").trim()).toBe("127.0.0.3");
  });
});
