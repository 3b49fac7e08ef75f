/**
 * Looking up a name's records goes through owner-hash buckets built once per parse: it must find
 * exactly what a scan of the whole zone finds, in file order, for every name — names sharing a
 * bucket, names spread over the file, names without records.
 */
import { describe, expect, it } from "vitest";
import { parseZone, recordAt, type ParsedZone } from "../../../providers/zonefile/parse-zone.js";
import { recordsAt } from "../../../providers/zonefile/read-rrsets.js";

/** The reference: one pass over every record of the index, in order, grouped by owner. */
function scan(zone: ParsedZone): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < zone.index.count; i++) {
    let r;
    try {
      r = recordAt(zone, i);
    } catch {
      continue; // not a record ($ORIGIN, $TTL)
    }
    out.set(r.owner, [...(out.get(r.owner) ?? []), `${r.entry.index}:${r.type}`]);
  }
  return out;
}

describe("recordsAt", () => {
  it("finds every name's records in file order, as a scan of the whole zone does", () => {
    const lines = ["$ORIGIN example.com.", "$TTL 300", "@ IN SOA ns1 hostmaster ( 1 3600 900 604800 300 )", "@ IN NS ns1"];
    // 600 names, each record of a name far from the others (three passes over the names), so
    // chains cross the file and many names share a bucket of the small table.
    for (let pass = 0; pass < 3; pass++) {
      for (let n = 0; n < 600; n++) lines.push(`h${n} IN ${pass === 1 ? "AAAA 2001:db8::1" : `A 192.0.2.${pass + 1}`}`);
    }
    lines.push("$ORIGIN other.example.com.", "h1 IN A 192.0.2.9", "@ IN TXT \"x\"");
    const zone = parseZone(`${lines.join("\n")}\n`, { origin: "example.com" });
    const names = [...Array.from({ length: 600 }, (_, n) => `h${n}.example.com`), "h1.other.example.com", "other.example.com", "example.com", "absent.example.com"];
    const expected = scan(zone);
    for (const name of names) {
      const found = recordsAt(zone, name).map((r) => `${r.entry.index}:${r.type}`);
      expect(found, name).toEqual(expected.get(name) ?? []);
    }
    expect(recordsAt(zone, "h7.example.com").map((r) => r.type)).toEqual(["A", "AAAA", "A"]);
    expect(recordsAt(zone, "absent.example.com")).toEqual([]);
    expect(recordsAt(zone, "example.com").map((r) => r.type)).toEqual(["SOA", "NS"]);
  });
});
