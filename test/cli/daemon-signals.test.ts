/**
 * `mailpool run` as a real process receiving real signals while an apply is under way (a zone
 * file write whose reload command takes a while): SIGTERM lets the apply finish and exits 0; a
 * second SIGTERM exits at once. `npm test` builds first.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startListenersOnOnePort, type MailListener } from "../../src/demo/mail-listener.js";

const BIN = join(import.meta.dirname, "../../dist/src/cli/bin.js");
const HOSTS = ["127.0.0.61", "127.0.0.62", "127.0.0.63"];

let dir: string;
let listeners: MailListener[] = [];

beforeEach(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  dir = await mkdtemp(join(tmpdir(), "mailpool-signals-"));
  listeners = await startListenersOnOnePort("smtp", HOSTS);
  await writeFile(
    join(dir, "zone.db"),
    `$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1.example.com. hostmaster.example.com. ( 2026010101 3600 900 604800 300 )
  IN NS ns1
ns1 IN A 192.0.2.53
${HOSTS.map((h) => `smtp 300 IN A ${h}`).join("\n")}
_mailpool.smtp 300 IN TXT "mailpool owner=ci"
`,
  );
  // The "reload" marks its start, takes 1.5 s, then marks its end.
  const reload = `require("fs").writeFileSync(${JSON.stringify(join(dir, "reload-started"))}, ""); setTimeout(() => require("fs").writeFileSync(${JSON.stringify(join(dir, "reload-done"))}, ""), 1500)`;
  await writeFile(
    join(dir, "mailpool.yaml"),
    `controllerId: ci
schedule: "* * * * * *"
defaults: { rise: 1, fall: 1 }
daemon: { listen: "127.0.0.1:0", shutdownGraceMs: 10000, probeSpreadPercent: 0 }
providers:
  zone: { type: zonefile, path: zone.db, reloadCommand: ${JSON.stringify([process.execPath, "-e", reload])}, reloadTimeoutMs: 20000 }
checks:
  mx: { module: smtp, port: ${listeners[0]!.port}, connectTimeoutMs: 1000, timeoutMs: 2000 }
pools:
  - name: smtp.example.com
    provider: zone
    checks: [mx]
    members:
${HOSTS.map((h) => `      - { address: ${h} }`).join("\n")}
`,
  );
});

afterEach(async () => {
  await Promise.all(listeners.map((l) => l.stop()));
  await rm(dir, { recursive: true, force: true });
});

async function waitFor(what: string, f: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function start() {
  const child = spawn(process.execPath, [BIN, "run", "-c", join(dir, "mailpool.yaml"), "--log-level", "info"], { env: { ...process.env, NO_COLOR: "1" } });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((r) => child.on("exit", (code) => r({ code, at: Date.now() })));
  return { child, exited, log: () => stderr };
}

describe("mailpool run and signals", () => {
  it("SIGTERM while an apply is under way: the apply (write and reload) finishes, then exit 0", async () => {
    const d = start();
    try {
      await waitFor("a first cycle", () => d.log().includes('"msg":"cycle done"'));
      await listeners[2]!.stop();
      await waitFor("the reload to start", () => existsSync(join(dir, "reload-started")));
      d.child.kill("SIGTERM");
      const { code } = await d.exited;
      expect(code).toBe(0);
      expect(existsSync(join(dir, "reload-done"))).toBe(true);
      expect(await readFile(join(dir, "zone.db"), "utf8")).not.toContain(HOSTS[2]);
      expect(d.log()).toContain("waiting for the apply under way");
      expect(d.log()).toContain("mailpool daemon stopped");
    } finally {
      d.child.kill("SIGKILL");
    }
  });

  it("a second SIGTERM exits at once (143), without waiting for the apply", async () => {
    const d = start();
    try {
      await waitFor("a first cycle", () => d.log().includes('"msg":"cycle done"'));
      await listeners[2]!.stop();
      await waitFor("the reload to start", () => existsSync(join(dir, "reload-started")));
      d.child.kill("SIGTERM");
      await waitFor("the first signal to be seen", () => d.log().includes("waiting for the apply under way"));
      d.child.kill("SIGTERM");
      const { code } = await d.exited;
      expect(code).toBe(143);
      expect(existsSync(join(dir, "reload-done"))).toBe(false);
      expect(d.log()).toContain("second signal: exiting at once");
    } finally {
      d.child.kill("SIGKILL");
    }
  });
});
