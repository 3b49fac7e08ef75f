import { describe, expect, it } from "vitest";
import {
  fromRecordValue,
  fromRoute53Name,
  fromTxtValue,
  setIdentifierFor,
  toRoute53Name,
  toTxtValue,
} from "../../../providers/route53/wire-format.js";

describe("Route 53 names", () => {
  it("decodes octal escapes, lower-cases and drops the trailing dot", () => {
    expect(fromRoute53Name("\\052.Example.COM.")).toBe("*.example.com");
    expect(fromRoute53Name("smtp.example.com")).toBe("smtp.example.com");
    expect(fromRoute53Name("ex\\344mple.com.")).toBe("ex\u00e4mple.com");
  });

  it("keeps an escaped dot inside a label escaped, so labels stay apart", () => {
    expect(fromRoute53Name("a\\056b.example.com.")).toBe("a\\056b.example.com");
  });

  it("adds the trailing dot and escapes only what Route 53 requires", () => {
    expect(toRoute53Name("smtp.example.com")).toBe("smtp.example.com.");
    expect(toRoute53Name("*.example.com")).toBe("*.example.com.");
    expect(toRoute53Name("a b.example.com")).toBe("a\\040b.example.com.");
    expect(toRoute53Name("SMTP.Example.com.")).toBe("smtp.example.com.");
  });

  it("round-trips a wildcard through Route 53's escaped answer form", () => {
    expect(fromRoute53Name(toRoute53Name("*.mx.example.com"))).toBe("*.mx.example.com");
  });
});

describe("SetIdentifier of a multivalue record set", () => {
  it("is a stable function of the address", () => {
    expect(setIdentifierFor("192.0.2.10")).toBe("mailpool-192.0.2.10");
    expect(setIdentifierFor("192.0.2.10")).toBe(setIdentifierFor("192.0.2.10"));
  });

  it("replaces the colons of IPv6 addresses and stays distinct", () => {
    const a = setIdentifierFor("2001:db8::1");
    const b = setIdentifierFor("2001:db8:0:1::");
    expect(a).toBe("mailpool-2001-db8--1");
    expect(a).toMatch(/^[a-z0-9.-]{1,128}$/);
    expect(a).not.toBe(b);
  });
});

describe("TXT values", () => {
  it("quotes the marker as Route 53 requires", () => {
    expect(toTxtValue("mailpool owner=ctl-1")).toBe('"mailpool owner=ctl-1"');
  });

  it("escapes quotes and backslashes and splits at 255 octets", () => {
    expect(toTxtValue('say "hi" \\')).toBe('"say \\"hi\\" \\\\"');
    const long = "x".repeat(300);
    const wire = toTxtValue(long);
    expect(wire).toBe(`"${"x".repeat(255)}" "${"x".repeat(45)}"`);
    expect(fromTxtValue(wire)).toBe(long);
  });

  it("joins character-strings and decodes escapes on read", () => {
    expect(fromTxtValue('"mailpool " "owner=a"')).toBe("mailpool owner=a");
    expect(fromTxtValue('"a\\"b" "\\101"')).toBe('a"bA');
    expect(fromTxtValue("unquoted")).toBe("unquoted");
  });

  it("reads addresses in canonical form and leaves other values alone", () => {
    expect(fromRecordValue("AAAA", "2001:DB8:0:0::1")).toBe("2001:db8::1");
    expect(fromRecordValue("A", "192.0.2.1")).toBe("192.0.2.1");
    expect(fromRecordValue("A", "not-an-ip")).toBe("not-an-ip");
    expect(fromRecordValue("TXT", '"mailpool owner=x"')).toBe("mailpool owner=x");
  });
});
