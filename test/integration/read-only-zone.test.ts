/**
 * A zone file on a read-only file system (a small tmpfs this test mounts, then remounts
 * read-only: for root, file modes do not stop a write, a read-only mount does). `mailpool apply`
 * with a member down must fail with an error naming the file and EROFS, change nothing, leave
 * no lock or temp file behind, and fail the same way again (no lock of its own in the way); once
 * the mount is writable again, the next run converges and `named-checkzone` accepts the result.
 * Needs root (mount) and named-checkzone (Debian bind9-utils; scripts/install-integration-deps.sh).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startListenersOnOnePort, type MailListener } from "../../src/demo/mail-listener.js";
import { onePoolConfig, onePoolZone } from "./helpers/one-pool.js";
import { requireBuiltCli, runCli, shown } from "./helpers/run-cli.js";
import { requireBinary, runCommand } from "./helpers/server-process.js";

const HOSTS = ["127.0.0.171", "127.0.0.172", "127.0.0.173"];
const ZONE = onePoolZone(HOSTS, "readonly", ["www IN CNAME smtp"]);

let dir: string;
let mounted = false;
let listeners: MailListener[] = [];
let checkzone: string;
const zonePath = () => join(dir, "zone.db");
const remount = (mode: "ro" | "rw") => execFileSync("mount", ["-o", `remount,${mode}`, dir]);

beforeAll(async () => {
  requireBuiltCli();
  checkzone = requireBinary("named-checkzone", "bind9-utils");
  if (process.getuid?.() !== 0) throw new Error("this test mounts a tmpfs: run it as root (npm run test:integration)");
  dir = mkdtempSync(join(tmpdir(), "mailpool-readonly-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "mailpool-readonly", dir]);
  mounted = true;
  listeners = await startListenersOnOnePort("smtp", HOSTS);
  writeFileSync(zonePath(), ZONE);
  writeFileSync(join(dir, "mailpool.yaml"), onePoolConfig({ controllerId: "readonly", hosts: HOSTS, port: listeners[0]!.port, zoneOptions: "lockTimeoutMs: 2000" }));
  remount("ro");
});

afterAll(async () => {
  await Promise.all(listeners.map((l) => l.stop()));
  if (mounted) execFileSync("umount", [dir]);
  if (dir) rmdirSync(dir);
});

const poolValues = (text: string) =>
  text
    .split("\n")
    .filter((l) => /^smtp(\.example\.com\.)?\s.*\sA\s/.test(l))
    .map((l) => l.trim().split(/\s+/).at(-1))
    .sort();

describe("a zone file on a read-only file system", () => {
  it("apply fails naming the file and EROFS, changes nothing, leaves nothing behind, and converges once writable", async () => {
    await listeners[1]!.stop(); // a member down: apply wants to remove it

    for (const attempt of [1, 2]) {
      const run = await runCli(["apply", "-c", join(dir, "mailpool.yaml")], 30_000);
      const said = `${run.stdout}\n${run.stderr}`;
      expect(run.code, `attempt ${attempt}: ${shown(run)}`).toBe(1);
      expect(run.stdout, `attempt ${attempt}: ${shown(run)}`).toMatch(/provider zone: FAILED after 1 attempt\(s\)/); // not retried: it cannot pass
      expect(said, `attempt ${attempt}: ${shown(run)}`).toContain(`${zonePath()}.lock`);
      expect(said, `attempt ${attempt}: ${shown(run)}`).toMatch(/EROFS: read-only file system/);
      expect(said, `attempt ${attempt}: ${shown(run)}`).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
      expect(readFileSync(zonePath(), "latin1"), `attempt ${attempt}: the zone changed`).toBe(ZONE);
      expect(readdirSync(dir).sort(), `attempt ${attempt}: files left behind`).toEqual(["mailpool.yaml", "zone.db"]);
    }

    remount("rw");
    const run = await runCli(["apply", "-c", join(dir, "mailpool.yaml")], 30_000);
    expect(run.code, shown(run)).toBe(0);
    const text = readFileSync(zonePath(), "latin1");
    expect(poolValues(text)).toEqual([HOSTS[0], HOSTS[2]].sort());
    const check = await runCommand(checkzone, ["example.com", zonePath()]);
    expect(check.code, `named-checkzone: ${check.stdout}${check.stderr}`).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["mailpool.yaml", "zone.db"]);
    const again = await runCli(["plan", "-c", join(dir, "mailpool.yaml"), "--detailed-exitcode"]);
    expect(again.code, shown(again)).toBe(0); // nothing left to do
  }, 120_000);
});
