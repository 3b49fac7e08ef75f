/**
 * /probe (blackbox_exporter's multi-target pattern) against a real SMTP listener with STARTTLS
 * on loopback, through the daemon's own probe runner; and the certificate's notAfter in
 * /metrics. Also: a webhook receiver gets the daemon's transition alerts.
 */
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { startMailListener, type MailListener } from "../../src/demo/mail-listener.js";
import { createProbeRunner } from "../../src/probes/index.js";
import { MemoryProvider } from "../../providers/memory/memory-provider.js";
import { testCerts } from "../fakes/certs.js";
import { poolRecords, sample, startHarness, type Harness } from "./harness.js";

let h: Harness | undefined;
let listener: MailListener | undefined;
let server: Server | undefined;
afterEach(async () => {
  await h?.stop();
  await listener?.stop();
  await new Promise<void>((r) => (server ? (server.closeAllConnections(), server.close(() => r())) : r()));
  h = listener = server = undefined;
});

const config = (port: number, extra = "", top = "") => `
controllerId: ci
${top}
defaults: { rise: 1, fall: 1 }
daemon:
  listen: "127.0.0.1:0"
${extra}
checks:
  mx:
    module: smtp
    port: ${port}
    tls: starttls
    timeoutMs: 5000
    tlsRules: { caFile: ca.pem }
providers:
  mem: { type: memory }
pools:
  - name: smtp.example.com
    provider: mem
    checks: [mx]
    members:
      - { address: 127.0.0.1, serverName: mx1.example.net }
      - { address: 127.0.0.2, serverName: mx1.example.net }
`;

async function start(extra = "", over: Parameters<typeof startHarness>[1] = {}, top = "") {
  const certs = await testCerts();
  listener = await startMailListener({ protocol: "smtp", host: "127.0.0.1", tls: certs.valid });
  h = await startHarness(config(listener.port, extra, top), {
    readFile: () => certs.ca,
    provider: new MemoryProvider(poolRecords("smtp.example.com", ["127.0.0.1", "127.0.0.2"])),
    runtime: { probe: createProbeRunner({ concurrency: 4 }) },
    ...over,
  });
  return certs;
}

async function until(f: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("/probe", () => {
  it("handshakes with a configured member and answers probe_success, durations, phases and TLS facts", async () => {
    const certs = await start();
    const r = await h!.get(`/probe?target=127.0.0.1:${listener!.port}&module=mx`);
    expect(r.status).toBe(200);
    expect(sample(r.text, "probe_success")).toBe(1);
    expect(sample(r.text, "probe_duration_seconds")).toBeGreaterThan(0);
    for (const phase of ["connect", "greeting", "ehlo", "starttls"]) expect(sample(r.text, "probe_phase_duration_seconds", { phase })).toBeGreaterThanOrEqual(0);
    expect(sample(r.text, "probe_ssl_earliest_cert_expiry")).toBe(certs.validNotAfterMs / 1000);
    expect(sample(r.text, "probe_tls_cert_verified")).toBe(1);
    expect(r.text).toMatch(/^probe_tls_version_info\{version="TLSv1\.[23]"\} 1$/m);
  });

  it("a failed handshake: probe_success 0 and the reason as a comment", async () => {
    await start();
    await listener!.stop();
    const r = await h!.get(`/probe?target=127.0.0.1:${listener!.port}&module=mx`);
    expect(r.status).toBe(200);
    expect(sample(r.text, "probe_success")).toBe(0);
    expect(r.text).toMatch(/^# reason: .*refused/m);
  });

  it("refuses targets that are not configured addresses, and bad parameters, with the reason", async () => {
    await start();
    const other = await h!.get(`/probe?target=127.0.0.9:${listener!.port}&module=mx`);
    expect(other.status).toBe(403);
    expect(other.text).toContain("127.0.0.9 is not a member or standby address");
    expect((await h!.get(`/probe?target=127.0.0.1:${listener!.port}`)).text).toContain("module parameter is missing");
    expect((await h!.get(`/probe?target=127.0.0.1:${listener!.port}&module=gopher`)).status).toBe(400);
    expect((await h!.get(`/probe?target=127.0.0.1&module=mx`)).text).toContain("is not HOST:PORT");
  });

  it("with allowAnyTarget, any host may be probed", async () => {
    await start("  probeEndpoint: { allowAnyTarget: true }");
    const second = await startMailListener({ protocol: "smtp", host: "127.0.0.9", port: 0 });
    try {
      const r = await h!.get(`/probe?target=127.0.0.9:${second.port}&module=smtp`);
      expect(r.status).toBe(200);
      expect(sample(r.text, "probe_success")).toBe(1);
    } finally {
      await second.stop();
    }
  });
});

describe("cycle metrics with TLS", () => {
  it("exports the certificate's notAfter as a Unix timestamp per address and check", async () => {
    const certs = await start();
    await h!.cycles(1);
    const m = (await h!.get("/metrics")).text;
    expect(sample(m, "mailpool_tls_cert_not_after_timestamp_seconds", { pool: "smtp.example.com", address: "127.0.0.1", check: "mx" })).toBe(certs.validNotAfterMs / 1000);
    // 127.0.0.2 has no listener: down, no certificate.
    expect(sample(m, "mailpool_tls_cert_not_after_timestamp_seconds", { pool: "smtp.example.com", address: "127.0.0.2", check: "mx" })).toBeUndefined();
    expect(sample(m, "mailpool_probe_success", { pool: "smtp.example.com", address: "127.0.0.2", check: "mx" })).toBe(0);
  });
});

describe("daemon alerts", () => {
  it("sends member_down for a member the first cycles find down, once, to the webhook", async () => {
    const got: { kind: string; address?: string }[] = [];
    server = createServer((req, res) => {
      let b = "";
      req.on("data", (d: Buffer) => (b += d.toString()));
      req.on("end", () => {
        got.push(JSON.parse(b));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    await start("", {}, `alerts:\n  webhook: { url: "http://127.0.0.1:${port}/hook", retries: 0 }`);
    await h!.cycles(1);
    await h!.cycle();
    await h!.cycle();
    await until(() => got.length >= 1);
    expect(got.map((e) => [e.kind, e.address])).toEqual([["member_down", "127.0.0.2"]]);
    await listener!.stop(); // now every member is down
    await h!.cycle();
    await until(() => got.length >= 4);
    await new Promise((r) => setTimeout(r, 100));
    // The last address stays (a safety rule holds its removal): that is said too.
    expect(got.slice(1).map((e) => e.kind)).toEqual(["member_down", "pool_all_down", "change_held"]);
    await h!.cycle();
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(4); // the same state again: nothing new
    const m = (await h!.get("/metrics")).text;
    expect(sample(m, "mailpool_alerts_total", { kind: "member_down", outcome: "sent" })).toBe(2);
  });
});
