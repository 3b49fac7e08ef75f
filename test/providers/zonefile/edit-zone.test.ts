import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConflictError, ProviderConfigError, ProviderError } from "../../../providers/types.js";
import type { RRset, RRsetChange, RRsetKey } from "../../../providers/types.js";
import { bumpSerial, editZone, isDateSerial, parseZone, rrsetOf } from "../../../providers/zonefile/index.js";
import type { ParsedZone } from "../../../providers/zonefile/index.js";
import { FIXTURE, lineDiff } from "./zone-test-kit.js";

const NOW = new Date("2026-11-24T10:00:00Z");
const fixture = readFileSync(FIXTURE, "latin1");
const SMTP_A: RRsetKey = { name: "smtp.example.com", type: "A" };

const live = (zone: ParsedZone, key: RRsetKey): RRset | null => rrsetOf(zone, key) ?? null;
const change = (zone: ParsedZone, key: RRsetKey, after: { ttl: number; values: string[] } | null): RRsetChange => ({
  key,
  before: live(zone, key),
  after,
  pool: "smtp.example.com",
});
const edit = (text: string, changes: (z: ParsedZone) => RRsetChange[], origin = "example.com") => {
  const zone = parseZone(text, { origin });
  return editZone(zone, changes(zone), { now: NOW });
};
const small = (...lines: string[]) => ["$TTL 300", "@ IN SOA ns hm 42 1 1 1 1", ...lines, ""].join("\n");

describe("editZone on the fixture", () => {
  it("replaces only the pool's lines and the serial; every other line stays byte-identical", () => {
    const out = edit(fixture, (z) => [change(z, SMTP_A, { ttl: 300, values: ["192.0.2.11", "192.0.2.12"] })]);
    expect(out.applied).toBe(1);
    expect(out.serial).toEqual({ from: 2026112401, to: 2026112402 });
    expect(lineDiff(fixture, out.text)).toEqual({
      removed: [
        "                        2026112401 ; serial (YYYYMMDDnn)",
        "smtp    300     IN      A       192.0.2.10",
        "        300     IN      A       192.0.2.11",
        "        300             A       192.0.2.12      ; third member, added 2026-10",
      ],
      added: [
        "                        2026112402 ; serial (YYYYMMDDnn)",
        "smtp.example.com.\t300\tIN\tA\t192.0.2.11",
        "smtp.example.com.\t300\tIN\tA\t192.0.2.12",
      ],
    });
    // The blank-owner AAAA line after the removed lines still belongs to smtp.
    const next = parseZone(out.text);
    expect(rrsetOf(next, { name: "smtp.example.com", type: "AAAA" })?.values).toEqual(["2001:db8::10", "2001:db8::11"]);
  });

  it("makes a following blank-owner line explicit when the line it inherited its owner from goes", () => {
    const out = edit(fixture, (z) => [change(z, SMTP_A, null)]);
    const { removed, added } = lineDiff(fixture, out.text);
    expect(removed).toContain("        300     IN      AAAA    2001:DB8::10");
    expect(added).toContain("smtp.example.com.        300     IN      AAAA    2001:DB8::10");
    expect(added).toHaveLength(2); // that line and the serial
    const next = parseZone(out.text);
    expect(rrsetOf(next, SMTP_A)).toBeUndefined();
    expect(rrsetOf(next, { name: "smtp.example.com", type: "AAAA" })?.values).toEqual(["2001:db8::10", "2001:db8::11"]);
  });

  it("writes a new RRset after the last record of the same owner", () => {
    const key: RRsetKey = { name: "imap.example.com", type: "AAAA" };
    const out = edit(fixture, (z) => [change(z, key, { ttl: 300, values: ["2001:db8::20"] })]);
    const lines = out.text.split("\n");
    const at = lines.indexOf("imap.example.com.\t300\tIN\tAAAA\t2001:db8::20");
    expect(lines[at - 1]).toBe("imap    IN      300     A       192.0.2.21");
    expect(lineDiff(fixture, out.text).added).toHaveLength(2);
  });

  it("writes an RRset at a new name at the end of the file", () => {
    const key: RRsetKey = { name: "_mailpool.pop.example.com", type: "TXT" };
    const out = edit(fixture, (z) => [change(z, key, { ttl: 300, values: ["mailpool owner=test"] })]);
    expect(out.text.endsWith('_submission._tcp SRV    0 1 587 smtp\n_mailpool.pop.example.com.\t300\tIN\tTXT\t"mailpool owner=test"\n')).toBe(true);
  });

  it("changes nothing, not even the serial, when the file already holds the change", () => {
    const out = edit(fixture, (z) => [change(z, SMTP_A, { ttl: 300, values: ["192.0.2.12", "192.0.2.10", "192.0.2.11"] })]);
    expect(out).toEqual({ text: fixture, applied: 0 });
  });

  it("rewrites an RRset whose records disagree on the TTL even when the values stay", () => {
    const key: RRsetKey = { name: "pop.example.com", type: "A" };
    const out = edit(fixture, (z) => [change(z, key, { ttl: 900, values: ["192.0.2.30", "192.0.2.31"] })]);
    expect(out.applied).toBe(1);
    const pop = rrsetOf(parseZone(out.text), key);
    expect(pop?.drift).toBeUndefined();
    expect(pop?.ttl).toBe(900);
  });

  it("refuses a change whose before no longer matches, naming the RRset", () => {
    const zone = parseZone(fixture);
    const stale: RRset = { name: "smtp.example.com", type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11"] };
    const ok = change(zone, { name: "imap.example.com", type: "A" }, null);
    const bad: RRsetChange = { key: SMTP_A, before: stale, after: { ttl: 300, values: ["192.0.2.11"] }, pool: "smtp.example.com" };
    expect(() => editZone(zone, [ok, bad], { now: NOW })).toThrow(ConflictError);
    expect(() => editZone(zone, [ok, bad], { now: NOW })).toThrow(/smtp\.example\.com A changed since it was read/);
    const ghost: RRsetChange = { key: { name: "new.example.com", type: "A" }, before: stale, after: null, pool: "p" };
    expect(() => editZone(zone, [ghost], { now: NOW })).toThrow(/has no such RRset/);
    const exists: RRsetChange = { key: SMTP_A, before: null, after: { ttl: 300, values: ["192.0.2.1"] }, pool: "p" };
    expect(() => editZone(zone, [exists], { now: NOW })).toThrow(/expected no such RRset/);
  });

  it("refuses names outside the zone, two changes to one RRset, wrong address families, CNAME neighbours", () => {
    const zone = parseZone(fixture);
    const run = (changes: RRsetChange[]) => () => editZone(zone, changes, { now: NOW });
    expect(run([{ key: { name: "smtp.example.net", type: "A" }, before: null, after: null, pool: "p" }])).toThrow(ProviderConfigError);
    expect(run([change(zone, SMTP_A, null), change(zone, SMTP_A, null)])).toThrow(/two changes for smtp.example.com A/);
    expect(run([change(zone, SMTP_A, { ttl: 300, values: ["2001:db8::1"] })])).toThrow(/is not an IPv4 address/);
    expect(run([change(zone, { name: "www.example.com", type: "A" }, { ttl: 300, values: ["192.0.2.1"] })])).toThrow(
      /www.example.com is a CNAME/,
    );
    expect(run([change(zone, { name: "www.example.com", type: "A" }, { ttl: 300, values: ["192.0.2.1"] })])).toThrow(ProviderError);
  });
});

describe("editZone inheritance", () => {
  it("keeps a following record's TTL when the record it inherited it from goes (no $TTL)", () => {
    const text = ["example.com. IN SOA ns hm 42 1 1 1 1", "a 600 A 192.0.2.1", "b A 192.0.2.2", ""].join("\n");
    const zone = parseZone(text);
    const out = editZone(zone, [change(zone, { name: "a.example.com", type: "A" }, null)], { now: NOW });
    expect(out.text).toBe(["example.com. IN SOA ns hm 43 1 1 1 1", "b 600 A 192.0.2.2", ""].join("\n"));
  });

  it("keeps a following record's TTL when a new record with another TTL is inserted before it (no $TTL)", () => {
    const text = ["example.com. 900 IN SOA ns hm 42 1 1 1 1", "a 600 A 192.0.2.1", "  AAAA 2001:db8::1", "b A 192.0.2.2", ""].join("\n");
    const zone = parseZone(text);
    const out = editZone(zone, [change(zone, { name: "a.example.com", type: "A" }, { ttl: 300, values: ["192.0.2.9"] })], { now: NOW });
    const next = parseZone(out.text);
    expect(next.records.map((r) => `${r.owner} ${r.type} ${r.ttl}`)).toEqual([
      "example.com SOA 900",
      "a.example.com A 300",
      "a.example.com AAAA 600",
      "b.example.com A 600",
    ]);
    expect(out.text).toContain("\n  600 AAAA 2001:db8::1\n");
  });

  it("writes owner and TTL when a blank-owner line loses both", () => {
    const text = ["example.com. 900 IN SOA ns hm 42 1 1 1 1", "a 600 A 192.0.2.1", "  TXT hello", ""].join("\n");
    const zone = parseZone(text);
    const out = editZone(zone, [change(zone, { name: "a.example.com", type: "A" }, null)], { now: NOW });
    expect(out.text).toBe(["example.com. 900 IN SOA ns hm 43 1 1 1 1", "a.example.com. 600  TXT hello", ""].join("\n"));
  });

  it("keeps CRLF line endings and a missing final newline", () => {
    const text = ["$TTL 300", "@ IN SOA ns hm 42 1 1 1 1", "smtp A 192.0.2.1"].join("\r\n");
    const zone = parseZone(text, { origin: "example.com" });
    const out = editZone(zone, [change(zone, { name: "imap.example.com", type: "A" }, { ttl: 300, values: ["192.0.2.5"] })], {
      now: NOW,
    });
    expect(out.text).toBe(["$TTL 300", "@ IN SOA ns hm 43 1 1 1 1", "smtp A 192.0.2.1", "imap.example.com.\t300\tIN\tA\t192.0.2.5", ""].join("\r\n"));
  });

  it("keeps bytes that are not UTF-8 in untouched lines", () => {
    const latin1 = Buffer.from(small("; caf\xe9 \xff", "smtp A 192.0.2.1"), "latin1").toString("latin1");
    const zone = parseZone(latin1, { origin: "example.com" });
    const out = editZone(zone, [change(zone, SMTP_A, null)], { now: NOW });
    expect(Buffer.from(out.text, "latin1").includes(Buffer.from([0x3b, 0x20, 0x63, 0x61, 0x66, 0xe9, 0x20, 0xff]))).toBe(true);
  });
});

describe("TXT writing", () => {
  it("quotes and escapes, and splits values longer than 255 bytes into character-strings", () => {
    const key: RRsetKey = { name: "sel2._domainkey.example.com", type: "TXT" };
    const long = `v=DKIM1; k=rsa; p=${"A".repeat(400)}`;
    const odd = 'say "hi" \\ ; café';
    const out = edit(small(), (z) => [change(z, key, { ttl: 600, values: [long, odd] })]);
    const lines = out.text.split("\n").filter((l) => l.startsWith("sel2."));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`sel2._domainkey.example.com.\t600\tIN\tTXT\t"v=DKIM1; k=rsa; p=${"A".repeat(237)}" "${"A".repeat(163)}"`);
    expect(lines[1]).toBe('sel2._domainkey.example.com.\t600\tIN\tTXT\t"say \\"hi\\" \\\\ ; caf\\195\\169"');
    expect(rrsetOf(parseZone(out.text, { origin: "example.com" }), key)?.values).toEqual([long, odd]);
  });
});

describe("SOA serial", () => {
  it("moves a date serial to today, or counts up when it is already today or later", () => {
    expect(isDateSerial(2026112401)).toBe(true);
    expect(isDateSerial(42)).toBe(false);
    expect(bumpSerial(2026112401, NOW)).toBe(2026112402);
    expect(bumpSerial(2026010107, NOW)).toBe(2026112400);
    expect(bumpSerial(2027010199, NOW)).toBe(2027010200);
  });

  it("counts a plain serial up and wraps at 2^32 (RFC 1982)", () => {
    expect(bumpSerial(42, NOW)).toBe(43);
    expect(bumpSerial(4_294_967_295, NOW)).toBe(0);
    expect(() => bumpSerial(4_294_967_296, NOW)).toThrow(RangeError);
  });

  it("edits the serial token in place, plain and wrapping", () => {
    const plain = edit(small("smtp A 192.0.2.1"), (z) => [change(z, SMTP_A, null)]);
    expect(plain.serial).toEqual({ from: 42, to: 43 });
    expect(plain.text).toBe(small().replace(" 42 ", " 43 "));
    const wrap = small("smtp A 192.0.2.1").replace(" 42 ", " 4294967295 ");
    const wrapped = edit(wrap, (z) => [change(z, SMTP_A, null)]);
    expect(wrapped.serial).toEqual({ from: 4_294_967_295, to: 0 });
    expect(wrapped.text).toContain("@ IN SOA ns hm 0 1 1 1 1\n");
  });

  it("refuses to edit a zone without an SOA", () => {
    expect(() => edit("$ORIGIN example.com.\n$TTL 300\nsmtp A 192.0.2.1\n", (z) => [change(z, SMTP_A, null)])).toThrow(/no SOA record/);
  });
});
