/**
 * stderr is for pino JSON lines only: a CLI run against a pool of many members on Route 53 and
 * Cloudflare (wire-level fakes) prints no Node or SDK warning text there. Run `npm run build`
 * first when running this file alone (`npm test` does).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startListenersOnOnePort, type MailListener } from "../../src/demo/mail-listener.js";
import { markerValue } from "../../src/ownership.js";
import { CloudflareFake, DEFAULT_TOKEN } from "../fakes/cloudflare-server.js";
import { FakeRoute53Server } from "../fakes/route53-server.js";

const BIN = join(import.meta.dirname, "../../dist/src/cli/bin.js");
const MEMBERS = Array.from({ length: 30 }, (_, i) => `127.0.2.${i + 1}`);

let dir: string;
let listeners: MailListener[] = [];
let port = 0;
let r53: FakeRoute53Server;
let cf: CloudflareFake;
let zoneId: string;
let cfZoneId: string;

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  dir = await mkdtemp(join(tmpdir(), "mailpool-stderr-"));
  listeners = await startListenersOnOnePort("smtp", MEMBERS);
  port = listeners[0]!.port;
  r53 = await FakeRoute53Server.start();
  zoneId = r53.addZone("example.com").id;
  r53.put(zoneId, { name: "smtp.example.com", type: "A", ttl: 300, values: MEMBERS });
  r53.put(zoneId, { name: "_mailpool.smtp.example.com", type: "TXT", ttl: 300, values: [`"${markerValue("ci")}"`] });
  cf = await CloudflareFake.start();
  cfZoneId = cf.addZone("example.org");
  for (const m of MEMBERS) cf.seed(cfZoneId, { name: "smtp.example.org", type: "A", content: m, comment: "managed by mailpool (owner=ci)" });
  cf.seed(cfZoneId, { name: "_mailpool.smtp.example.org", type: "TXT", content: `"${markerValue("ci")}"`, comment: "managed by mailpool (owner=ci)" });
});

afterAll(async () => {
  await Promise.all(listeners.map((l) => l.stop()));
  await r53?.close();
  await cf?.close();
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const config = () => `controllerId: ci
defaults: { rise: 1, fall: 1, confirmIntervalMs: 0 }
providers:
  r53: { type: route53, hostedZoneId: ${zoneId}, endpoint: "${r53.url}" }
  cf: { type: cloudflare, zoneId: ${cfZoneId}, apiToken: "\${CF_TOKEN}", baseUrl: "${cf.baseUrl}" }
checks:
  mx: { module: smtp, port: ${port}, connectTimeoutMs: 2000, timeoutMs: 5000 }
pools:
  - name: smtp.example.com
    provider: r53
    checks: [mx]
    members:
${MEMBERS.map((m) => `      - { address: ${m} }`).join("\n")}
  - name: smtp.example.org
    provider: cf
    checks: [mx]
    members:
${MEMBERS.map((m) => `      - { address: ${m} }`).join("\n")}
`;

interface LogLine {
  level: number;
  msg: string;
  warning?: { name: string; message: string };
}

/** Every stderr line as a pino record; fails on the first line that is not JSON. */
function logLines(stderr: string): LogLine[] {
  return stderr
    .split("\n")
    .filter((l) => l !== "")
    .map((line) => {
      expect(() => JSON.parse(line), `not a JSON line on stderr: ${line}`).not.toThrow();
      return JSON.parse(line) as LogLine;
    });
}

const ENV = { CF_TOKEN: DEFAULT_TOKEN, AWS_ACCESS_KEY_ID: "AKIDTEST", AWS_SECRET_ACCESS_KEY: "secret" };

describe("stderr", () => {
  it("carries only pino JSON lines on a run against 30 members on Route 53 and on Cloudflare", async () => {
    const path = join(dir, "mailpool.yaml");
    await writeFile(path, config());
    const r = await cli(["plan", "-c", path, "--log-level", "debug"], ENV);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Plan: 0 to remove");
    const lines = logLines(r.stderr);
    // No process warning worth a person's attention (MaxListenersExceededWarning and the like).
    expect(lines.filter((l) => l.msg === "process warning" && l.level >= 40)).toEqual([]);
    if (Number(process.versions.node.split(".")[0]) < 22) {
      // The AWS SDK's notice about its future Node requirement, kept at debug as a JSON line.
      expect(lines).toContainEqual(expect.objectContaining({ level: 20, warning: expect.objectContaining({ message: expect.stringContaining("NodeVersionSupportWarning") }) }));
    }
  });

  it("stays JSON-only when members fail and are confirmed and removed", async () => {
    const path = join(dir, "mailpool.yaml");
    await writeFile(path, config().replace("fall: 1", "fall: 2"));
    await Promise.all(listeners.slice(0, 5).map((l) => l.stop()));
    try {
      const r = await cli(["apply", "-c", path, "--log-level", "debug"], ENV);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`- A    remove ${MEMBERS[0]}: ${MEMBERS[0]} is down: 2 of 2 probe(s) failed`);
      const lines = logLines(r.stderr);
      expect(lines.filter((l) => l.msg === "process warning" && l.level >= 40)).toEqual([]);
    } finally {
      await Promise.all(listeners.slice(0, 5).map((l) => l.start()));
    }
  });
});
