/**
 * SIGKILL of the CLI while it applies a change to a zone file, many times, at moments chosen
 * by the file system itself (the lock appearing, the temp file appearing) plus a random delay:
 * after every kill the zone is the old one or the new one, never a mix, `named-checkzone`
 * accepts it, every line that is not the pool's is byte-identical, and a later run converges
 * (a dead run's lock and temp files are taken over and cleaned up).
 * Needs named-checkzone (Debian bind9-utils; scripts/install-integration-deps.sh).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startListenersOnOnePort, type MailListener } from "../../src/demo/mail-listener.js";
import { onePoolConfig, onePoolZone } from "./helpers/one-pool.js";
import { CLI_BIN, requireBuiltCli, runCli, shown } from "./helpers/run-cli.js";
import { requireBinary, runCommand } from "./helpers/server-process.js";

const HOSTS = ["127.0.0.161", "127.0.0.162", "127.0.0.163"];
const ITERATIONS = 40;
const FILLER = Array.from({ length: 3000 }, (_, i) => `host${i} IN A 198.51.100.${i % 250} ; filler ${i}`);
const ZONE = onePoolZone(HOSTS, "kill", FILLER);

let dir: string;
let listeners: MailListener[] = [];
let checkzone: string;

/** A small deterministic generator, so a failing iteration can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

beforeAll(async () => {
  requireBuiltCli();
  checkzone = requireBinary("named-checkzone", "bind9-utils");
  dir = mkdtempSync(join(tmpdir(), "mailpool-kill-"));
  listeners = await startListenersOnOnePort("smtp", HOSTS);
  writeFileSync(join(dir, "zone.db"), ZONE);
  writeFileSync(join(dir, "mailpool.yaml"), onePoolConfig({ controllerId: "kill", hosts: HOSTS, port: listeners[0]!.port, zoneOptions: "staleLockMs: 10000" }));
});

afterAll(async () => {
  await Promise.all(listeners.map((l) => l.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const poolValues = (text: string) =>
  text
    .split("\n")
    .filter((l) => /^smtp(\.example\.com\.)?\s.*\sA\s/.test(l))
    .map((l) => l.trim().split(/\s+/).at(-1))
    .sort();
const others = (text: string) => text.split("\n").filter((l) => !/^smtp(\.example\.com\.)?\s/.test(l) && !/IN SOA/.test(l));

/** Runs `mailpool apply` and SIGKILLs it once the lock or temp file appears, after `delayMs`. */
function applyAndKill(trigger: "lock" | "tmp", delayMs: number): Promise<"killed" | number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_BIN, "apply", "-c", join(dir, "mailpool.yaml"), "--log-level", "silent"], {
      stdio: "ignore",
      env: { ...process.env, NO_COLOR: "1" },
    });
    let fired = false;
    const watcher = watch(dir, (_event, name) => {
      if (fired || !name) return;
      const hit = trigger === "lock" ? name === "zone.db.lock" || name.startsWith("zone.db.lock.new-") : name.endsWith(".tmp");
      if (!hit) return;
      fired = true;
      const kill = () => child.kill("SIGKILL");
      if (delayMs === 0) kill();
      else setTimeout(kill, delayMs);
    });
    child.on("exit", (code, signal) => {
      watcher.close();
      resolve(signal === "SIGKILL" ? "killed" : (code ?? 1));
    });
  });
}

describe("SIGKILL during zone-file applies", () => {
  it(`leaves a valid zone, old or new, after each of ${ITERATIONS} kills, and the next runs converge`, async () => {
    const random = rng(20261201);
    const original = others(ZONE);
    let killed = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      // Flip the second member each time, so every run has a change to write.
      if (i % 2 === 0) await listeners[1]!.stop();
      else await listeners[1]!.start();
      const before = poolValues(readFileSync(join(dir, "zone.db"), "latin1"));
      const outcome = await applyAndKill(random() < 0.5 ? "lock" : "tmp", Math.floor(random() * 4));
      if (outcome === "killed") killed++;
      const text = readFileSync(join(dir, "zone.db"), "latin1");
      const check = await runCommand(checkzone, ["-q", "example.com", join(dir, "zone.db")]);
      expect(check.code, `iteration ${i}: named-checkzone: ${check.stdout}${check.stderr}`).toBe(0);
      expect(others(text), `iteration ${i}: lines outside the pool changed`).toEqual(original);
      const now = poolValues(text);
      const wanted = i % 2 === 0 ? [HOSTS[0], HOSTS[2]].sort() : [...HOSTS].sort();
      expect([JSON.stringify(before), JSON.stringify(wanted)], `iteration ${i}: a mix of old and new`).toContain(JSON.stringify(now));
    }
    // The kills really landed during writes (not all after the process was done). A kill before
    // the rename leaves the next run nothing to write (it is not killed), so kills that all land
    // during writes make exactly half; more needs one to land after the rename, which is luck.
    expect(killed, `${killed} of ${ITERATIONS} runs killed`).toBeGreaterThanOrEqual(ITERATIONS / 2);

    // Two runs that write (a removal, then the reinstatement) converge and clean up after the
    // killed ones: their lock is taken over, their temp and lock-taker files removed.
    await listeners[1]!.stop();
    const removal = await runCli(["apply", "-c", join(dir, "mailpool.yaml")]);
    expect(removal.code, shown(removal)).toBe(0);
    await listeners[1]!.start();
    const last = await runCli(["apply", "-c", join(dir, "mailpool.yaml")]);
    expect(last.code, shown(last)).toBe(0);
    expect(poolValues(readFileSync(join(dir, "zone.db"), "latin1"))).toEqual([...HOSTS].sort());
    const again = await runCli(["plan", "-c", join(dir, "mailpool.yaml"), "--detailed-exitcode"]);
    expect(again.code, shown(again)).toBe(0); // nothing left to do
    expect(readdirSync(dir).filter((n) => n !== "zone.db" && n !== "mailpool.yaml")).toEqual([]);
    expect(existsSync(join(dir, "zone.db.lock"))).toBe(false);
  }, 240_000);
});
