/**
 * IP takeover end to end, with Linux network namespaces this test creates: two "hosts" (member,
 * standby) and a prober on one bridge, inside a fourth namespace ("lan"), each with an address
 * in 10.250.0.0/24 that exists only inside these namespaces (the root namespace gets no device,
 * no address and no route). The floating address 10.250.0.100 starts on the member. Each host
 * runs mailpool's SMTP listener; mailpool itself runs in the prober namespace with an exec hook
 * that moves the address with `ip -n <ns> addr add/del` (and a gratuitous ARP with arping). The
 * member's listener is stopped: mailpool moves the address, and a probe through the moved
 * address reaches the standby's listener. The member comes back: mailpool returns it.
 *
 * Needs root (namespaces): fails loudly, never skips, where they cannot be made. Everything it
 * made is removed in afterAll, also after a failure.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_BIN, requireBuiltCli, shown } from "./helpers/run-cli.js";

const ID = `mp${process.pid % 100000}`;
const NS = { lan: `${ID}-lan`, member: `${ID}-member`, standby: `${ID}-standby`, prober: `${ID}-prober` };
const ADDR = { member: "10.250.0.1", standby: "10.250.0.2", prober: "10.250.0.3" };
const FLOAT = "10.250.0.100";
const PORT = 2525;
const LISTENER_URL = pathToFileURL(join(import.meta.dirname, "../../dist/src/demo/mail-listener.js")).href;

let dir: string;
const made: string[] = [];
const listeners = new Map<string, ChildProcess>();

const ip = (...args: string[]) => execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const addrsIn = (ns: string) => ip("-n", ns, "-4", "-o", "addr", "show", "dev", "eth0");

/** Starts mailpool's SMTP listener inside a namespace, greeting as `name`; resolves once it listens. */
function startListener(ns: keyof typeof NS, name: string): Promise<void> {
  const child = spawn("ip", ["netns", "exec", NS[ns], process.execPath, join(dir, "listener.mjs"), name, String(PORT)], { stdio: ["ignore", "pipe", "pipe"] });
  listeners.set(ns, child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("listening")) resolve();
    });
    child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    child.on("exit", (code) => reject(new Error(`listener in ${NS[ns]} exited ${code}: ${out}`)));
  });
}

async function stopListener(ns: keyof typeof NS): Promise<void> {
  const child = listeners.get(ns);
  if (!child || child.exitCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await gone;
  listeners.delete(ns);
}

/** The mailpool CLI run inside the prober namespace. */
function mailpool(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("ip", ["netns", "exec", NS.prober, process.execPath, CLI_BIN, ...args], { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

const json = (run: { stdout: string }) => JSON.parse(run.stdout) as {
  ipTakeover: { addresses: { holder: string }[]; actions: { kind: string; to: string }[]; moves: { ok: boolean; error: string | null; verify: { ok: boolean; reason: string } | null }[] };
};

beforeAll(async () => {
  requireBuiltCli();
  if (process.getuid?.() !== 0) throw new Error("this test makes network namespaces and needs root (it runs in .ci/run as root); it does not skip");
  dir = mkdtempSync(join(tmpdir(), "mailpool-netns-"));
  const rootRoutes = ip("route", "show");
  expect(rootRoutes).not.toContain("10.250.");

  ip("netns", "add", NS.lan);
  made.push(NS.lan);
  ip("-n", NS.lan, "link", "add", "br0", "type", "bridge");
  ip("-n", NS.lan, "link", "set", "br0", "up");
  for (const h of ["member", "standby", "prober"] as const) {
    ip("netns", "add", NS[h]);
    made.push(NS[h]);
    const port = `v-${h}`;
    ip("-n", NS.lan, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", NS[h]);
    ip("-n", NS.lan, "link", "set", port, "master", "br0", "up");
    ip("-n", NS[h], "link", "set", "lo", "up");
    ip("-n", NS[h], "addr", "add", `${ADDR[h]}/24`, "dev", "eth0");
    ip("-n", NS[h], "link", "set", "eth0", "up");
  }
  ip("-n", NS.member, "addr", "add", `${FLOAT}/24`, "dev", "eth0");

  writeFileSync(
    join(dir, "listener.mjs"),
    `const { startMailListener } = await import(${JSON.stringify(LISTENER_URL)});
const l = await startMailListener({ protocol: "smtp", host: "0.0.0.0", port: Number(process.argv[3]), hostname: process.argv[2] });
console.log("listening", l.port);
`,
  );
  // The exec hook: status from the namespaces' addresses; a move deletes the address on one
  // "host" and adds it on the other, then announces it with a gratuitous ARP when arping exists.
  const hook = join(dir, "move-ip.sh");
  writeFileSync(
    hook,
    `#!/bin/sh
set -eu
has() { ip -n "$1" -4 -o addr show dev eth0 | grep -q " inet $MAILPOOL_ADDRESS/"; }
move() { # from-ns to-ns
  ip -n "$1" addr del "$MAILPOOL_ADDRESS/24" dev eth0 2>/dev/null || true
  has "$2" || ip -n "$2" addr add "$MAILPOOL_ADDRESS/24" dev eth0
  if command -v arping >/dev/null; then ip netns exec "$2" arping -q -U -c 2 -w 2 -I eth0 -s "$MAILPOOL_ADDRESS" "$MAILPOOL_ADDRESS" || true; fi
  echo "on $2"
}
case "$MAILPOOL_ACTION" in
  status)
    if has ${NS.member}; then echo "$MAILPOOL_MEMBER"; elif has ${NS.standby}; then echo "$MAILPOOL_STANDBY"; else echo none; fi ;;
  takeover) move ${NS.member} ${NS.standby} ;;
  return) move ${NS.standby} ${NS.member} ;;
  *) echo "unknown action $MAILPOOL_ACTION" >&2; exit 64 ;;
esac
`,
  );
  chmodSync(hook, 0o755);
  writeFileSync(
    join(dir, "mailpool.yaml"),
    `controllerId: netns
defaults: { rise: 1, fall: 1, confirmIntervalMs: 0 }
providers:
  mem:
    type: memory
    records:
      - { name: smtp.example.test, type: A, ttl: 300, values: [${FLOAT}] }
      - { name: _mailpool.smtp.example.test, type: TXT, ttl: 300, values: ["mailpool owner=netns"] }
ipTakeover:
  netns: { type: exec, command: [${hook}], timeoutMs: 10000 }
checks:
  mx: { module: smtp, port: ${PORT}, connectTimeoutMs: 1000, timeoutMs: 3000 }
pools:
  - name: smtp.example.test
    provider: mem
    checks: [mx]
    members:
      - { address: ${FLOAT}, label: mx1, hostAddress: ${ADDR.member}, ipTakeover: { via: netns, standby: ${ADDR.standby} } }
`,
  );
  await startListener("member", "member.example.test");
  await startListener("standby", "standby.example.test");
});

afterAll(async () => {
  for (const ns of [...listeners.keys()]) await stopListener(ns as keyof typeof NS);
  const left: string[] = [];
  for (const ns of made.reverse()) {
    try {
      ip("netns", "del", ns);
    } catch (err) {
      left.push(`${ns}: ${(err as Error).message}`);
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  expect(ip("netns", "list")).not.toContain(ID);
  expect(ip("route", "show")).not.toContain("10.250.");
  if (left.length) throw new Error(`could not delete namespaces: ${left.join("; ")}`);
});

const cfg = () => ["-c", join(dir, "mailpool.yaml")];

describe("IP takeover through network namespaces (exec hook)", () => {
  it("plans nothing while the member's host answers; the floating address reaches the member", async () => {
    const run = await mailpool(["plan", ...cfg(), "--output", "json"]);
    expect(run.code, shown(run)).toBe(0);
    expect(json(run).ipTakeover.addresses[0]!.holder).toBe("member");
    expect(json(run).ipTakeover.actions).toEqual([]);
    const probe = await mailpool(["probe", `smtp://${FLOAT}:${PORT}`, "--output", "json"]);
    expect(probe.stdout, shown(probe)).toContain("member.example.test");
  });

  it("moves the address of a dead member to the standby; a probe through the moved address reaches the standby's listener", async () => {
    await stopListener("member");
    const dry = await mailpool(["plan", ...cfg()]);
    expect(dry.stdout, shown(dry)).toContain(`~ ip   takeover-ip ${FLOAT} → ${ADDR.standby}`);
    expect(addrsIn(NS.member)).toContain(`inet ${FLOAT}/24`); // dry run: moved nothing

    const run = await mailpool(["apply", ...cfg(), "--output", "json"]);
    expect(run.code, shown(run)).toBe(0);
    const report = json(run).ipTakeover;
    expect(report.actions).toEqual([expect.objectContaining({ kind: "takeover-ip", to: ADDR.standby })]);
    expect(report.moves[0], shown(run)).toMatchObject({ ok: true, verify: { ok: true } });
    expect(report.moves[0]!.verify!.reason).toContain(`standby ${ADDR.standby} answers on ${FLOAT} (mx greeting matches its own`);
    expect(addrsIn(NS.standby)).toContain(`inet ${FLOAT}/24`);
    expect(addrsIn(NS.member)).not.toContain(`inet ${FLOAT}/24`);

    const probe = await mailpool(["probe", `smtp://${FLOAT}:${PORT}`, "--output", "json"]);
    expect(probe.stdout, shown(probe)).toContain("standby.example.test");
    // A second cycle finds the standby holding it and the member still down: nothing to do.
    const again = await mailpool(["apply", ...cfg(), "--output", "json"]);
    expect(json(again).ipTakeover).toMatchObject({ addresses: [{ holder: "standby" }], actions: [] });
  });

  it("returns the address once the member's host answers on its own address again", async () => {
    await startListener("member", "member.example.test");
    const run = await mailpool(["apply", ...cfg(), "--output", "json"]);
    expect(run.code, shown(run)).toBe(0);
    const report = json(run).ipTakeover;
    expect(report.actions).toEqual([expect.objectContaining({ kind: "return-ip", to: ADDR.member })]);
    expect(report.moves[0], shown(run)).toMatchObject({ ok: true, verify: { ok: true } });
    expect(addrsIn(NS.member)).toContain(`inet ${FLOAT}/24`);
    expect(addrsIn(NS.standby)).not.toContain(`inet ${FLOAT}/24`);
    const probe = await mailpool(["probe", `smtp://${FLOAT}:${PORT}`, "--output", "json"]);
    expect(probe.stdout, shown(probe)).toContain("member.example.test");
  });

  it("never moves to a standby that is down: both dead, the address stays and the plan says why", async () => {
    await stopListener("member");
    await stopListener("standby");
    const run = await mailpool(["apply", ...cfg()]);
    expect(run.stdout, shown(run)).toContain(`standby ${ADDR.standby} is down too`);
    expect(run.stdout).not.toContain("takeover-ip");
    expect(addrsIn(NS.member)).toContain(`inet ${FLOAT}/24`);
  });
});
