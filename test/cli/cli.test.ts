/**
 * The built CLI as a child process, against a temporary zone file and SMTP listeners on
 * 127.0.0.x. `npm test` builds first; run `npm run build` before running this file alone.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isDateSerial } from "../../providers/zonefile/serial.js";
import { startListenersOnOnePort, type MailListener } from "../../src/demo/mail-listener.js";

const BIN = join(import.meta.dirname, "../../dist/src/cli/bin.js");
const HOSTS = ["127.0.0.41", "127.0.0.42", "127.0.0.43"];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let listeners: MailListener[] = [];
let port = 0;

const ZONE = (extra = "") => `$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1.example.com. hostmaster.example.com. ( 2026010101 3600 900 604800 300 )
  IN NS ns1
  IN MX 10 smtp ; inbound mail goes to the pool
ns1 IN A 192.0.2.53
; --- the pool ---
smtp 300 IN A ${HOSTS[0]}
smtp 300 IN A ${HOSTS[1]}
smtp 300 IN A ${HOSTS[2]}
_mailpool.smtp 300 IN TXT "mailpool owner=ci"
www IN A 192.0.2.80 ; not ours
${extra}`;

function configText(over: { fall?: number; rise?: number; listen?: string; extra?: string } = {}): string {
  return `controllerId: ci
schedule: "* * * * * *"
defaults: { rise: ${over.rise ?? 2}, fall: ${over.fall ?? 2}, confirmIntervalMs: 50 }
daemon: { listen: "${over.listen ?? ""}" }
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
${over.extra ?? ""}`;
}

const zonePath = () => join(dir, "zone.db");
const configPath = () => join(dir, "mailpool.yaml");
const poolLines = async () => (await readFile(zonePath(), "utf8")).split("\n").filter((l) => /^smtp(\.example\.com\.)?\s.*\sA\s/.test(l));

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  listeners = await startListenersOnOnePort("smtp", HOSTS);
  port = listeners[0]!.port;
});

afterAll(async () => {
  await Promise.all(listeners.map((l) => l.stop()));
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mailpool-cli-"));
  await writeFile(zonePath(), ZONE());
  await writeFile(configPath(), configText());
  await Promise.all(listeners.map((l) => l.start().catch(() => undefined)));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("mailpool apply (one-shot)", () => {
  it("removes a stopped member after `fall` failed probes, and reinstates it after `rise` passes", async () => {
    await listeners[1]!.stop();
    const down = await cli(["apply", "-c", configPath()]);
    expect(down.stderr).toBe("");
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`- A    remove ${HOSTS[1]}: mx2 (${HOSTS[1]}) is down: 2 of 2 probe(s) failed: mx: connection refused`);
    expect(await poolLines()).toEqual([expect.stringContaining(HOSTS[0]!), expect.stringContaining(HOSTS[2]!)]);
    const zone = await readFile(zonePath(), "utf8");
    const serial = Number(/IN SOA \S+ \S+ \( ([0-9]+) /.exec(zone)?.[1]);
    expect(serial).toBeGreaterThan(2026010101); // the serial grew …
    expect(isDateSerial(serial)).toBe(true); // … and keeps its YYYYMMDDnn style
    expect(zone).toContain("www IN A 192.0.2.80 ; not ours");
    expect(zone).toContain("IN MX 10 smtp ; inbound mail goes to the pool");

    await listeners[1]!.start();
    const up = await cli(["apply", "-c", configPath()]);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`+ A    reinstate ${HOSTS[1]}: mx2 (${HOSTS[1]}) is up again: 2 of 2 probe(s) passed`);
    expect((await poolLines()).join("\n")).toContain(HOSTS[1]);
  });

  it("plans the same with probeThreads: 3 (the main thread and two workers) as on the main thread alone", async () => {
    await listeners[1]!.stop();
    const alone = await cli(["plan", "-c", configPath()]);
    await writeFile(configPath(), configText({ extra: "probeThreads: 3\n" }));
    const threaded = await cli(["plan", "-c", configPath()]);
    expect(threaded.stderr).toBe("");
    expect(threaded.code).toBe(alone.code);
    expect(threaded.stdout).toBe(alone.stdout);
    expect(threaded.stdout).toContain(`- A    remove ${HOSTS[1]}: mx2 (${HOSTS[1]}) is down: 2 of 2 probe(s) failed: mx: connection refused`);
  });

  it("changes nothing when every member is down, and says why", async () => {
    await Promise.all(listeners.map((l) => l.stop()));
    const before = await readFile(zonePath());
    const r = await cli(["apply", "-c", configPath()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("held by failOpen");
    expect(r.stdout).toContain("alarm: every member of smtp.example.com is down; changing nothing (fail open)");
    expect(await readFile(zonePath())).toEqual(before);
  });

  it("leaves a pool without this controller's marker alone", async () => {
    await writeFile(zonePath(), ZONE().replace('"mailpool owner=ci"', '"mailpool owner=someone-else"'));
    await listeners[0]!.stop();
    const before = await readFile(zonePath());
    const r = await cli(["apply", "-c", configPath()]);
    expect(r.stdout).toContain("held by ownership: _mailpool.smtp.example.com names controller someone-else, not ci");
    expect(await readFile(zonePath())).toEqual(before);
  });
});

describe("mailpool plan", () => {
  it("prints the plan and leaves the zone file byte-identical; --detailed-exitcode says changes are pending", async () => {
    await listeners[2]!.stop();
    const before = await readFile(zonePath());
    const r = await cli(["plan", "-c", configPath(), "--detailed-exitcode"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`remove ${HOSTS[2]}`);
    expect(r.stdout).toContain("(dry run: nothing changed)");
    expect(await readFile(zonePath())).toEqual(before);
    expect(existsSync(`${zonePath()}.lock`)).toBe(false);
  });

  it("exits 0 with --detailed-exitcode when nothing is pending", async () => {
    const r = await cli(["plan", "-c", configPath(), "--detailed-exitcode"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("no changes");
  });

  it("prints the documented JSON shape", async () => {
    await listeners[0]!.stop();
    const r = await cli(["plan", "-c", configPath(), "--output", "json"]);
    const plan = JSON.parse(r.stdout);
    expect(plan).toMatchObject({ version: 1, mode: "plan", dryRun: true, controllerId: "ci", summary: { remove: 1, held: 0, errors: 0 } });
    expect(plan.pools[0].actions[0]).toEqual(expect.objectContaining({ kind: "remove", type: "A", address: HOSTS[0] }));
    expect(plan.pools[0].health.find((h: { address: string }) => h.address === HOSTS[0]).health).toBe("down");
  });
});

describe("mailpool adopt", () => {
  it("writes the ownership marker so the pool can be managed", async () => {
    await writeFile(zonePath(), ZONE().replace(/^_mailpool.*\n/m, ""));
    const r = await cli(["adopt", "-c", configPath()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("adopt (write ownership marker)");
    expect(await readFile(zonePath(), "utf8")).toMatch(/_mailpool\.smtp\.example\.com\.\s+300\s+IN\s+TXT\s+"mailpool owner=ci"/);
  });

  it("exits 1 and prints the holding rule when another controller owns the pool", async () => {
    await writeFile(zonePath(), ZONE().replace('"mailpool owner=ci"', '"mailpool owner=someone-else"'));
    const before = await readFile(zonePath());
    const r = await cli(["adopt", "-c", configPath()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "! TXT  adopt (write ownership marker) held by ownership: _mailpool.smtp.example.com names controller someone-else; adopt does not take a pool from another controller",
    );
    expect(r.stdout).toContain("1 held");
    expect(await readFile(zonePath())).toEqual(before);
  });
});

describe("config errors", () => {
  it("exit 78 and name the place; nothing is changed", async () => {
    const before = await readFile(zonePath());
    await writeFile(configPath(), configText().replace("checks: [mx]", "checks: [mx]\n    ttl: 60"));
    const ttl = await cli(["apply", "-c", configPath()]);
    expect(ttl.code).toBe(78);
    expect(ttl.stderr).toContain("pools[0].ttl: 60 is outside 300–900");
    await writeFile(configPath(), configText().replace("providers:", "defaults_typo: 1\nproviders:"));
    const typo = await cli(["apply", "-c", configPath()]);
    expect(typo.code).toBe(78);
    expect(typo.stderr).toContain("defaults_typo: unknown key");
    expect(await readFile(zonePath())).toEqual(before);
  });

  it("validate says ok for a good file and 78 for a missing one", async () => {
    expect((await cli(["validate", "-c", configPath()])).stdout).toContain("ok (1 pool(s), 3 member(s), 1 provider(s))");
    const missing = await cli(["validate", "-c", join(dir, "nope.yaml")]);
    expect(missing.code).toBe(78);
    expect(missing.stderr).toContain("cannot read");
  });

  it("a Cloudflare block without a token is a config error for validate and plan alike", async () => {
    await writeFile(
      configPath(),
      configText().replace("  zone: { type: zonefile, path: zone.db }", '  zone: { type: cloudflare, zoneName: example.com, apiToken: "${CF_API_TOKEN}" }'),
    );
    for (const command of ["validate", "plan"]) {
      const r = await cli([command, "-c", configPath()], { CF_API_TOKEN: "" });
      expect(r.code).toBe(78);
      expect(r.stderr).toContain("providers.zone.apiToken: is empty after ${CF_API_TOKEN} was resolved");
      expect(r.stdout).toBe("");
    }
    // No apiToken key: the token would come from CLOUDFLARE_API_TOKEN, which is empty here.
    await writeFile(configPath(), configText().replace("  zone: { type: zonefile, path: zone.db }", "  zone: { type: cloudflare, zoneName: example.com }"));
    for (const command of ["validate", "plan"]) {
      const r = await cli([command, "-c", configPath()], { CLOUDFLARE_API_TOKEN: "" });
      expect(r.code).toBe(78);
      expect(r.stderr).toContain("providers.zone.apiToken: no Cloudflare API token");
    }
  });

  it("usage errors exit 64", async () => {
    expect((await cli(["frobnicate"])).code).toBe(64);
    expect((await cli([])).code).toBe(64);
    expect((await cli(["plan", "--bogus"])).code).toBe(64);
    expect((await cli(["probe", "gopher://x"])).code).toBe(64);
  });
});

describe("mailpool probe and schema", () => {
  it("probes a URL and prints phases; exit 1 when the handshake fails", async () => {
    const ok = await cli(["probe", `smtp://${HOSTS[0]}:${port}`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/: ok\n/);
    expect(ok.stdout).toContain("greeting");
    await listeners[0]!.stop();
    const bad = await cli(["probe", `smtp://${HOSTS[0]}:${port}`, "--output", "json"]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)[0]).toMatchObject({ ok: false, reason: expect.stringContaining("connection refused") });
  });

  it("probes every member of a configured pool", async () => {
    const r = await cli(["probe", "smtp.example.com", "-c", configPath()]);
    expect(r.code).toBe(0);
    for (const h of HOSTS) expect(r.stdout).toContain(`smtp.example.com ${h}:${port} (mx): ok`);
  });

  it("prints the config's JSON Schema", async () => {
    const r = await cli(["schema"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: "object", required: expect.arrayContaining(["controllerId", "providers", "pools"]) });
  });
});

describe("mailpool run (daemon)", () => {
  it("serves health and metrics, removes a dead member after `fall` cycles, and stops on SIGTERM", async () => {
    await writeFile(configPath(), configText({ listen: "127.0.0.1:0", fall: 2, rise: 1 }));
    const { child, log, exited, address } = await startDaemon();
    try {
      expect(await (await fetch(`${address}/healthz`)).text()).toBe("ok\n");
      await waitFor(async () => ((await fetch(`${address}/readyz`)).status === 200 ? true : undefined));
      await listeners[1]!.stop();
      await waitFor(async () => (!(await readFile(zonePath(), "utf8")).includes(HOSTS[1]!) ? true : undefined));
      const metrics = await waitFor(async () => {
        const text = await (await fetch(`${address}/metrics`)).text();
        return text.includes('mailpool_changes_applied_total{kind="remove"}') ? text : undefined;
      });
      expect(metrics).toContain(`mailpool_address_up{pool="smtp.example.com",address="${HOSTS[1]}",role="member"} 0`);
      expect(metrics).toMatch(/mailpool_changes_applied_total\{kind="remove"\} 1/);
      const changed = log().split("\n").find((l) => l.includes('"msg":"dns changed"'));
      expect(JSON.parse(changed!)).toMatchObject({ pool: "smtp.example.com", kind: "remove", address: HOSTS[1], reason: expect.stringContaining("is down") });
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(log()).toContain("mailpool daemon stopped");
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("mailpool run (daemon) and SIGHUP", () => {
  it("keeps the running config when the new one is bad, and takes a good one", async () => {
    await writeFile(configPath(), configText({ listen: "127.0.0.1:0" }));
    const { child, log, exited, address } = await startDaemon();
    try {
      await waitFor(async () => ((await fetch(`${address}/readyz`)).status === 200 ? true : undefined));

      await writeFile(configPath(), configText().replace("checks: [mx]", "checks: [mx]\n    ttl: 60"));
      child.kill("SIGHUP");
      await waitFor(() => (log().includes("config reload failed; keeping the running config") ? true : undefined));
      expect(log()).toContain("pools[0].ttl: 60 is outside 300–900");
      expect((await fetch(`${address}/healthz`)).status).toBe(200);

      await writeFile(configPath(), configText({ listen: "127.0.0.1:0", extra: "      - { address: 127.0.0.44, label: mx4 }" }));
      child.kill("SIGHUP");
      await waitFor(() => (log().includes('"msg":"config reloaded"') ? true : undefined));
      const metrics = await waitFor(async () => {
        const text = await (await fetch(`${address}/metrics`)).text();
        return text.includes('address="127.0.0.44"') ? text : undefined;
      });
      expect(metrics).toContain('mailpool_probe_success{pool="smtp.example.com",address="127.0.0.44",check="mx"} 0');
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("one-shot commands and the process around them", () => {
  /** A server that accepts and never greets: a probe against it waits until its deadline. */
  let silent: Server;
  let silentPort = 0;
  const accepted: Socket[] = [];
  beforeAll(async () => {
    silent = createServer((socket) => accepted.push(socket));
    await new Promise<void>((r) => silent.listen(0, HOSTS[0], r));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of accepted) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  /** The CLI with its probes hanging on the silent server; resolves once a probe is connected. */
  async function startHanging(args: string[]) {
    await writeFile(configPath(), configText().replace(`port: ${port},`, `port: ${silentPort},`).replace("timeoutMs: 2000", "timeoutMs: 60000"));
    const seen = accepted.length;
    const child = spawn(process.execPath, [BIN, ...args, "-c", configPath()], { env: { ...process.env, NO_COLOR: "1" } });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })));
    await waitFor(() => (accepted.length > seen ? true : undefined));
    return { child, exited, stderr: () => stderr, stdout: () => stdout };
  }

  const jsonLinesOnly = (text: string) => {
    for (const line of text.split("\n").filter((l) => l !== "")) expect(() => JSON.parse(line), line).not.toThrow();
  };

  it("plan interrupted by SIGINT exits 130 and writes nothing", async () => {
    const before = await readFile(zonePath());
    const run = await startHanging(["plan"]);
    run.child.kill("SIGINT");
    expect(await run.exited).toEqual({ code: 130, signal: null });
    jsonLinesOnly(run.stderr());
    expect(run.stderr()).toContain('"signal":"SIGINT"');
    expect(await readFile(zonePath())).toEqual(before);
  });

  it("apply interrupted by SIGTERM while probing exits 143 and writes nothing", async () => {
    const before = await readFile(zonePath());
    const run = await startHanging(["apply"]);
    run.child.kill("SIGTERM");
    expect(await run.exited).toEqual({ code: 143, signal: null });
    jsonLinesOnly(run.stderr());
    expect(await readFile(zonePath())).toEqual(before);
    expect(existsSync(`${zonePath()}.lock`)).toBe(false);
  });

  it("apply interrupted by SIGTERM during the reload exits 143, says what it wrote, and leaves the reload pending", async () => {
    const started = join(dir, "reload-started");
    await writeFile(
      configPath(),
      configText().replace("zone: { type: zonefile, path: zone.db }", `zone: { type: zonefile, path: zone.db, reloadCommand: ["sh", "-c", "touch '${started}'; exec sleep 60"] }`),
    );
    await listeners[1]!.stop();
    const child = spawn(process.execPath, [BIN, "apply", "-c", configPath()], { env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    await waitFor(() => (existsSync(started) ? true : undefined));
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(stdout).toContain(`- A    remove ${HOSTS[1]}`);
    expect(stdout).toMatch(/applied 1 RRset change\(s\)/);
    expect((await poolLines()).join("\n")).not.toContain(HOSTS[1]);
    expect(existsSync(`${zonePath()}.lock`)).toBe(false);
    expect(existsSync(`${zonePath()}.reload-pending`)).toBe(true); // the next run reloads
    jsonLinesOnly(stderr);
  });

  it("probe interrupted by SIGINT exits 130", async () => {
    const seen = accepted.length;
    const child = spawn(process.execPath, [BIN, "probe", `smtp://${HOSTS[0]}:${silentPort}`, "--timeout", "60000"]);
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    await waitFor(() => (accepted.length > seen ? true : undefined));
    child.kill("SIGINT");
    expect(await exited).toBe(130);
  });

  it("ends quietly when the reader of its output has gone (`mailpool plan | head -1`)", async () => {
    const child = spawn(process.execPath, [BIN, "plan", "-c", configPath()], { env: { ...process.env, NO_COLOR: "1" } });
    // The reader closes its end before the plan is printed, as `head -1` does after its line.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});

/** `mailpool run` as a child process, with its stderr log and the address of its HTTP endpoint. */
async function startDaemon() {
  const child = spawn(process.execPath, [BIN, "run", "-c", configPath(), "--log-level", "info"], { env: { ...process.env, NO_COLOR: "1" } });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const log = () => stderr;
  const address = await waitFor(() => {
    const line = stderr.split("\n").find((l) => l.includes("endpoint listening"));
    return line ? `http://127.0.0.1:${JSON.parse(line).port}` : undefined;
  });
  return { child, log, exited, address };
}

async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}
