import { describe, expect, it } from "vitest";
import { ttlRules } from "../../src/lint/rules/ttl.js";
import { CLEAN, edit, observe } from "./world.js";

describe("TTL rules", () => {
  it("find nothing when MX hosts and service names are at 300–900 s (the MX RRset's 3600 s is fine)", async () => {
    expect(ttlRules(await observe({ records: CLEAN }))).toEqual([]);
  });

  it("accept both ends of the window", async () => {
    const obs = await observe({ records: edit(["smtp.", "imap."], ["smtp.example.com 900 A 192.0.2.25", "imap.example.com 300 A 192.0.2.25"]) });
    expect(ttlRules(obs)).toEqual([]);
  });

  it("report a service name's TTL above 900 s, read from the zone's own server", async () => {
    const [f, ...rest] = ttlRules(await observe({ records: edit(["smtp."], ["smtp.example.com 901 A 192.0.2.25"]) }));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ id: "ttl-too-long", subject: "smtp.example.com" });
    expect(f?.message).toContain("TTL 901 s");
    expect(f?.evidence[0]).toBe("A smtp.example.com @198.51.100.53:53 (non-recursive): NOERROR aa, 192.0.2.25 ttl 901");
  });

  it("report an MX host's TTL below 300 s", async () => {
    const findings = ttlRules(await observe({ records: edit(["mx1."], ["mx1.example.com 299 A 192.0.2.25"]) }));
    expect(findings.map((f) => [f.id, f.subject])).toEqual([["ttl-too-short", "mx1.example.com"]]);
  });

  it("leave another operator's MX host alone", async () => {
    expect(ttlRules(await observe({ records: edit(["mx.other.net"], ["mx.other.net 60 A 198.51.100.25"]) }))).toEqual([]);
  });
});
