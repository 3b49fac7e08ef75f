import { describe, expect, it } from "vitest";
import { nameServerRules } from "../../src/lint/rules/nameservers.js";
import { CLEAN, edit, observe } from "./world.js";

const NS = "example.com 3600 NS";

describe("name server rules", () => {
  it("find nothing with two authoritative servers in two networks and operators", async () => {
    expect(nameServerRules(await observe({ records: CLEAN }))).toEqual([]);
  });

  it("report fewer than two name servers as an error", async () => {
    const findings = nameServerRules(await observe({ records: edit([`${NS} ns.other.net`]) }));
    expect(findings.map((f) => [f.id, f.severity, f.rfc])).toEqual([["ns-too-few", "error", "RFC 1034 §4.1, RFC 2182 §5"]]);
  });

  it("report name servers all in one network", async () => {
    const findings = nameServerRules(await observe({ records: edit(["ns.other.net"], ["ns.other.net 3600 A 192.0.2.54"]) }));
    expect(findings.map((f) => f.id)).toEqual(["ns-one-network"]);
  });

  it("report name servers all under one operator", async () => {
    const findings = nameServerRules(await observe({ records: edit([`${NS} ns.other.net`], [`${NS} ns2.example.com`, "ns2.example.com 3600 A 198.51.100.54"]) }));
    expect(findings.map((f) => f.id)).toEqual(["ns-one-provider"]);
  });

  it("report a lame server (REFUSED without recursion) with the query that showed it", async () => {
    const [f, ...rest] = nameServerRules(await observe({ records: CLEAN, servers: { "198.51.100.53:53": "lame" } }));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ id: "ns-lame", severity: "error", subject: "ns.other.net (198.51.100.53)" });
    expect(f?.message).toContain("it answered REFUSED");
    expect(f?.evidence).toEqual(["SOA example.com @198.51.100.53:53 (non-recursive): REFUSED, no records"]);
  });

  it("report a server that does not answer at all as lame too", async () => {
    const findings = nameServerRules(await observe({ records: CLEAN, servers: { "192.0.2.53:53": "silent" } }));
    expect(findings.map((f) => [f.id, f.subject])).toEqual([["ns-lame", "ns1.example.com (192.0.2.53)"]]);
    expect(findings[0]?.message).toContain("timeout after 1000 ms");
  });

  it("do not call a server lame when this host cannot reach its address family at all", async () => {
    const records = edit([], ["ns.other.net 3600 AAAA 2001:db8::53"]);
    expect(nameServerRules(await observe({ records, servers: { "[2001:db8::53]:53": "unreachable" } }))).toEqual([]);
    expect(nameServerRules(await observe({ records, servers: { "[2001:db8::53]:53": "silent" } })).map((f) => [f.id, f.subject])).toEqual([["ns-lame", "ns.other.net (2001:db8::53)"]]);
  });

  it("report SOA serials that disagree, naming who serves which", async () => {
    const [f, ...rest] = nameServerRules(await observe({ records: CLEAN, servers: { "198.51.100.53:53": { serial: 2025120101 } } }));
    expect(rest).toEqual([]);
    expect(f?.id).toBe("ns-serial-mismatch");
    expect(f?.message).toContain("2025120101 at ns.other.net (198.51.100.53); 2026010101 at ns1.example.com (192.0.2.53)");
  });

  it("report a name server without an address", async () => {
    const findings = nameServerRules(await observe({ records: edit(["ns.other.net"]) }));
    expect(findings.map((f) => [f.id, f.subject])).toEqual([["ns-no-address", "ns.other.net"]]);
  });
});
