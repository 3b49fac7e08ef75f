import { describe, expect, it } from "vitest";
import { probeSmtp } from "../../src/probes/smtp.js";
import { parseConfig } from "../../src/config/load.js";
import { checkFor, listen, never, targetOf, until } from "./helpers.js";

describe("SMTP probe with rcptTo", () => {
  it("passes when RCPT is accepted, and never sends DATA", async () => {
    const l = await listen({ protocol: "smtp", behaviour: { rcptDomains: ["example.com"] } });
    const obs = await probeSmtp(targetOf(l), checkFor("smtp", "none", { rcptTo: "postmaster@example.com" }), never());
    expect(obs).toMatchObject({ ok: true, reason: "ok", rcptReply: "250 2.1.5 Ok" });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "ehlo", "mail", "rcpt", "rset", "quit"]);
    await until(() => l.commands.includes("QUIT"), "QUIT at the listener");
    expect(l.commands).toEqual(["EHLO mailpool.invalid", "MAIL FROM:<>", "RCPT TO:<postmaster@example.com>", "RSET", "QUIT"]);
  });

  it("fails with the server's reply when RCPT is refused as relay, and still ends with RSET and QUIT", async () => {
    const l = await listen({ protocol: "smtp", behaviour: { rcptDomains: ["other.example"] } });
    const obs = await probeSmtp(targetOf(l), checkFor("smtp", "none", { rcptTo: "postmaster@example.com" }), never());
    expect(obs).toMatchObject({
      ok: false,
      reason: "RCPT TO:<postmaster@example.com> refused: 550 5.7.1 Relay access denied",
      rcptReply: "550 5.7.1 Relay access denied",
    });
    await until(() => l.commands.includes("QUIT"), "QUIT at the listener");
    expect(l.commands.slice(-2)).toEqual(["RSET", "QUIT"]);
    expect(l.commands).not.toContain("DATA");
  });

  it("sends no MAIL FROM when the check has no rcptTo", async () => {
    const l = await listen({ protocol: "smtp" });
    const obs = await probeSmtp(targetOf(l), checkFor("smtp", "none"), never());
    expect(obs.ok).toBe(true);
    expect(obs.rcptReply).toBeUndefined();
    await until(() => l.commands.includes("QUIT"), "QUIT at the listener");
    expect(l.commands).toEqual(["EHLO mailpool.invalid", "QUIT"]);
  });
});

describe("rcptTo in the config", () => {
  const config = (check: string) => `controllerId: t
providers: { m: { type: memory } }
checks: { c: ${check} }
pools: [{ name: smtp.example.com, provider: m, checks: [c], members: [{ address: 192.0.2.1 }] }]
`;
  it("is taken on an SMTP check", () => {
    expect(parseConfig(config("{ module: smtp, rcptTo: postmaster@example.com }")).checks.c?.rcptTo).toBe("postmaster@example.com");
  });
  it("is refused on an IMAP check, naming the place", () => {
    expect(() => parseConfig(config("{ module: imap, rcptTo: postmaster@example.com }"))).toThrow("checks.c.rcptTo: is for SMTP checks; imap speaks imap");
  });
  it("is refused when it is not an address", () => {
    expect(() => parseConfig(config('{ module: smtp, rcptTo: "a>b" }'))).toThrow("checks.c.rcptTo: must be an address such as postmaster@example.com");
  });
});
