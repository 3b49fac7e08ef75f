/**
 * The whole product against real servers: named serves example.com from a zone file; the pool
 * smtp.example.com has three real Postfix members (127.0.0.141–143, STARTTLS with a certificate
 * for the pool name); the built CLI (`mailpool plan` / `apply`) probes them and edits the zone
 * file through the zonefile provider, whose reloadCommand is `rndc … reload example.com`.
 * What named answers (dig) is the proof: the edit, the serial bump and the reload all worked.
 * Needs root and the Debian packages (scripts/install-integration-deps.sh); fails without them.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTsigKey, startBind, type BindServer } from "./helpers/bind-server.js";
import { freePort } from "./helpers/free-port.js";
import { makeIntegrationPki, type IntegrationPki } from "./helpers/integration-pki.js";
import { startPostfix, type PostfixServer } from "./helpers/postfix-server.js";
import { requireBuiltCli, runCli, shown, type CliRun } from "./helpers/run-cli.js";
import { waitFor } from "./helpers/server-process.js";

const HOSTS = ["127.0.0.141", "127.0.0.142", "127.0.0.143"] as const;
const DEAD = HOSTS[1];
const POOL = "smtp.example.com";

const ZONE = `$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1.example.com. hostmaster.example.com. ( 2026010101 3600 900 604800 300 )
  IN NS ns1
  IN MX 10 smtp ; inbound mail goes to the pool
ns1 IN A 127.0.0.1
; --- the pool, kept true by mailpool ---
smtp 300 IN A ${HOSTS[0]}
smtp 300 IN A ${HOSTS[1]}
smtp 300 IN A ${HOSTS[2]}
_mailpool.smtp 300 IN TXT "mailpool owner=it"
www IN A 192.0.2.80 ; not ours
`;

interface PlanJson {
  dryRun: boolean;
  pools: {
    pool: string;
    owner: string | null;
    health: { address: string; health: string; reason: string }[];
    actions: { kind: string; type: string; address: string | null }[];
    held: unknown[];
    alarms: string[];
  }[];
  providers: { name: string; applied: { changes: number; notes: string[] } | null; error: string | null }[];
  summary: Record<string, number>;
}

let dir: string;
let pki: IntegrationPki;
let port: number;
let members: PostfixServer[] = [];
let bind: BindServer | undefined;
let configFile: string;

const named = (): BindServer => {
  if (!bind) throw new Error("named did not start (see beforeAll)");
  return bind;
};
const member = (host: string): PostfixServer => {
  const found = members.find((m) => m.host === host);
  if (!found) throw new Error(`Postfix on ${host} did not start (see beforeAll)`);
  return found;
};
const poolAnswer = () => named().dig(POOL, "A");
const zoneText = () => readFileSync(named().zoneFile, "utf8");
const json = (run: CliRun): PlanJson => {
  try {
    return JSON.parse(run.stdout) as PlanJson;
  } catch {
    throw new Error(`not JSON:\n${shown(run)}`);
  }
};
/** named reloads asynchronously ("zone reload queued"): poll until it serves `expected`. */
const servedEventually = (expected: readonly string[]) =>
  waitFor(
    `named to serve ${POOL} A = ${expected.join(" ")}`,
    async () => {
      const now = await poolAnswer();
      return JSON.stringify(now) === JSON.stringify([...expected].sort()) ? { value: now } : { note: `serves ${now.join(" ") || "nothing"}` };
    },
    { timeoutMs: 15_000, intervalMs: 200, diagnostics: () => `--- zone file ---\n${zoneText()}\n${named().diagnostics()}` },
  );

/** The config: one zonefile provider reloading named with `reloadCommand`, one pool of three members. */
const configText = (reloadCommand: readonly string[]): string => `# written by test/integration/bind-zonefile-pool.test.ts
controllerId: it
defaults: { ttl: 300, rise: 2, fall: 2, confirmIntervalMs: 200 }
daemon: { listen: "" }
retry: { retries: 1, minTimeoutMs: 100, maxTimeoutMs: 500 }
providers:
  bind:
    type: zonefile
    path: ${JSON.stringify(named().zoneFile)}
    reloadCommand: ${JSON.stringify(reloadCommand)}
    reloadTimeoutMs: 10000
checks:
  mx-starttls:
    module: smtp
    port: ${port}
    tls: starttls
    connectTimeoutMs: 1000
    timeoutMs: 3000
    ehloName: prober.mailpool.test
    expectGreeting: "^220 mx[0-9]\\\\.example\\\\.com ESMTP"
    tlsRules: { caFile: ${JSON.stringify(pki.caFile)} }
pools:
  - name: ${POOL}
    provider: bind
    checks: [mx-starttls]
    members:
${HOSTS.map((h, i) => `      - { address: ${h}, label: mx${i + 1} }`).join("\n")}
`;

beforeAll(async () => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "mailpool-it-bind-"));
  chmodSync(dir, 0o755); // Postfix's daemons run as the postfix user
  pki = await makeIntegrationPki(dir, { dnsNames: [POOL], ips: [...HOSTS] });
  // One port on every member: a check has one port for the whole pool.
  port = await freePort(HOSTS);
  const started = await Promise.allSettled(
    HOSTS.map((host, i) =>
      startPostfix({ dir: join(dir, `mx${i + 1}`), host, hostname: `mx${i + 1}.example.com`, certFile: pki.certFile, keyFile: pki.keyFile, smtpPort: port }),
    ),
  );
  // Keep the ones that started, so that afterAll stops them, then fail with the first error.
  members = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  for (const s of started) if (s.status === "rejected") throw s.reason;
  // Queries on 127.0.0.1 (named binds only interface addresses), rndc on 127.0.0.151.
  bind = await startBind({ dir: join(dir, "bind"), zone: "example.com", zoneText: ZONE, controlHost: "127.0.0.151" });
  configFile = join(dir, "mailpool.yaml");
  writeFileSync(configFile, configText(bind.rndcArgv("reload", "example.com")));
});

afterAll(async () => {
  await Promise.all([...members.map((m) => m.stop()), bind?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("mailpool keeps a real BIND zone true for a pool of real Postfix servers", () => {
  it("starts with named serving every member and the ownership marker", async () => {
    expect(await poolAnswer()).toEqual([...HOSTS]);
    expect(await named().dig(`_mailpool.${POOL}`, "TXT")).toEqual(['"mailpool owner=it"']);
    const valid = await runCli(["validate", "-c", configFile]);
    expect(valid.code, shown(valid)).toBe(0);
  });

  it("`mailpool probe <pool>` passes STARTTLS on every member, certificate verified for the pool name", async () => {
    const result = await runCli(["probe", POOL, "-c", configFile]);
    expect(result.code, shown(result)).toBe(0);
    for (const host of HOSTS) expect(result.stdout).toContain(`${POOL} ${host}:${port} (mx-starttls): ok`);
    expect(result.stdout.match(/verified\s+yes/g)).toHaveLength(3);
  });

  it("`mailpool plan` with every member up has nothing to do", async () => {
    const result = await runCli(["--output", "json", "plan", "-c", configFile, "--detailed-exitcode"]);
    expect(result.code, shown(result)).toBe(0);
    const plan = json(result);
    expect(plan.pools[0]).toMatchObject({ pool: POOL, owner: "it", actions: [], held: [] });
    expect(plan.pools[0]?.health.map((h) => h.health)).toEqual(["up", "up", "up"]);
  });

  it("`mailpool plan` after a member stops shows its removal and changes nothing that named serves", async () => {
    const serialBefore = await named().serial();
    const zoneBefore = zoneText();
    await member(DEAD).stop();
    const result = await runCli(["--output", "json", "plan", "-c", configFile, "--detailed-exitcode"]);
    expect(result.code, shown(result)).toBe(2);
    const plan = json(result);
    expect(plan.dryRun).toBe(true);
    expect(plan.pools[0]?.actions).toEqual([expect.objectContaining({ kind: "remove", type: "A", address: DEAD })]);
    expect(plan.pools[0]?.health.find((h) => h.address === DEAD)).toMatchObject({
      health: "down",
      reason: expect.stringContaining(`connection refused by ${DEAD}:${port}`),
    });
    expect(zoneText()).toBe(zoneBefore);
    expect(await named().serial()).toBe(serialBefore);
    expect(await poolAnswer()).toEqual([...HOSTS]);
  });

  it("`mailpool apply` removes the dead member: the zone file is edited, the serial bumped, named reloaded through rndc", async () => {
    const serialBefore = await named().serial();
    const zoneBefore = zoneText();
    const result = await runCli(["--output", "json", "apply", "-c", configFile]);
    expect(result.code, shown(result)).toBe(0);
    const applied = json(result);
    expect(applied.dryRun).toBe(false);
    expect(applied.pools[0]?.actions).toEqual([expect.objectContaining({ kind: "remove", address: DEAD })]);
    expect(applied.providers[0]).toMatchObject({ name: "bind", error: null, applied: { changes: 1 } });

    const live = HOSTS.filter((h) => h !== DEAD);
    await servedEventually(live);
    expect(await named().serial()).toBeGreaterThan(serialBefore);
    const check = await named().checkZone();
    expect(check.code, `${check.stdout}${check.stderr}`).toBe(0);
    expect(check.stdout).toContain("OK");
    // Only the pool's A lines (rewritten by the provider) and the SOA serial changed; every
    // other line, comment included, is byte-for-byte what it was.
    const soa = (line: string) => /\bSOA\b/.test(line);
    const poolA = (line: string) => /^smtp(\.example\.com\.)?\s+(\d+\s+)?IN\s+A\s/.test(line);
    const after = zoneText().split("\n");
    const untouched = (lines: string[]) => lines.filter((l) => !soa(l) && !poolA(l));
    expect(untouched(after)).toEqual(untouched(zoneBefore.split("\n")));
    expect(after.filter(poolA).map((l) => l.split(/\s+/).at(-1))).toEqual(live);
    expect(after.find(soa)).toContain(`( ${await named().serial()} 3600 900 604800 300 )`);
  });

  it("`mailpool apply` again has nothing to do while the member stays down", async () => {
    const zoneBefore = zoneText();
    const result = await runCli(["--output", "json", "apply", "-c", configFile]);
    expect(result.code, shown(result)).toBe(0);
    expect(json(result).pools[0]?.actions).toEqual([]);
    expect(zoneText()).toBe(zoneBefore);
  });

  it("`mailpool plan` once the member is back shows its reinstatement and leaves the served answer alone", async () => {
    await member(DEAD).start();
    const result = await runCli(["--output", "json", "plan", "-c", configFile, "--detailed-exitcode"]);
    expect(result.code, shown(result)).toBe(2);
    expect(json(result).pools[0]?.actions).toEqual([expect.objectContaining({ kind: "reinstate", type: "A", address: DEAD })]);
    expect(await poolAnswer()).toEqual(HOSTS.filter((h) => h !== DEAD));
  });

  it("`mailpool apply` reinstates the member and named serves it again", async () => {
    const serialBefore = await named().serial();
    const result = await runCli(["apply", "-c", configFile]);
    expect(result.code, shown(result)).toBe(0);
    expect(result.stdout).toContain(`reinstate ${DEAD}`);
    await servedEventually(HOSTS);
    expect(await named().serial()).toBeGreaterThan(serialBefore);
    const check = await named().checkZone();
    expect(check.code, `${check.stdout}${check.stderr}`).toBe(0);
    expect(await named().dig(`_mailpool.${POOL}`, "TXT")).toEqual(['"mailpool owner=it"']);
    expect(await named().dig(`www.example.com`, "A")).toEqual(["192.0.2.80"]);
  });

  it("a failed rndc reload is reported, `plan` leaves it pending, and the next `apply` runs it", async () => {
    const third = HOSTS[2];
    // The same setup, but rndc signs with a key named does not know.
    const badKey = join(dir, "wrong-rndc.key");
    await makeTsigKey(badKey, named().keyName);
    const badConfig = join(dir, "mailpool-bad-key.yaml");
    writeFileSync(badConfig, configText(named().rndcArgv("reload", "example.com").map((a) => (a === named().keyFile ? badKey : a))));
    const serialBefore = await named().serial();
    await member(third).stop();

    const failed = await runCli(["--output", "json", "apply", "-c", badConfig]);
    expect(failed.code, shown(failed)).toBe(1);
    const report = json(failed);
    expect(report.pools[0]?.actions).toEqual([expect.objectContaining({ kind: "remove", address: third })]);
    expect(report.providers[0]?.error).toMatch(/rndc.* exited with code 1/);
    // The file was written, but named was never told: it still serves the old records.
    expect(zoneText()).not.toContain(third);
    expect(existsSync(`${named().zoneFile}.reload-pending`)).toBe(true);
    expect(await named().serial()).toBe(serialBefore);
    expect(await poolAnswer()).toEqual([...HOSTS]);

    // A dry run never runs the pending reload.
    const plan = await runCli(["--output", "json", "plan", "-c", configFile, "--detailed-exitcode"]);
    expect(plan.code, shown(plan)).toBe(0);
    expect(await poolAnswer()).toEqual([...HOSTS]);

    const fixed = await runCli(["--output", "json", "apply", "-c", configFile]);
    expect(fixed.code, shown(fixed)).toBe(0);
    expect(json(fixed).providers[0]?.error).toBeNull();
    await servedEventually(HOSTS.filter((h) => h !== third));
    expect(await named().serial()).toBeGreaterThan(serialBefore);
    expect(existsSync(`${named().zoneFile}.reload-pending`)).toBe(false);
    expect(named().log()).toContain("received control channel command 'reload example.com'");
  });
});
