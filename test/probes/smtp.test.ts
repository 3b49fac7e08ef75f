import { describe, expect, it } from "vitest";
import { probeSmtp } from "../../src/probes/smtp.js";
import { testCerts } from "../fakes/certs.js";
import { checkFor, listen, never, targetOf } from "./helpers.js";

describe("SMTP probe", () => {
  it("accepts a multi-line 220 greeting and keeps every line", async () => {
    const l = await listen({ protocol: "smtp", behaviour: { greeting: "220-mx1.example.net ESMTP\n220-no UCE\n220 ready" } });
    const obs = await probeSmtp(targetOf(l), checkFor("smtp", "none"), never());
    expect(obs).toMatchObject({ ok: true, greeting: "220-mx1.example.net ESMTP\n220-no UCE\n220 ready" });
  });

  it("fails a multi-line 421 greeting with all of its text", async () => {
    const l = await listen({ protocol: "smtp", behaviour: { greeting: "421-4.3.2 shutting down\n421 4.3.2 try mx2" } });
    const obs = await probeSmtp(targetOf(l), checkFor("smtp", "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: "greeting 421 4.3.2 shutting down 4.3.2 try mx2" });
  });

  it("falls back to HELO when EHLO is rejected, and says so in a warning", async () => {
    const l = await listen({ protocol: "smtp", behaviour: { ehloRejected: true } });
    const obs = await probeSmtp(targetOf(l), checkFor("smtp", "none"), never());
    expect(obs).toMatchObject({
      ok: true,
      reason: "ok",
      capabilities: [],
      warnings: ["EHLO refused (502 5.5.2 EHLO not recognized); HELO accepted, so no extensions"],
    });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "ehlo", "quit"]);
  });

  it("cannot STARTTLS after a HELO fallback, because nothing was advertised", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "smtp", tls: certs.valid, behaviour: { ehloRejected: true } });
    const obs = await probeSmtp(targetOf(l), checkFor("smtp", "starttls", {}, { ca: certs.ca }), never());
    expect(obs).toMatchObject({ ok: false, reason: "STARTTLS not advertised" });
  });

  it("fails a greeting that does not match expectGreeting", async () => {
    const l = await listen({ protocol: "smtp" });
    const obs = await probeSmtp(targetOf(l), checkFor("smtp", "none", { expectGreeting: "Postfix" }), never());
    expect(obs).toMatchObject({ ok: false, reason: "greeting does not match /Postfix/: 220 mx1.example.net ESMTP mailpool demo" });
  });

  it("passes a greeting that matches expectGreeting", async () => {
    const l = await listen({ protocol: "smtp" });
    const obs = await probeSmtp(targetOf(l), checkFor("smtp", "none", { expectGreeting: "^220 mx1\\.example\\.net " }), never());
    expect(obs).toMatchObject({ ok: true });
  });

  it("fails a banner that is not an SMTP reply", async () => {
    const l = await listen({ protocol: "smtp", behaviour: { greeting: "SSH-2.0-OpenSSH_9.6" } });
    const obs = await probeSmtp(targetOf(l), checkFor("smtp", "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: 'unexpected banner: "SSH-2.0-OpenSSH_9.6"' });
  });

  it("refuses to send an EHLO name that would inject a second command", async () => {
    const l = await listen({ protocol: "smtp" });
    const obs = await probeSmtp(targetOf(l), checkFor("smtp", "none", { ehloName: "x\r\nRSET" }), never());
    expect(obs).toMatchObject({ ok: false, reason: 'refusing to send a command containing CR or LF: "EHLO x\\r\\nRSET"' });
  });
});
