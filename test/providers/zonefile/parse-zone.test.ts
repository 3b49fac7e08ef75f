import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ProviderConfigError } from "../../../providers/types.js";
import { parseTtl, parseZone, rrsetOf, ZoneSyntaxError } from "../../../providers/zonefile/index.js";
import type { ZoneRecord } from "../../../providers/zonefile/index.js";
import { FIXTURE } from "./zone-test-kit.js";

const fixture = readFileSync(FIXTURE, "latin1");
const zone = parseZone(fixture, { source: "example.com.zone" });
const rdata = (r: ZoneRecord): string => r.rdata.map((t) => t.text).join(" ");
const byType = (type: string): ZoneRecord[] => zone.records.filter((r) => r.type === type);

describe("parseZone on a realistic zone", () => {
  it("takes the apex from the SOA owner and reads the serial from a record spread over lines", () => {
    expect(zone.apex).toBe("example.com");
    expect(zone.soa?.serial).toBe(2026112401);
    expect(zone.soa?.minimum).toBe(300);
    expect(zone.soa?.lineNumber).toBe(5);
    expect(zone.soa?.ttl).toBe(3600);
  });

  it("gives blank-owner NS lines the previous owner and keeps other types verbatim", () => {
    expect(byType("NS").map((r) => [r.owner, rdata(r), r.ttl])).toEqual([
      ["example.com", "ns1", 3600],
      ["example.com", "ns2.example.net.", 3600],
    ]);
    expect(byType("MX").map((r) => [r.owner, rdata(r)])).toEqual([
      ["example.com", "10 mx1"],
      ["example.com", "20 mx2.example.com."],
    ]);
    expect(byType("CNAME").map((r) => [r.owner, rdata(r)])).toEqual([["www.example.com", "@"]]);
    expect(byType("SRV").map((r) => [r.owner, rdata(r)])).toEqual([["_submission._tcp.example.com", "0 1 587 smtp"]]);
  });

  it("reads TTLs with units, in either order with the class, and defaults to $TTL", () => {
    const a = (owner: string) => zone.records.filter((r) => r.type === "A" && r.owner === owner).map((r) => r.ttl);
    expect(a("ns1.example.com")).toEqual([300]);
    expect(a("mx1.example.com")).toEqual([5400]);
    expect(a("mx2.example.com")).toEqual([600]);
    expect(a("imap.example.com")).toEqual([300, 300]);
  });

  it("reads the round-robin pools, blank-owner continuations included, with canonical addresses", () => {
    expect(rrsetOf(zone, { name: "smtp.example.com", type: "A" })).toMatchObject({
      name: "smtp.example.com",
      type: "A",
      ttl: 300,
      values: ["192.0.2.10", "192.0.2.11", "192.0.2.12"],
    });
    expect(rrsetOf(zone, { name: "smtp.example.com", type: "AAAA" })).toMatchObject({
      ttl: 300,
      values: ["2001:db8::10", "2001:db8::11"],
    });
    expect(rrsetOf(zone, { name: "IMAP.example.com.", type: "A" })).toMatchObject({
      name: "imap.example.com",
      values: ["192.0.2.20", "192.0.2.21"],
    });
    expect(rrsetOf(zone, { name: "smtp.example.com", type: "A" })?.drift).toBeUndefined();
    expect(rrsetOf(zone, { name: "nowhere.example.com", type: "A" })).toBeUndefined();
  });

  it("reports the lowest TTL and a drift entry when the records of one RRset disagree", () => {
    const pop = rrsetOf(zone, { name: "pop.example.com", type: "A" });
    expect(pop?.ttl).toBe(900);
    expect(pop?.values).toEqual(["192.0.2.30", "192.0.2.31"]);
    expect(pop?.drift).toEqual([
      "its records disagree on the TTL (192.0.2.30 has 3600, 192.0.2.31 has 900); the lowest, 900, is reported",
    ]);
  });

  it("unquotes TXT values: semicolons inside quotes, escapes, several character-strings joined", () => {
    const txt = (name: string) => rrsetOf(zone, { name, type: "TXT" })?.values;
    expect(txt("_mailpool.smtp.example.com")).toEqual(["mailpool owner=test"]);
    expect(txt("_mailpool.imap.example.com")).toEqual(["mailpool owner=test"]);
    expect(txt("example.com")).toEqual(["v=spf1 mx a:smtp.example.com -all"]);
    expect(txt("_dmarc.example.com")).toEqual(["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"]);
    expect(txt("sel1._domainkey.example.com")).toEqual(["v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"]);
    expect(txt("quote.example.com")).toEqual(['say "hi"; then \\ leaveunquoted;part']);
  });
});

describe("parseZone details", () => {
  it("resolves @, relative and absolute names against the origin in effect", () => {
    const z = parseZone(
      ["$TTL 300", "$ORIGIN example.org.", "@ SOA ns hm 1 1 1 1 1", "a A 192.0.2.1", "$ORIGIN sub", "b A 192.0.2.2", "c.example.net. A 192.0.2.3", "@ TXT x"].join("\n"),
    );
    expect(z.records.map((r) => r.owner)).toEqual([
      "example.org",
      "a.example.org",
      "b.sub.example.org",
      "c.example.net",
      "sub.example.org",
    ]);
  });

  it("takes the origin from the config when the file has no $ORIGIN", () => {
    const z = parseZone("$TTL 300\n@ IN SOA ns hm 7 1 1 1 1\nsmtp A 192.0.2.1\n", { origin: "Example.COM." });
    expect(z.apex).toBe("example.com");
    expect(z.records.map((r) => r.owner)).toEqual(["example.com", "smtp.example.com"]);
  });

  it("without $TTL inherits the previous record's TTL, and the SOA falls back to its minimum (RFC 2308)", () => {
    const z = parseZone("example.com. IN SOA ns hm 7 1 1 1 1h\nwww 120 A 192.0.2.1\nmail A 192.0.2.2\n");
    expect(z.records.map((r) => r.ttl)).toEqual([3600, 120, 120]);
  });

  it("parses TTL units", () => {
    expect(parseTtl("3600")).toBe(3600);
    expect(parseTtl("1h30m")).toBe(5400);
    expect(parseTtl("1d")).toBe(86_400);
    expect(parseTtl("2W")).toBe(1_209_600);
    expect(parseTtl("1h30")).toBeUndefined();
    expect(parseTtl("h")).toBeUndefined();
    expect(parseTtl("99999999999")).toBeUndefined();
  });

  it("refuses $INCLUDE with the file and line", () => {
    const text = "$TTL 300\n@ IN SOA ns hm 1 1 1 1 1\n$INCLUDE /etc/bind/keys.zone\n";
    let error: unknown;
    try {
      parseZone(text, { source: "/etc/bind/example.com.zone", origin: "example.com" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect(error).toBeInstanceOf(ZoneSyntaxError);
    expect((error as Error).message).toMatch(/^\/etc\/bind\/example\.com\.zone:3: \$INCLUDE \/etc\/bind\/keys\.zone is not supported/);
  });

  it("names the line of a syntax error", () => {
    const bad = (text: string) => () => parseZone(text, { source: "z", origin: "example.com" });
    expect(bad("$TTL 300\n@ SOA ns hm 1 1 1 1 1\nsmtp A 192.0.2.300\n")).toThrow(/^z:3: A record needs one IPv4 address/);
    expect(bad("$TTL 300\n@ SOA ns hm ( 1 1\n 1 1 1\n")).toThrow(/^z:2: '\(' is never closed/);
    expect(bad('$TTL 300\n@ SOA ns hm 1 1 1 1 1\nx TXT "open\n')).toThrow(/^z:3: unterminated quoted string/);
    expect(bad("$TTL 300\n  A 192.0.2.1\n")).toThrow(/^z:2: a record with a blank owner name/);
    expect(() => parseZone("@ A 192.0.2.1\n")).toThrow(/no \$ORIGIN/);
    expect(bad("$TTL 300\n@ SOA ns hm 1 1 1 1 1\n@ SOA ns hm 2 1 1 1 1\n")).toThrow(/^z:3: a second SOA record \(the first is on line 2\)/);
  });

  it("refuses a configured origin that is not the SOA owner", () => {
    expect(() => parseZone("$TTL 300\nexample.net. SOA ns hm 1 1 1 1 1\n", { origin: "example.com" })).toThrow(
      /the SOA record belongs to example.net, but the configured origin is example.com/,
    );
  });

  it("does not treat a semicolon inside quotes as a comment, nor a parenthesis", () => {
    const z = parseZone('$TTL 300\n@ SOA ns hm 1 1 1 1 1\nt TXT "a;(b" ; real comment "x"\n', { origin: "example.com" });
    expect(rrsetOf(z, { name: "t.example.com", type: "TXT" })?.values).toEqual(["a;(b"]);
  });

  it("decodes \\DDD escapes and UTF-8 in TXT", () => {
    const text = Buffer.from('$TTL 300\n@ SOA ns hm 1 1 1 1 1\nt TXT "caf\\195\\169" "\u00e9t\u00e9"\n', "utf8").toString("latin1");
    const z = parseZone(text, { origin: "example.com" });
    expect(rrsetOf(z, { name: "t.example.com", type: "TXT" })?.values).toEqual(["café\u00e9t\u00e9"]);
  });
});
