/**
 * Line protocols as data (src/probes/scripted.ts): the built-in LMTP and ManageSieve dialogues
 * against real listeners on loopback that speak them, in plain text and with STARTTLS, and each
 * way a member fails (wrong greeting, STARTTLS refused or not advertised, silence, floods).
 */
import { describe, expect, it } from "vitest";
import { CHECK_DEFAULTS } from "../../src/probes/builtin-checks.js";
import { createProbeRunner } from "../../src/probes/index.js";
import { DIALOGUES, type BuiltinDialogueName } from "../../src/probes/protocols.js";
import { compileDialogue, DialogueError, probeDialogue, type DialogueSource } from "../../src/probes/scripted.js";
import type { CheckSpec, TlsMode } from "../../src/probes/types.js";
import { testCerts } from "../fakes/certs.js";
import { listen, never, targetOf } from "./helpers.js";

/** A check speaking the built-in dialogue `name`, with test-sized deadlines. */
function dialogueCheck(name: BuiltinDialogueName, tls: TlsMode, overrides: Partial<CheckSpec> = {}, ca?: string): CheckSpec {
  const ehloName = overrides.ehloName ?? "probe.example.org";
  return {
    ...CHECK_DEFAULTS,
    name,
    protocol: "dialogue",
    port: DIALOGUES[name].port,
    tls,
    connectTimeoutMs: 2000,
    timeoutMs: 3000,
    ...overrides,
    ehloName,
    tlsRules: { ...CHECK_DEFAULTS.tlsRules, ...(ca !== undefined && { ca }) },
    dialogue: compileDialogue(name, DIALOGUES[name], { ehloName }),
  };
}

describe("the LMTP dialogue", () => {
  it("passes a plain LHLO handshake and reports the extensions without the host name", async () => {
    const l = await listen({ protocol: "lmtp" });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("lmtp", "none"), never());
    expect(obs).toMatchObject({
      ok: true,
      reason: "ok",
      greeting: "220 mx1.example.net LMTP mailpool demo",
      capabilities: ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME"],
      warnings: [],
    });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "lhlo", "quit"]);
    expect(l.commands).toEqual(["LHLO probe.example.org", "QUIT"]);
  });

  it("upgrades with STARTTLS, checks the certificate and asks LHLO again", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "lmtp", tls: certs.valid });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("lmtp", "starttls", {}, certs.ca), never());
    expect(obs).toMatchObject({ ok: true, reason: "ok", capabilities: ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME"] });
    expect(obs.tls).toMatchObject({ authorized: true, subject: "mx1.example.net" });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "lhlo", "starttls", "tls", "lhlo", "quit"]);
    expect(l.commands).toEqual(["LHLO probe.example.org", "STARTTLS", "LHLO probe.example.org", "QUIT"]);
    expect(l.serverNames).toEqual(["mx1.example.net"]);
  });

  it("fails a wrong greeting, quoting it", async () => {
    const l = await listen({ protocol: "lmtp", behaviour: { greeting: "421 4.3.2 shutting down" } });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("lmtp", "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: 'unexpected banner: "421 4.3.2 shutting down"', greeting: "421 4.3.2 shutting down" });
  });

  it("fails when STARTTLS is refused", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "lmtp", tls: certs.valid, behaviour: { refuseStartTls: true } });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("lmtp", "starttls", {}, certs.ca), never());
    expect(obs).toMatchObject({ ok: false, reason: "STARTTLS refused: 454 4.7.0 TLS not available" });
  });

  it("fails without sending STARTTLS when the server does not advertise it", async () => {
    const l = await listen({ protocol: "lmtp" });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("lmtp", "starttls"), never());
    expect(obs).toMatchObject({ ok: false, reason: "STARTTLS not advertised" });
    expect(l.commands).toEqual(["LHLO probe.example.org"]);
  });

  it("times out on a silent server at the check's deadline", async () => {
    const l = await listen({ protocol: "lmtp", behaviour: { silent: true } });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("lmtp", "none", { timeoutMs: 300 }), never());
    expect(obs).toMatchObject({ ok: false, reason: "timeout waiting for banner after 300 ms" });
  });

  it("keeps the byte bound on a multi-line reply that never ends", async () => {
    const l = await listen({ protocol: "lmtp", behaviour: { flood: "bytes" } });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("lmtp", "none", { maxTotalBytes: 4096 }), never());
    expect(obs).toMatchObject({ ok: false, reason: "server sent more than 4096 bytes while waiting for banner" });
  });

  it("counts a server that hangs up on QUIT as up, with a warning", async () => {
    const l = await listen({ protocol: "lmtp", behaviour: { closeOnQuit: true } });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("lmtp", "none"), never());
    expect(obs).toMatchObject({ ok: true, warnings: ["QUIT failed: connection closed by server while waiting for QUIT reply"] });
  });

  it("fails a greeting that does not match the check's expectGreeting", async () => {
    const l = await listen({ protocol: "lmtp" });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("lmtp", "none", { expectGreeting: "Dovecot" }), never());
    expect(obs).toMatchObject({ ok: false, reason: "greeting does not match /Dovecot/: 220 mx1.example.net LMTP mailpool demo" });
  });
});

describe("the ManageSieve dialogue", () => {
  it("passes on the capability-list greeting and logs out", async () => {
    const l = await listen({ protocol: "managesieve" });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("managesieve", "none"), never());
    expect(obs).toMatchObject({ ok: true, reason: "ok", capabilities: ["IMPLEMENTATION", "SIEVE", "SASL", "VERSION"], warnings: [] });
    expect(obs.greeting?.split("\n").at(-1)).toBe('OK "mx1.example.net ManageSieve mailpool demo ready"');
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "logout"]);
    expect(l.commands).toEqual(["LOGOUT"]);
  });

  it("upgrades with STARTTLS and reads the capability list the server sends again after TLS", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "managesieve", tls: certs.valid });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("managesieve", "starttls", {}, certs.ca), never());
    expect(obs).toMatchObject({ ok: true, reason: "ok", capabilities: ["IMPLEMENTATION", "SIEVE", "SASL", "VERSION"] });
    expect(obs.tls?.authorized).toBe(true);
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "starttls", "tls", "capability", "logout"]);
    expect(l.commands).toEqual(["STARTTLS", "LOGOUT"]);
  });

  it("passes with TLS from the first byte", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "managesieve", tls: certs.valid, implicitTls: true });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("managesieve", "implicit", {}, certs.ca), never());
    expect(obs).toMatchObject({ ok: true, reason: "ok" });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "tls", "greeting", "logout"]);
  });

  it("fails a greeting that is not a capability list ending in OK", async () => {
    const l = await listen({ protocol: "managesieve", behaviour: { greeting: 'BYE "too many connections"' } });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("managesieve", "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: 'unexpected banner: "BYE \\"too many connections\\""' });
  });

  it("fails when STARTTLS is refused", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "managesieve", tls: certs.valid, behaviour: { refuseStartTls: true } });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("managesieve", "starttls", {}, certs.ca), never());
    expect(obs).toMatchObject({ ok: false, reason: 'STARTTLS refused: NO "TLS not available"' });
  });

  it("times out when the greeting never ends", async () => {
    const l = await listen({ protocol: "managesieve", behaviour: { greeting: '"IMPLEMENTATION" "stuck"' } });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("managesieve", "none", { timeoutMs: 300 }), never());
    expect(obs).toMatchObject({ ok: false, reason: "timeout waiting for banner after 300 ms" });
  });

  it("keeps the byte bound on continuation lines that never end", async () => {
    const l = await listen({ protocol: "managesieve", behaviour: { flood: "bytes" } });
    const obs = await probeDialogue(targetOf(l), dialogueCheck("managesieve", "none", { maxTotalBytes: 4096 }), never());
    expect(obs).toMatchObject({ ok: false, reason: "server sent more than 4096 bytes while waiting for banner" });
  });
});

describe("the probe runner", () => {
  it("runs a check of protocol dialogue through its steps", async () => {
    const l = await listen({ protocol: "lmtp" });
    const run = createProbeRunner({ concurrency: 1 });
    expect(await run(targetOf(l), dialogueCheck("lmtp", "none"), never())).toMatchObject({ ok: true, reason: "ok" });
  });

  it("reports an aborted dialogue as aborted", async () => {
    const l = await listen({ protocol: "lmtp", behaviour: { silent: true } });
    const ac = new AbortController();
    const pending = probeDialogue(targetOf(l), dialogueCheck("lmtp", "none"), ac.signal);
    setTimeout(() => ac.abort(), 50);
    expect(await pending).toMatchObject({ ok: false, reason: "aborted" });
  });
});

describe("compileDialogue", () => {
  const compileErrors = (source: DialogueSource): readonly string[] => {
    try {
      compileDialogue("x", source, { ehloName: "h" });
    } catch (err) {
      if (err instanceof DialogueError) return err.problems;
      throw err;
    }
    return [];
  };

  it("names each broken step", () => {
    expect(
      compileErrors({
        steps: [
          { expect: "(" },
          { send: "HELLO {host}" },
          { send: "A", expect: "B" },
          {},
          { send: "NOOP", continued: "^x" },
          { starttls: true, when: "none" },
        ],
      }),
    ).toEqual([
      "steps[0].expect: not a valid regular expression",
      "steps[1].send: {host} is not a placeholder (only {ehloName} is)",
      "steps[2]: needs exactly one of expect, send, starttls (has expect, send)",
      "steps[3]: needs exactly one of expect, send, starttls",
      "steps[4].continued: belongs to an expect step",
      "steps[5].when: a starttls step runs only with tls: starttls",
    ]);
  });

  it("refuses a dialogue that reads nothing", () => {
    expect(compileErrors({ steps: [{ send: "NOOP" }] })).toEqual(["steps: needs at least one expect step (a dialogue that reads nothing proves nothing)"]);
  });

  it("fills in the check's ehloName once, at compile time", () => {
    const compiled = compileDialogue("lmtp", DIALOGUES.lmtp, { ehloName: "probe.example.org" });
    const sends = compiled.phases.none.flatMap((p) => p.steps).filter((s) => s.kind === "send");
    expect(sends.map((s) => (s.kind === "send" ? s.line : ""))).toEqual(["LHLO probe.example.org", "QUIT"]);
    expect(compiled.hasStartTls).toBe(true);
  });
});
