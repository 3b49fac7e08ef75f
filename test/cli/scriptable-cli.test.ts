/**
 * The scriptable CLI (issue 15), through the built CLI as a child process (no terminal, so never
 * a prompt) against a temporary zone file and SMTP listeners on 127.0.0.5x: plan --out / show /
 * apply FILE, MAILPOOL_* options with flags winning, and --output json everywhere, parsed.
 * The confirmation prompt is tested in-process through main()'s injected stdin/isTTY seam.
 * `npm test` builds first; run `npm run build` before running this file alone.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { startListenersOnOnePort, type MailListener } from "../../src/demo/mail-listener.js";

const BIN = join(import.meta.dirname, "../../dist/src/cli/bin.js");
const HOSTS = ["127.0.0.51", "127.0.0.52", "127.0.0.53"];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MAILPOOL_")));
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...clean, NO_COLOR: "1", ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let listeners: MailListener[] = [];
let port = 0;

const ZONE = `$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1.example.com. hostmaster.example.com. ( 2026010101 3600 900 604800 300 )
  IN NS ns1
ns1 IN A 192.0.2.53
smtp 300 IN A ${HOSTS[0]}
smtp 300 IN A ${HOSTS[1]}
smtp 300 IN A ${HOSTS[2]}
_mailpool.smtp 300 IN TXT "mailpool owner=ci"
`;

const configText = (fall = 2) => `controllerId: ci
defaults: { rise: 2, fall: ${fall}, confirmIntervalMs: 50 }
daemon: { listen: "" }
providers:
  zone: { type: zonefile, path: zone.db }
checks:
  mx: { module: smtp, port: ${port}, connectTimeoutMs: 1000, timeoutMs: 2000 }
pools:
  - name: smtp.example.com
    provider: zone
    checks: [mx]
    members:
${HOSTS.map((h, i) => `      - { address: ${h}, label: mx${i + 1} }`).join("\n")}
`;

const zonePath = () => join(dir, "zone.db");
const configPath = () => join(dir, "mailpool.yaml");
const planPath = () => join(dir, "plan.json");
const zone = () => readFile(zonePath(), "utf8");

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  listeners = await startListenersOnOnePort("smtp", HOSTS);
  port = listeners[0]!.port;
});

afterAll(async () => {
  await Promise.all(listeners.map((l) => l.stop()));
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mailpool-scriptable-"));
  await writeFile(zonePath(), ZONE);
  await writeFile(configPath(), configText());
  await Promise.all(listeners.map((l) => l.start().catch(() => undefined)));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("plan --out, show, apply FILE", () => {
  it("saves the plan, shows it, applies exactly it once, and refuses it the second time", async () => {
    await listeners[1]!.stop();
    const planned = await cli(["plan", "-c", configPath(), "--out", planPath()]);
    expect(planned.code).toBe(0);
    expect(planned.stderr).toContain(`Saved the plan to ${planPath()}`);
    expect(await zone()).toBe(ZONE);

    const saved = JSON.parse(await readFile(planPath(), "utf8"));
    expect(saved).toMatchObject({ format: "mailpool-plan", version: 1, controllerId: "ci", configHash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });

    const shown = await cli(["show", planPath()]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`- A    remove ${HOSTS[1]}: mx2 (${HOSTS[1]}) is down`);
    expect(shown.stdout).toMatch(/Saved plan .*: controller ci, created \S+, expires \S+/);
    const shownJson = await cli(["show", planPath(), "--output", "json"]);
    expect(JSON.parse(shownJson.stdout)).toEqual(saved);

    // The member came back meanwhile: the saved plan is still what is applied (that is the point).
    await listeners[1]!.start();
    const applied = await cli(["apply", planPath(), "-c", configPath(), "--output", "json"]);
    expect(applied.code).toBe(0);
    const report = JSON.parse(applied.stdout);
    expect(report).toMatchObject({ mode: "apply", dryRun: false, summary: { remove: 1 } });
    expect(report.providers[0].applied.changes).toBe(1);
    expect(await zone()).not.toContain(HOSTS[1]);

    const again = await cli(["apply", planPath(), "-c", configPath()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`refusing to apply ${planPath()}; nothing was changed`);
    expect(again.stderr).toContain("smtp.example.com A changed since the plan was made");
  });

  it("refuses when the config changed, and a file that is no plan", async () => {
    await listeners[1]!.stop();
    await cli(["plan", "-c", configPath(), "--out", planPath()]);
    await writeFile(configPath(), configText(3));
    const r = await cli(["apply", planPath(), "-c", configPath(), "--output", "json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "refused", reasons: [expect.stringContaining("the config changed")] });
    await writeFile(planPath(), '{"format":"mailpool-plan","version":1}');
    const bad = await cli(["apply", planPath(), "-c", configPath(), "--output", "json"]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr)).toMatchObject({ error: "plan-file", message: expect.stringContaining("not a mailpool plan file") });
    expect(await zone()).toBe(ZONE);
  });

  it("--max-age on plan sets the expiry on the injected clock; show and apply see it expired", async () => {
    await listeners[1]!.stop();
    const t0 = new Date("2031-03-04T05:06:07.000Z");
    const clock = (minutes: number) => () => new Date(t0.getTime() + minutes * 60_000);
    const sink = () => {
      const chunks: string[] = [];
      return { chunks, write: (s: string) => chunks.push(s) };
    };
    const quiet = ["-c", configPath(), "--log-level", "silent"];
    const planned = { stdout: sink(), stderr: sink() };
    expect(await main([...quiet, "plan", "--out", planPath(), "--max-age", "5m"], {}, { now: clock(0), isTTY: false, ...planned })).toBe(0);
    const saved = JSON.parse(await readFile(planPath(), "utf8"));
    expect([saved.createdAt, saved.expiresAt]).toEqual(["2031-03-04T05:06:07.000Z", "2031-03-04T05:11:07.000Z"]);

    const shown = sink();
    await main([...quiet, "show", planPath()], {}, { now: clock(6), stdout: shown, stderr: sink() });
    expect(shown.chunks.join("")).toContain("EXPIRED 2031-03-04T05:11:07.000Z");

    const refused = { stdout: sink(), stderr: sink() };
    expect(await main([...quiet, "apply", planPath()], {}, { now: clock(6), ...refused })).toBe(1);
    expect(refused.stderr.chunks.join("")).toContain("the plan expired at 2031-03-04T05:11:07.000Z");
    // apply --max-age is counted from createdAt: 2 minutes old is too old for 1m.
    const young = { stdout: sink(), stderr: sink() };
    expect(await main([...quiet, "apply", planPath(), "--max-age", "1m"], {}, { now: clock(2), ...young })).toBe(1);
    expect(young.stderr.chunks.join("")).toContain("more than --max-age 1 min");
    expect(await zone()).toBe(ZONE);
    const fresh = { stdout: sink(), stderr: sink() };
    expect(await main([...quiet, "apply", planPath()], {}, { now: clock(2), ...fresh })).toBe(0);
    expect(await zone()).not.toContain(HOSTS[1]);
  });

  it("apply FILE takes no --pool (the plan says); a plan made with --force needs apply --force", async () => {
    expect((await cli(["apply", planPath(), "--pool", "smtp.example.com", "-c", configPath()])).code).toBe(64);
    await listeners[1]!.stop();
    await cli(["plan", "--force", "-c", configPath(), "--out", planPath()]);
    const r = await cli(["apply", planPath(), "-c", configPath()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the plan was made with --force");
    expect(await zone()).toBe(ZONE);
    expect((await cli(["apply", planPath(), "--force", "-c", configPath()])).code).toBe(0);
    expect(await zone()).not.toContain(HOSTS[1]);
  });
});

describe("apply without a file", () => {
  it("with no terminal applies without asking", async () => {
    await listeners[2]!.stop();
    const r = await cli(["apply", "-c", configPath()]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("Apply ");
    expect(await zone()).not.toContain(HOSTS[2]);
  });

  const io = (answer: string | null) => {
    const stdin = new PassThrough();
    if (answer !== null) stdin.end(answer);
    else stdin.end();
    const out: string[] = [];
    const err: string[] = [];
    return { io: { isTTY: true, stdin, stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } }, out, err };
  };

  it("on a terminal shows the plan, asks, and applies that plan on y", async () => {
    await listeners[2]!.stop();
    const t = io("y\n");
    const code = await main(["-c", configPath(), "--log-level", "silent", "apply"], { NO_COLOR: "1" }, t.io);
    expect(t.err.join("")).toContain("Apply 1 change to 1 pool? [y/N] ");
    expect(t.out.join("")).toContain(`remove ${HOSTS[2]}`);
    expect(code).toBe(0);
    expect(await zone()).not.toContain(HOSTS[2]);
  });

  it("on a terminal changes nothing on anything but y (and at end of input)", async () => {
    await listeners[2]!.stop();
    for (const answer of ["n\n", "\n", "yes please\n", null]) {
      const t = io(answer);
      const code = await main(["-c", configPath(), "--log-level", "silent", "apply"], { NO_COLOR: "1" }, t.io);
      expect(code).toBe(1);
      expect(t.err.join("")).toContain("Nothing applied.");
      expect(await zone()).toBe(ZONE);
    }
  });

  it("--yes (or MAILPOOL_YES) skips the question on a terminal", async () => {
    await listeners[2]!.stop();
    const t = io(null);
    const code = await main(["-c", configPath(), "--log-level", "silent", "apply"], { NO_COLOR: "1", MAILPOOL_YES: "1" }, t.io);
    expect(code).toBe(0);
    expect(t.err.join("")).not.toContain("Apply ");
    expect(await zone()).not.toContain(HOSTS[2]);
  });

  it("on a terminal with nothing to do asks nothing", async () => {
    const t = io(null);
    expect(await main(["-c", configPath(), "--log-level", "silent", "apply"], {}, t.io)).toBe(0);
    expect(t.err.join("")).toBe("");
  });
});

describe("options from the environment", () => {
  it("MAILPOOL_CONFIG and MAILPOOL_OUTPUT set what flags would; a flag wins", async () => {
    const viaEnv = await cli(["validate"], { MAILPOOL_CONFIG: configPath(), MAILPOOL_OUTPUT: "json" });
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toEqual({ ok: true, config: configPath(), pools: 1, members: 3, providers: 1 });
    const flagWins = await cli(["--output", "text", "validate"], { MAILPOOL_CONFIG: configPath(), MAILPOOL_OUTPUT: "json" });
    expect(flagWins.stdout).toBe(`${configPath()}: ok (1 pool(s), 3 member(s), 1 provider(s))\n`);
    const bad = await cli(["validate"], { MAILPOOL_CONFIG: configPath(), MAILPOOL_OUTPUT: "yaml" });
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('MAILPOOL_OUTPUT: "yaml" is not one of text, json');
  });

  it("MAILPOOL_DRY_RUN=1 makes run --once a dry run; =false does not; anything else is a usage error", async () => {
    await listeners[0]!.stop();
    const dry = await cli(["run", "--once", "-c", configPath()], { MAILPOOL_DRY_RUN: "1" });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("(dry run: nothing changed)");
    expect(await zone()).toBe(ZONE);
    const maybe = await cli(["run", "--once", "-c", configPath()], { MAILPOOL_DRY_RUN: "maybe" });
    expect(maybe.code).toBe(64);
    expect(maybe.stderr).toContain('MAILPOOL_DRY_RUN: "maybe" is not a boolean');
    const wet = await cli(["run", "-c", configPath()], { MAILPOOL_DRY_RUN: "false", MAILPOOL_ONCE: "true" });
    expect(wet.code).toBe(0);
    expect(await zone()).not.toContain(HOSTS[0]);
  });

  it("MAILPOOL_LOG_LEVEL sets the log level; --log-level wins; a bad value is a usage error", async () => {
    // A missing zone file: the provider's failure is logged at error level.
    await writeFile(configPath(), configText().replace("path: zone.db", "path: missing.db"));
    const env = { MAILPOOL_CONFIG: configPath() };
    const logged = (r: Run) => r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string });
    expect(logged(await cli(["plan"], env)).map((l) => l.msg)).toContain("provider cycle failed");
    expect(logged(await cli(["plan"], { ...env, MAILPOOL_LOG_LEVEL: "silent" }))).toEqual([]);
    expect(logged(await cli(["plan", "--log-level", "error"], { ...env, MAILPOOL_LOG_LEVEL: "silent" })).map((l) => l.msg)).toContain("provider cycle failed");
    expect((await cli(["plan"], { ...env, MAILPOOL_LOG_LEVEL: "loud" })).code).toBe(64);
  });

  it("MAILPOOL_POOL takes names separated by spaces or commas; MAILPOOL_MAX_AGE a duration", async () => {
    const env = { MAILPOOL_CONFIG: configPath() };
    const unknown = await cli(["plan"], { ...env, MAILPOOL_POOL: "smtp.example.com, imap.example.com" });
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain("--pool imap.example.com: not a pool");
    expect((await cli(["plan"], { ...env, MAILPOOL_POOL: "smtp.example.com" })).code).toBe(0);
    const badAge = await cli(["plan", "--out", planPath()], { ...env, MAILPOOL_MAX_AGE: "forever" });
    expect(badAge.code).toBe(64);
    expect(badAge.stderr).toContain('MAILPOOL_MAX_AGE: --max-age: "forever" is not a duration');
    expect((await cli(["plan", "--out", planPath()], { ...env, MAILPOOL_MAX_AGE: "2h" })).code).toBe(0);
    const saved = JSON.parse(await readFile(planPath(), "utf8"));
    expect(Date.parse(saved.expiresAt) - Date.parse(saved.createdAt)).toBe(2 * 3_600_000);
  });

  it("--help names each variable", async () => {
    const help = async (args: string[]) => (await cli(args)).stdout.replace(/\s+/g, " ");
    const top = { stdout: await help(["--help"]) };
    for (const name of ["MAILPOOL_CONFIG", "MAILPOOL_OUTPUT", "MAILPOOL_LOG_LEVEL"]) expect(top.stdout).toContain(`(env: ${name})`);
    const apply = { stdout: await help(["apply", "--help"]) };
    for (const name of ["MAILPOOL_YES", "MAILPOOL_MAX_AGE", "MAILPOOL_FORCE", "MAILPOOL_POOL"]) expect(apply.stdout).toContain(`(env: ${name})`);
    const run = { stdout: await help(["run", "--help"]) };
    for (const name of ["MAILPOOL_ONCE", "MAILPOOL_DRY_RUN"]) expect(run.stdout).toContain(`(env: ${name})`);
  });
});

describe("--output json", () => {
  it("a config error is one JSON object on stderr with each problem's path and message", async () => {
    await writeFile(configPath(), configText().replace("controllerId: ci", "controllerId: ci\ndefaults2: 1").replace("rise: 2", "rise: 0"));
    const r = await cli(["validate", "-c", configPath(), "--output", "json"]);
    expect(r.code).toBe(78);
    expect(r.stdout).toBe("");
    const err = JSON.parse(r.stderr);
    expect(err).toMatchObject({ error: "config", source: configPath() });
    expect(err.problems).toEqual(
      expect.arrayContaining([
        { path: "defaults2", message: "unknown key" },
        { path: "defaults.rise", message: expect.stringContaining("1") },
      ]),
    );
    const missing = await cli(["plan", "-c", join(dir, "nope.yaml")], { MAILPOOL_OUTPUT: "json" });
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: "config", problems: [{ path: null, message: expect.stringContaining("cannot read") }] });
  });

  it("a usage error is JSON too", async () => {
    const r = await cli(["--output", "json", "apply", "--max-age", "soon"]);
    expect(r.code).toBe(64);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: "usage", message: expect.stringContaining("--max-age") });
    // Commander's own errors too, as the one object and nothing else.
    const unknown = await cli(["--output", "json", "plan", "--bogus"]);
    expect(unknown.code).toBe(64);
    expect(JSON.parse(unknown.stderr)).toEqual({ error: "usage", message: "unknown option '--bogus'" });
    const none = await cli([], { MAILPOOL_OUTPUT: "json" });
    expect(JSON.parse(none.stderr)).toEqual({ error: "usage", message: "no command given; see mailpool --help" });
  });

  it("probe of a pool prints a JSON array of observations", async () => {
    const r = await cli(["probe", "smtp.example.com", "-c", configPath(), "--output", "json"]);
    expect(r.code).toBe(0);
    const obs = JSON.parse(r.stdout);
    expect(obs).toHaveLength(3);
    expect(obs.every((o: { ok: boolean }) => o.ok)).toBe(true);
  });

  it("run --dry-run (the daemon) writes one compact JSON object per line per cycle", async () => {
    await writeFile(configPath(), configText().replace("controllerId: ci", 'controllerId: ci\nschedule: "* * * * * *"').replace("daemon: { listen: \"\" }", "daemon: { listen: \"\", probeSpreadPercent: 0 }"));
    await listeners[0]!.stop();
    const child = spawn(process.execPath, [BIN, "run", "--dry-run", "-c", configPath(), "--output", "json", "--log-level", "silent"], { env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000; // a bound on the test, not a claim about speed
      while (out.split("\n").filter((l) => l !== "").length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      const lines = out.split("\n").filter((l) => l !== "");
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const line of lines) {
        expect(line.startsWith("{") && !line.includes("\n")).toBe(true);
        expect(JSON.parse(line)).toMatchObject({ mode: "run", dryRun: true, summary: { remove: 1 } });
      }
      expect(await zone()).toBe(ZONE);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("run --once --dry-run writes one compact JSON object per line", async () => {
    await listeners[0]!.stop();
    const r = await cli(["run", "--once", "--dry-run", "-c", configPath(), "--output", "json"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ mode: "plan", dryRun: true, summary: { remove: 1 } });
  });
});
