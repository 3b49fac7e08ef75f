import { describe, expect, it } from "vitest";
import { fallbackRules } from "../../src/lint/rules/fallback.js";
import { CLEAN, edit, fakeProber, observe } from "./world.js";

const MX = "example.com 3600 MX";

describe("fallback MX rules", () => {
  it("find nothing in a clean domain, whose fallback accepted RCPT for postmaster@example.com", async () => {
    const calls: { host: string; rcptTo?: string }[] = [];
    const obs = await observe({ records: CLEAN }, { probe: fakeProber({}, calls) });
    expect(fallbackRules(obs)).toEqual([]);
    // Only the fallback (preference 20) is asked, never the primary.
    expect(calls).toEqual([{ host: "198.51.100.25", rcptTo: "postmaster@example.com" }]);
  });

  it("report a single MX", async () => {
    const obs = await observe({ records: edit([`${MX} 20`]) });
    expect(fallbackRules(obs).map((f) => [f.id, f.severity])).toEqual([["mx-single", "warning"]]);
  });

  it("report MX hosts all in one /24", async () => {
    const obs = await observe({ records: edit(["mx.other.net"], ["mx.other.net 300 A 192.0.2.26"]) });
    const [f, ...rest] = fallbackRules(obs);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ id: "mx-one-network", subject: "example.com" });
    expect(f?.message).toContain("192.0.2.0/24");
  });

  it("judge IPv6 MX hosts by /48", async () => {
    const v6 = (a: string, b: string) => edit(["mx1.example.com", "mx.other.net"], [`mx1.example.com 300 AAAA ${a}`, `mx.other.net 300 AAAA ${b}`]);
    expect(fallbackRules(await observe({ records: v6("2001:db8:1::25", "2001:db8:1:ff::25") })).map((f) => f.id)).toEqual(["mx-one-network"]);
    expect(fallbackRules(await observe({ records: v6("2001:db8:1::25", "2001:db8:2::25") }))).toEqual([]);
  });

  it("see dual-stack hosts that share their IPv4 /24 as one network, though their IPv6 differ", async () => {
    const records = edit(["mx.other.net"], ["mx.other.net 300 A 192.0.2.26", "mx.other.net 300 AAAA 2001:db8:2::25", "mx1.example.com 300 AAAA 2001:db8:1::25"]);
    const findings = fallbackRules(await observe({ records }));
    expect(findings.map((f) => f.id)).toEqual(["mx-one-network"]);
    expect(findings[0]?.message).toContain("has its address in 192.0.2.0/24:");
  });

  it("do not see one network when one host is IPv4-only and the other IPv6-only", async () => {
    const records = edit(["mx.other.net"], ["mx.other.net 300 AAAA 2001:db8:2::25"]);
    expect(fallbackRules(await observe({ records })).map((f) => f.id)).toEqual([]);
  });

  it("report MX hosts all under one operator's domain", async () => {
    const obs = await observe({ records: edit([`${MX} 20`], [`${MX} 20 mx2.example.com`, "mx2.example.com 300 A 198.51.100.26"]) });
    expect(fallbackRules(obs).map((f) => f.id)).toEqual(["mx-one-provider"]);
  });

  it("report a fallback that refuses the domain's mail, with the RCPT reply as evidence", async () => {
    const probe = fakeProber({ "198.51.100.25": { ok: false, reason: "RCPT TO:<postmaster@example.com> refused: 550 5.7.1 Relay access denied", rcptReply: "550 5.7.1 Relay access denied" } });
    const [f, ...rest] = fallbackRules(await observe({ records: CLEAN }, { probe }));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ id: "mx-fallback-refuses", severity: "error", subject: "mx.other.net" });
    expect(f?.evidence).toEqual([
      "SMTP 198.51.100.25:25 (mx.other.net): EHLO, MAIL FROM:<>, RCPT TO:<postmaster@example.com> → 550 5.7.1 Relay access denied, RSET, QUIT (no DATA)",
    ]);
  });

  it("report a fallback that could not be asked as a warning, not as a refusal", async () => {
    const probe = fakeProber({ "198.51.100.25": { ok: false, reason: "connection refused by 198.51.100.25:25", rcptReply: undefined } });
    const findings = fallbackRules(await observe({ records: CLEAN }, { probe }));
    expect(findings.map((f) => [f.id, f.severity])).toEqual([["mx-fallback-unreachable", "warning"]]);
  });

  it("hold no SMTP dialogue with --no-rcpt, nor for a null MX", async () => {
    const calls: { host: string }[] = [];
    await observe({ records: CLEAN }, { rcpt: false, probe: fakeProber({}, calls) });
    await observe({ records: edit([MX], [`${MX} 0 .`]) }, { probe: fakeProber({}, calls) });
    expect(calls).toEqual([]);
  });
});
