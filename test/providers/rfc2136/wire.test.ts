import { describe, expect, it } from "vitest";
import {
  WireFormatError,
  decodeMessage,
  encodeName,
  encodeQuery,
  fromHex,
  ipv6ToBytes,
  rdataToValue,
  readName,
  toHex,
  txtToBytes,
} from "../../../providers/rfc2136/wire.js";

describe("DNS names on the wire", () => {
  it("encode uncompressed, lower level first, ending in the root label", () => {
    expect(toHex(encodeName("smtp.example.com"))).toBe("04736d7470" + "076578616d706c65" + "03636f6d" + "00");
    expect(toHex(encodeName(""))).toBe("00");
    expect(toHex(encodeName("example.com."))).toBe("076578616d706c6503636f6d00");
  });

  it("refuse labels over 63 octets and names over 255", () => {
    expect(() => encodeName(`${"a".repeat(64)}.com`)).toThrow(/longer than 63/);
    expect(() => encodeName(Array(60).fill("abcd").join("."))).toThrow(/longer than 255/);
    expect(() => encodeName("a..com")).toThrow(/empty label/);
  });

  it("decode compression pointers that point backwards, lower-casing", () => {
    // "Example.COM" at 0, then "smtp" + pointer to 0 at 13.
    const buf = fromHex("074578616d706c6503434f4d00" + "04736d7470c000");
    expect(readName(buf, 0)).toEqual({ name: "example.com", end: 13 });
    expect(readName(buf, 13)).toEqual({ name: "smtp.example.com", end: 20 });
  });

  it("refuse a pointer loop, a forward pointer and a pointer to itself", () => {
    // offset 0: label "a", then a pointer back to 0 — a loop through the same octets.
    expect(() => readName(fromHex("0161c000"), 0)).toThrow(WireFormatError);
    expect(() => readName(fromHex("c002" + "0161" + "00"), 0)).toThrow(/does not point backwards/);
    expect(() => readName(fromHex("c000"), 0)).toThrow(/does not point backwards/);
  });

  it("refuse a name whose labels add up to more than 255 octets through pointers", () => {
    // 5 labels of 63 octets chained by backward pointers.
    let hex = "";
    const label = "3f" + "61".repeat(63);
    hex += label + "00";
    let prev = 0;
    for (let i = 0; i < 4; i++) {
      const at = hex.length / 2;
      hex += label + "c0" + prev.toString(16).padStart(2, "0");
      prev = at;
    }
    const buf = fromHex(hex);
    expect(() => readName(buf, prev)).toThrow(/longer than 255/);
  });

  it("refuse names and records that run past the end of the message", () => {
    expect(() => readName(fromHex("0561"), 0)).toThrow(/runs past the end/);
    const query = encodeQuery(1, "smtp.example.com", 1);
    expect(() => decodeMessage(query.subarray(0, query.length - 2))).toThrow(WireFormatError);
  });
});

describe("RDATA of the types mailpool writes", () => {
  it("AAAA: canonical text both ways, embedded IPv4 included", () => {
    expect(toHex(ipv6ToBytes("2001:db8::1"))).toBe("20010db8000000000000000000000001");
    expect(toHex(ipv6ToBytes("::ffff:192.0.2.1"))).toBe("00000000000000000000ffffc0000201");
    expect(toHex(ipv6ToBytes("2001:DB8:0:0:1::"))).toBe("20010db8000000000001000000000000");
    expect(rdataToValue("AAAA", fromHex("20010db8000000000000000000000001"))).toBe("2001:db8::1");
  });

  it("TXT: one value is cut into character-strings of at most 255 octets and joined back", () => {
    expect(toHex(txtToBytes("mailpool owner=it"))).toBe("11" + Buffer.from("mailpool owner=it").toString("hex"));
    const long = "x".repeat(300);
    const wire = txtToBytes(long);
    expect(wire[0]).toBe(255);
    expect(wire[256]).toBe(45);
    expect(rdataToValue("TXT", wire)).toBe(long);
    expect(() => rdataToValue("TXT", fromHex("0561"))).toThrow(/runs past its RDATA/);
  });

  it("A: four octets only", () => {
    expect(rdataToValue("A", fromHex("c0000201"))).toBe("192.0.2.1");
    expect(() => rdataToValue("A", fromHex("c00002"))).toThrow(/3 octets/);
  });
});
