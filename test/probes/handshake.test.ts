/**
 * The behaviour every protocol shares, against real listeners on loopback: success in plain,
 * STARTTLS and implicit TLS, and each way a member can fail. Per-protocol details differ only in
 * the words, listed in CASES.
 */
import { describe, expect, it } from "vitest";
import { probers } from "../../src/probes/index.js";
import type { Protocol } from "../../src/probes/types.js";
import { testCerts } from "../fakes/certs.js";
import { checkFor, listen, never, targetOf, until } from "./helpers.js";

interface Case {
  readonly protocol: Protocol;
  readonly capabilityPhase: string;
  readonly capabilitiesBeforeTls: readonly string[];
  readonly capabilitiesAfterTls: readonly string[];
  readonly greetingPattern: RegExp;
  readonly notAdvertised: string;
  readonly refused: string;
  readonly badGreeting: string;
  readonly capabilityWait: string;
  readonly floodWait: string;
  readonly quitWarning: string;
}

const CASES: readonly Case[] = [
  {
    protocol: "smtp",
    capabilityPhase: "ehlo",
    capabilitiesBeforeTls: ["PIPELINING", "SIZE 10240000", "STARTTLS", "8BITMIME"],
    capabilitiesAfterTls: ["PIPELINING", "SIZE 10240000", "8BITMIME"],
    greetingPattern: /^220 mx1\.example\.net ESMTP/,
    notAdvertised: "STARTTLS not advertised",
    refused: "STARTTLS refused: 454 TLS not available",
    badGreeting: "421 4.3.2 shutting down",
    capabilityWait: "EHLO reply",
    floodWait: "banner",
    quitWarning: "QUIT failed: connection closed by server while waiting for QUIT reply",
  },
  {
    protocol: "imap",
    capabilityPhase: "capability",
    capabilitiesBeforeTls: ["IMAP4rev1", "ID", "IDLE", "STARTTLS", "LOGINDISABLED"],
    capabilitiesAfterTls: ["IMAP4rev1", "ID", "IDLE", "AUTH=PLAIN"],
    greetingPattern: /^\* OK mx1\.example\.net IMAP4rev1/,
    notAdvertised: "STARTTLS not advertised",
    refused: "STARTTLS refused: NO TLS not available",
    badGreeting: "* BYE shutting down",
    capabilityWait: "CAPABILITY reply",
    floodWait: "CAPABILITY reply",
    quitWarning: "LOGOUT failed: connection closed by server while waiting for LOGOUT reply",
  },
  {
    protocol: "pop3",
    capabilityPhase: "capa",
    capabilitiesBeforeTls: ["TOP", "UIDL", "STLS"],
    capabilitiesAfterTls: ["TOP", "UIDL", "USER"],
    greetingPattern: /^\+OK mx1\.example\.net POP3/,
    notAdvertised: "STLS not advertised",
    refused: "STLS refused: -ERR TLS not available",
    badGreeting: "-ERR shutting down",
    capabilityWait: "CAPA reply",
    floodWait: "CAPA list",
    quitWarning: "QUIT failed: connection closed by server while waiting for QUIT reply",
  },
];

describe.each(CASES)("$protocol handshake", (c) => {
  const probe = probers[c.protocol];
  const { protocol } = c;
  const withTls = async () => ({ key: (await testCerts()).valid.key, cert: (await testCerts()).valid.cert });
  const trusted = async () => ({ ca: (await testCerts()).ca });

  it("passes a plain handshake, with its phases, greeting and capabilities, and closes the connection", async () => {
    const l = await listen({ protocol, tls: await withTls() });
    const obs = await probe(targetOf(l), checkFor(protocol, "none"), never());
    expect(obs).toMatchObject({ ok: true, reason: "ok", warnings: [], capabilities: c.capabilitiesBeforeTls });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", c.capabilityPhase, "quit"]);
    expect(obs.greeting).toMatch(c.greetingPattern);
    expect(obs.tls).toBeUndefined();
    await l.whenIdle();
    expect(l.connections).toBe(1);
  });

  it("passes STARTTLS with a certificate from a trusted CA and lists capabilities seen after TLS", async () => {
    const l = await listen({ protocol, tls: await withTls() });
    const obs = await probe(targetOf(l), checkFor(protocol, "starttls", {}, await trusted()), never());
    expect(obs).toMatchObject({ ok: true, reason: "ok", warnings: [], capabilities: c.capabilitiesAfterTls });
    expect(obs.phases.map((p) => p.name)).toEqual([
      "connect", "greeting", c.capabilityPhase, "starttls", "tls", c.capabilityPhase, "quit",
    ]);
    expect(obs.tls).toMatchObject({ authorized: true, subject: "mx1.example.net", issuer: "mailpool test CA", protocol: "TLSv1.3" });
    expect(obs.tls?.subjectAltNames).toBe("DNS:mx1.example.net, IP Address:127.0.0.1");
    expect(l.serverNames).toEqual(["mx1.example.net"]);
    await l.whenIdle();
  });

  it("passes implicit TLS, where the greeting comes after the handshake", async () => {
    const l = await listen({ protocol, tls: await withTls(), implicitTls: true });
    const obs = await probe(targetOf(l), checkFor(protocol, "implicit", {}, await trusted()), never());
    expect(obs).toMatchObject({ ok: true, reason: "ok", tls: { authorized: true } });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "tls", "greeting", c.capabilityPhase, "quit"]);
    expect(obs.greeting).toMatch(c.greetingPattern);
    await l.whenIdle();
  });

  it("fails STARTTLS that the server does not advertise", async () => {
    const l = await listen({ protocol, tls: await withTls(), behaviour: { advertiseStartTls: false } });
    const obs = await probe(targetOf(l), checkFor(protocol, "starttls", {}, await trusted()), never());
    expect(obs).toMatchObject({ ok: false, reason: c.notAdvertised });
    expect(obs.tls).toBeUndefined();
    await l.whenIdle();
  });

  it("fails STARTTLS that the server refuses, quoting the refusal", async () => {
    const l = await listen({ protocol, tls: await withTls(), behaviour: { refuseStartTls: true } });
    const obs = await probe(targetOf(l), checkFor(protocol, "starttls", {}, await trusted()), never());
    expect(obs).toMatchObject({ ok: false, reason: c.refused });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", c.capabilityPhase, "starttls"]);
    await l.whenIdle();
  });

  it("fails a greeting that says the server is not ready", async () => {
    const l = await listen({ protocol, behaviour: { greeting: c.badGreeting } });
    const obs = await probe(targetOf(l), checkFor(protocol, "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: `greeting ${c.badGreeting}`, greeting: c.badGreeting });
    await l.whenIdle();
  });

  it("times out on a server that never greets, naming the banner", async () => {
    const l = await listen({ protocol, behaviour: { silent: true } });
    const obs = await probe(targetOf(l), checkFor(protocol, "none", { timeoutMs: 400 }), never());
    expect(obs).toMatchObject({ ok: false, reason: "timeout waiting for banner after 400 ms" });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting"]);
    await l.whenIdle();
  });

  it("reports a refused connection with the address", async () => {
    const l = await listen({ protocol });
    await l.stop();
    const obs = await probe(targetOf(l), checkFor(protocol, "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: `connection refused by 127.0.0.1:${l.port}` });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect"]);
  });

  it("reports a server that hangs up after its greeting", async () => {
    const l = await listen({ protocol, behaviour: { closeAfterGreeting: true } });
    const obs = await probe(targetOf(l), checkFor(protocol, "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: `connection closed by server while waiting for ${c.capabilityWait}` });
    await l.whenIdle();
  });

  it("stops reading a line longer than maxLineBytes", async () => {
    const l = await listen({ protocol, behaviour: { flood: "line" } });
    const obs = await probe(targetOf(l), checkFor(protocol, "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: "line longer than 4096 bytes while waiting for banner" });
    await l.whenIdle();
  });

  it("stops reading after maxTotalBytes from a server that never stops talking", async () => {
    const l = await listen({ protocol, behaviour: { flood: "bytes" } });
    const obs = await probe(targetOf(l), checkFor(protocol, "none", { maxTotalBytes: 20_000 }), never());
    expect(obs).toMatchObject({ ok: false, reason: `server sent more than 20000 bytes while waiting for ${c.floodWait}` });
    await l.whenIdle();
  });

  it("stays ok, with a warning, when the server hangs up instead of answering the goodbye", async () => {
    const l = await listen({ protocol, behaviour: { closeOnQuit: true } });
    const obs = await probe(targetOf(l), checkFor(protocol, "none"), never());
    expect(obs).toMatchObject({ ok: true, reason: "ok", warnings: [c.quitWarning] });
    await l.whenIdle();
  });

  it("honours its AbortSignal while waiting for the banner and destroys the socket", async () => {
    const l = await listen({ protocol, behaviour: { silent: true } });
    const ac = new AbortController();
    const pending = probe(targetOf(l), checkFor(protocol, "none", { timeoutMs: 20_000 }), ac.signal);
    await until(() => l.active === 1, "the connection");
    ac.abort();
    const obs = await pending;
    expect(obs).toMatchObject({ ok: false, reason: "aborted" });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting"]);
    await l.whenIdle();
  });

  it("honours its AbortSignal in the middle of a TLS handshake", async () => {
    // A plain listener that never speaks: the client's ClientHello gets no answer.
    const l = await listen({ protocol, behaviour: { silent: true } });
    const ac = new AbortController();
    const pending = probe(targetOf(l), checkFor(protocol, "implicit", { timeoutMs: 20_000 }), ac.signal);
    await until(() => l.active === 1, "the connection");
    ac.abort();
    const obs = await pending;
    expect(obs).toMatchObject({ ok: false, reason: "aborted" });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "tls"]);
    await l.whenIdle();
  });

  it("returns at once without connecting when the signal is already aborted", async () => {
    const l = await listen({ protocol });
    const obs = await probe(targetOf(l), checkFor(protocol, "none"), AbortSignal.abort());
    expect(obs).toMatchObject({ ok: false, reason: "aborted", phases: [] });
    expect(l.connections).toBe(0);
  });
});
