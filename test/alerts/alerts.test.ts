/**
 * Alerts: the transitions found between two reports (pure), and delivery to a real HTTP
 * receiver on loopback and a real command (no shell): signature, retries, de-duplication, the
 * hourly budget, and a receiver that hangs or fails never making emit() wait.
 */
import { createHmac } from "node:crypto";
import { existsSync, readFileSync, mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AlertDispatcher, type AlertOutcome, type AlertsConfig } from "../../src/alerts/dispatcher.js";
import { makeEvent, transitions, type AlertEvent } from "../../src/alerts/events.js";
import type { CycleReport, HealthEntry } from "../../src/controller/cycle.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const ctx = { now: Date.UTC(2030, 0, 2, 3, 4, 5), controllerId: "ci", instance: "pod-a" };

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())))));
  servers = [];
});

/** A webhook receiver on loopback answering with the statuses given, in turn (then 200); "hang" never answers. */
async function receiver(answers: (number | "hang")[] = []): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      const a = answers.shift() ?? 200;
      if (a !== "hang") res.writeHead(a).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hooks/mailpool?token=s3cr3t`, got };
}

const base: AlertsConfig = { commandTimeoutMs: 5000, dedupeWindowMs: 300_000, maxPerHour: 60, queueSize: 100 };
const event = (over: Partial<AlertEvent> = {}): AlertEvent => ({
  ...makeEvent({ kind: "member_down", pool: "smtp.example.com", address: "192.0.2.11", summary: "mx2 (192.0.2.11) in smtp.example.com is down: connection refused" }, ctx),
  ...over,
});

async function until(f: () => boolean, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("alert transitions", () => {
  const entry = (address: string, health: "up" | "down" | "unknown", role: "member" | "standby" = "member"): HealthEntry => ({
    pool: "smtp.example.com",
    address,
    role,
    label: role === "member" ? `mx-${address.split(".").at(-1)}` : "for mx-11",
    verdict: { health, reason: health === "down" ? "2 failure(s) in a row: connection refused" : "1 pass(es) in a row" },
  });
  const report = (health: HealthEntry[], extra: Partial<CycleReport> = {}): CycleReport => ({ dryRun: false, results: [], health, ...extra });

  it("down and up again, once each; unknown → up says nothing", () => {
    const r0 = report([entry("192.0.2.10", "unknown"), entry("192.0.2.11", "unknown")]);
    const r1 = report([entry("192.0.2.10", "up"), entry("192.0.2.11", "down")]);
    const r2 = report([entry("192.0.2.10", "up"), entry("192.0.2.11", "down")]);
    const r3 = report([entry("192.0.2.10", "up"), entry("192.0.2.11", "up")]);
    expect(transitions(r0, r1, ctx).map((e) => [e.kind, e.address])).toEqual([["member_down", "192.0.2.11"]]);
    expect(transitions(r1, r2, ctx)).toEqual([]);
    const up = transitions(r2, r3, ctx);
    expect(up.map((e) => [e.kind, e.address, e.severity])).toEqual([["member_up", "192.0.2.11", "info"]]);
    expect(up[0]).toMatchObject({ time: "2030-01-02T03:04:05.000Z", controllerId: "ci", instance: "pod-a" });
  });

  it("pool all down, prober isolation, a newly held change, a takeover written, a provider failing", () => {
    const allDown = [entry("192.0.2.10", "down"), entry("192.0.2.11", "down")];
    const held = {
      provider: "mem",
      applied: { applied: 1, notes: [] },
      attempts: 1,
      plans: [
        {
          pool: "smtp.example.com",
          provider: "mem",
          current: {},
          actions: [{ pool: "smtp.example.com", type: "A" as const, kind: "takeover" as const, address: "192.0.2.11", standby: "192.0.2.20", reason: "mx2 is down" }],
          held: [{ action: { pool: "smtp.example.com", type: "A" as const, kind: "remove" as const, address: "192.0.2.10", reason: "down" }, rule: "failOpen" as const, why: "every member is down" }],
          alarms: [],
        },
      ],
    };
    const prev = report([entry("192.0.2.10", "up"), entry("192.0.2.11", "up")]);
    const next = report(allDown, { proberIsolation: "3 of 4 members down across 2 pools", results: [held, { provider: "r53", plans: [], applied: null, attempts: 5, error: new Error("throttled") }] });
    const kinds = transitions(prev, next, ctx).map((e) => e.kind);
    expect(kinds).toEqual(["member_down", "member_down", "pool_all_down", "prober_isolation", "takeover", "change_held", "apply_failed"]);
    // The same state again: nothing new (the hold and the failure persist, they are not new).
    const again = report(allDown, { proberIsolation: "x", results: [{ ...held, plans: [{ ...held.plans[0]!, actions: [] }] }, { provider: "r53", plans: [], applied: null, attempts: 5, error: new Error("throttled") }] });
    expect(transitions(next, again, ctx)).toEqual([]);
  });
});

describe("alert delivery", () => {
  it("webhook: a JSON POST with the event and an HMAC-SHA256 signature of the body", async () => {
    const r = await receiver();
    const secret = "a-long-enough-secret";
    const d = new AlertDispatcher({ ...base, webhook: { url: r.url, timeoutMs: 2000, retries: 0, secret, minIntervalMs: 0 } }, { logger: silent });
    expect(d.emit(event())).toBe("queued");
    await until(() => r.got.length === 1, "the POST");
    const got = r.got[0]!;
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.headers["x-mailpool-event"]).toBe("member_down");
    expect(JSON.parse(got.body)).toMatchObject({ kind: "member_down", severity: "warning", pool: "smtp.example.com", address: "192.0.2.11", controllerId: "ci" });
    expect(got.headers["x-mailpool-signature-256"]).toBe(`sha256=${createHmac("sha256", secret).update(got.body).digest("hex")}`);
    await d.close(1000);
  });

  it("retries 5xx and 429, not 4xx; counts the outcome", async () => {
    const outcomes: AlertOutcome[] = [];
    const r = await receiver([503, 429, 200, 404]);
    const d = new AlertDispatcher(
      { ...base, webhook: { url: r.url, timeoutMs: 2000, retries: 3, minIntervalMs: 0 } },
      { logger: silent, sleep: async () => {}, onOutcome: (_e, o) => outcomes.push(o) },
    );
    d.emit(event());
    await until(() => outcomes.length === 1, "first outcome");
    expect(r.got).toHaveLength(3);
    expect(outcomes).toEqual(["sent"]);
    d.emit(event({ kind: "member_up" }));
    await until(() => outcomes.length === 2, "second outcome");
    expect(r.got).toHaveLength(4); // 404: not retried
    expect(outcomes).toEqual(["sent", "failed"]);
    await d.close(1000);
  });

  it("a flapping member: one down and one up per dedupe window; the hourly budget caps the rest", async () => {
    const r = await receiver();
    let t = 0;
    const outcomes: string[] = [];
    const d = new AlertDispatcher(
      { ...base, webhook: { url: r.url, timeoutMs: 2000, retries: 0, minIntervalMs: 0 }, dedupeWindowMs: 60_000, maxPerHour: 3 },
      { logger: silent, now: () => t, onOutcome: (e, o) => outcomes.push(`${e.kind}:${o}`) },
    );
    for (let i = 0; i < 10; i++) {
      d.emit(event({ kind: i % 2 ? "member_up" : "member_down" }));
      t += 1000;
    }
    expect(outcomes.filter((o) => o.endsWith("deduplicated"))).toHaveLength(8);
    t = 61_000; // a new window
    d.emit(event({ kind: "member_down" }));
    d.emit(event({ kind: "member_up" })); // the fourth this hour
    expect(outcomes.at(-1)).toBe("member_up:rate_limited");
    await until(() => r.got.length === 3, "three POSTs");
    await new Promise((res) => setTimeout(res, 50));
    expect(r.got.map((g) => JSON.parse(g.body).kind)).toEqual(["member_down", "member_up", "member_down"]);
    await d.close(1000);
  });

  it("a receiver that never answers does not make emit() wait; the queue is bounded; the POST times out", async () => {
    const r = await receiver(["hang", "hang", "hang", "hang"]);
    const outcomes: string[] = [];
    const d = new AlertDispatcher(
      { ...base, webhook: { url: r.url, timeoutMs: 300, retries: 0, minIntervalMs: 0 }, queueSize: 2, dedupeWindowMs: 0 },
      { logger: silent, onOutcome: (e, o) => outcomes.push(`${e.summary}:${o}`) },
    );
    const results = [];
    for (let i = 0; i < 5; i++) results.push(d.emit(event({ summary: `e${i}`, address: `192.0.2.${i}` })));
    // e0 is taken by the worker at once; e1 and e2 wait; e3 and e4 find the queue full.
    await until(() => r.got.length === 1, "the first POST");
    expect(results.slice(0, 3)).toEqual(["queued", "queued", "queued"]);
    expect(results.slice(3)).toEqual(["queue_full", "queue_full"]);
    await until(() => outcomes.includes("e0:failed"), "the timeout");
    await d.close(100);
  });

  it("command: argv without a shell, the event in MAILPOOL_ALERT_* variables", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mailpool-alert-"));
    const outFile = join(dir, "env.json");
    const script = `require("fs").writeFileSync(process.argv[1], JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("MAILPOOL_ALERT_")))))`;
    const outcomes: string[] = [];
    // "$(touch pwned)" would run in a shell; as an argv element it is only a file name.
    const d = new AlertDispatcher(
      { ...base, command: [process.execPath, "-e", script, outFile, "$(touch pwned)"] },
      { logger: silent, env: { PATH: process.env.PATH }, onOutcome: (_e, o) => outcomes.push(o) },
    );
    d.emit(event());
    await until(() => outcomes.length === 1, "the command");
    expect(outcomes).toEqual(["sent"]);
    const env = JSON.parse(readFileSync(outFile, "utf8"));
    expect(env).toMatchObject({
      MAILPOOL_ALERT_KIND: "member_down",
      MAILPOOL_ALERT_SEVERITY: "warning",
      MAILPOOL_ALERT_POOL: "smtp.example.com",
      MAILPOOL_ALERT_ADDRESS: "192.0.2.11",
      MAILPOOL_ALERT_CONTROLLER_ID: "ci",
      MAILPOOL_ALERT_INSTANCE: "pod-a",
    });
    expect(JSON.parse(env.MAILPOOL_ALERT_JSON).summary).toContain("is down");
    expect(existsSync(join(process.cwd(), "pwned"))).toBe(false);
    await d.close(1000);
  });

  it("a command that hangs is killed after commandTimeoutMs and counted as failed", async () => {
    const outcomes: string[] = [];
    const d = new AlertDispatcher({ ...base, command: [process.execPath, "-e", "setTimeout(() => {}, 60000)"], commandTimeoutMs: 200 }, { logger: silent, onOutcome: (_e, o) => outcomes.push(o) });
    d.emit(event());
    await until(() => outcomes.length === 1, "the kill");
    expect(outcomes).toEqual(["failed"]);
    await d.close(100);
  });
});
