import { describe, expect, it, onTestFinished } from "vitest";
import { probers } from "../../src/probes/index.js";
import { checkFor, listen, never } from "./helpers.js";
import { startUnacceptingListener } from "./unaccepting-listener.js";

describe("TCP connect", () => {
  it("times out after connectTimeoutMs against a listener that never completes the handshake", async () => {
    const l = await startUnacceptingListener("127.0.0.5");
    onTestFinished(() => l.close());
    const obs = await probers.smtp({ host: l.host, port: l.port }, checkFor("smtp", "none", { connectTimeoutMs: 300 }), never());
    expect(obs).toMatchObject({ ok: false, reason: `connect timeout after 300 ms to 127.0.0.5:${l.port}` });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect"]);
  });

  it("keeps the connect inside the overall deadline when that is shorter", async () => {
    const l = await startUnacceptingListener();
    onTestFinished(() => l.close());
    const check = checkFor("smtp", "none", { connectTimeoutMs: 3000, timeoutMs: 250 });
    const obs = await probers.smtp({ host: l.host, port: l.port }, check, never());
    expect(obs).toMatchObject({ ok: false, reason: `connect timeout after 250 ms to 127.0.0.1:${l.port}` });
  });

  it("aborts a hanging connect", async () => {
    const l = await startUnacceptingListener();
    onTestFinished(() => l.close());
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const obs = await probers.imap({ host: l.host, port: l.port }, checkFor("imap", "none", { timeoutMs: 20_000 }), ac.signal);
    expect(obs).toMatchObject({ ok: false, reason: "aborted" });
  });

  it("names an IPv6 address in brackets", async () => {
    const l = await listen({ protocol: "pop3", host: "::1" });
    await l.stop();
    const obs = await probers.pop3({ host: "::1", port: l.port }, checkFor("pop3", "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: `connection refused by [::1]:${l.port}` });
  });

  it("probes over IPv6 loopback", async () => {
    const l = await listen({ protocol: "smtp", host: "::1" });
    const obs = await probers.smtp({ host: "::1", port: l.port }, checkFor("smtp", "none"), never());
    expect(obs).toMatchObject({ ok: true });
  });
});
