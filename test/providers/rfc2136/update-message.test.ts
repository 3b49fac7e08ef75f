import { describe, expect, it } from "vitest";
import { buildUpdate, changeRecords } from "../../../providers/rfc2136/update-message.js";
import { CLASS, TYPE, fromHex, toHex } from "../../../providers/rfc2136/wire.js";

const ascii = (s: string) => Buffer.from(s, "ascii").toString("hex");
// Names, uncompressed (length octet, label; root label 00).
const EXAMPLE_COM = "07" + ascii("example") + "03" + ascii("com") + "00";

describe("UPDATE messages (RFC 2136 §2), byte for byte", () => {
  it("a changed RRset: value-dependent prerequisite of every record as read, delete the RRset, add the new values; an absent marker: 'RRset does not exist', then add", () => {
    const wire = buildUpdate(0x1234, "example.com", [
      { name: "smtp.example.com", type: "A", before: [fromHex("c0000201"), fromHex("c0000202")], after: { ttl: 300, rdata: [fromHex("c0000201")] } },
      { name: "_mailpool.smtp.example.com", type: "TXT", before: null, after: { ttl: 300, rdata: [fromHex("11" + ascii("mailpool owner=it"))] } },
    ]);
    const expected = [
      // ID 0x1234; QR 0, opcode 5 (UPDATE) → 0x28, 0x00; ZOCOUNT 1, PRCOUNT 3, UPCOUNT 3, ADCOUNT 0
      "1234 2800 0001 0003 0003 0000",
      // offset 12, zone section: example.com SOA IN
      EXAMPLE_COM + "0006 0001",
      // offset 29, prerequisites: smtp + pointer to example.com (0x0c); A IN TTL 0, RDLENGTH 4,
      // 192.0.2.1 (§2.4.2); then the same owner as a pointer to offset 29 (0x1d), 192.0.2.2
      "04" + ascii("smtp") + "c00c" + "0001 0001 00000000 0004 c0000201",
      "c01d" + "0001 0001 00000000 0004 c0000202",
      // offset 66: _mailpool + pointer to smtp.example.com; TXT class NONE (254) TTL 0 RDLENGTH 0:
      // RRset does not exist (§2.4.3)
      "09" + ascii("_mailpool") + "c01d" + "0010 00fe 00000000 0000",
      // updates: smtp A class ANY (255) TTL 0 RDLENGTH 0: delete the RRset (§2.5.2)
      "c01d" + "0001 00ff 00000000 0000",
      // smtp A IN TTL 300 (0x12c) 192.0.2.1 (§2.5.1)
      "c01d" + "0001 0001 0000012c 0004 c0000201",
      // _mailpool.smtp (pointer to offset 66 = 0x42) TXT IN TTL 300, RDLENGTH 18: one
      // character-string of 17 octets
      "c042" + "0010 0001 0000012c 0012 11" + ascii("mailpool owner=it"),
    ]
      .join("")
      .replace(/\s+/g, "");
    expect(toHex(wire)).toBe(expected);
  });

  it("a deleted RRset: its records as prerequisite, then the class ANY delete, nothing added", () => {
    const { prerequisites, updates } = changeRecords({ name: "smtp.example.com", type: "AAAA", before: [fromHex("20010db8000000000000000000000001")], after: null });
    expect(prerequisites).toEqual([{ name: "smtp.example.com", type: TYPE.AAAA, class: CLASS.IN, ttl: 0, rdata: fromHex("20010db8000000000000000000000001") }]);
    expect(updates).toEqual([{ name: "smtp.example.com", type: TYPE.AAAA, class: CLASS.ANY, ttl: 0, rdata: new Uint8Array(0) }]);
  });

  it("a TTL correction: the same values re-added with the new TTL after the delete", () => {
    const { prerequisites, updates } = changeRecords({
      name: "smtp.example.com",
      type: "A",
      before: [fromHex("c0000201")],
      after: { ttl: 600, rdata: [fromHex("c0000201")] },
    });
    expect(prerequisites.map((r) => [r.class, r.ttl])).toEqual([[CLASS.IN, 0]]);
    expect(updates.map((r) => [r.class, r.ttl, toHex(r.rdata)])).toEqual([
      [CLASS.ANY, 0, ""],
      [CLASS.IN, 600, "c0000201"],
    ]);
  });

  it("refuses an empty update", () => {
    expect(() => buildUpdate(1, "example.com", [])).toThrow(/at least one change/);
  });
});
