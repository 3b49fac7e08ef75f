/**
 * Dialogue checks through the built CLI: `mailpool probe POOL` runs a pool's ManageSieve check
 * against listeners on 127.0.0.71–72, and `mailpool validate` refuses a broken dialogue with
 * exit 78 and its place. `npm test` builds first; run `npm run build` before running this alone.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startListenersOnOnePort, type MailListener } from "../../src/demo/mail-listener.js";

const BIN = join(import.meta.dirname, "../../dist/src/cli/bin.js");
const HOSTS = ["127.0.0.71", "127.0.0.72"];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let listeners: MailListener[] = [];

const config = (checks: string) => `controllerId: t
providers: { m: { type: memory } }
${checks}
pools: [{ name: sieve.example.com, provider: m, checks: [sieve], members: [{ address: ${HOSTS[0]} }, { address: ${HOSTS[1]} }] }]
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mailpool-dialogue-cli-"));
  listeners = await startListenersOnOnePort("managesieve", HOSTS);
});

afterAll(async () => {
  await Promise.all(listeners.map((l) => l.stop()));
  await rm(dir, { recursive: true, force: true });
});

describe("mailpool with a dialogue check", () => {
  it("probes every member of a pool whose check speaks ManageSieve", async () => {
    const path = join(dir, "good.yaml");
    await writeFile(path, config(`checks: { sieve: { dialogue: managesieve, port: ${listeners[0]!.port}, timeoutMs: 5000 } }`));
    const r = await cli(["probe", "sieve.example.com", "-c", path]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const host of HOSTS) expect(r.stdout).toContain(`sieve.example.com ${host}:${listeners[0]!.port} (sieve): ok`);
    expect(r.stdout).toMatch(/latency .*\(connect [\d.]+ ms, greeting [\d.]+ ms, logout [\d.]+ ms\)/);
    expect(r.stdout).toContain("capabilities IMPLEMENTATION, SIEVE, SASL, VERSION");
  });

  it("fails the probe of a member whose greeting is wrong (exit 1)", async () => {
    const path = join(dir, "good.yaml");
    listeners[1]!.setBehaviour({ greeting: 'NO "maintenance"' });
    try {
      const r = await cli(["probe", "sieve.example.com", "-c", path]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`sieve.example.com ${HOSTS[1]}:${listeners[1]!.port} (sieve): FAILED: unexpected banner: "NO \\"maintenance\\""`);
    } finally {
      listeners[1]!.setBehaviour({ greeting: undefined });
    }
  });

  it("validate refuses a dialogue with a broken pattern, naming its step, exit 78", async () => {
    const path = join(dir, "bad.yaml");
    await writeFile(path, config(`dialogues: { d: { port: 4190, steps: [{ expect: "^OK (" }] } }\nchecks: { sieve: { dialogue: d } }`));
    const r = await cli(["validate", "-c", path]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("dialogues.d.steps[0].expect: not a valid regular expression");
  });
});
