import { describe, expect, it } from "vitest";
import { reverseRules } from "../../src/lint/rules/reverse.js";
import { CLEAN, edit, observe } from "./world.js";

describe("reverse DNS rules", () => {
  it("find nothing when every MX address has a PTR that resolves back", async () => {
    expect(reverseRules(await observe({ records: CLEAN }))).toEqual([]);
  });

  it("report an MX address without PTR", async () => {
    const [f, ...rest] = reverseRules(await observe({ records: edit(["25.2.0.192"]) }));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ id: "ptr-missing", subject: "192.0.2.25", rfc: "RFC 1912 §2.1" });
    expect(f?.evidence).toEqual(["PTR 25.2.0.192.in-addr.arpa @127.0.0.53:53 (recursive): NXDOMAIN, no records"]);
  });

  it("report a PTR whose name does not resolve back to the address", async () => {
    const findings = reverseRules(await observe({ records: edit(["25.2.0.192"], ["25.2.0.192.in-addr.arpa 3600 PTR mx.other.net"]) }));
    expect(findings.map((f) => [f.id, f.subject])).toEqual([["ptr-not-forward-confirmed", "192.0.2.25"]]);
  });

  it("check IPv6 MX addresses under ip6.arpa", async () => {
    const records = edit(["mx.other.net", "25.100"], ["mx.other.net 300 AAAA 2001:db8::25"]);
    const findings = reverseRules(await observe({ records }));
    expect(findings.map((f) => [f.id, f.subject])).toEqual([["ptr-missing", "2001:db8::25"]]);
    expect(findings[0]?.evidence[0]).toContain("PTR 5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  });
});
