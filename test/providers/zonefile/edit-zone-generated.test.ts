/**
 * Generated zones and change batches (fast-check, fixed seed): blank owners, inherited and
 * explicit TTLs and classes, with and without $TTL, comments, multi-line records, and batches that
 * replace, add and delete RRsets anywhere among them. The edit touches only the records it must
 * (the compact parse materializes only those, so inheritance across a removed or added record is
 * where it could go wrong): afterwards every changed RRset holds exactly what was asked, and every
 * other record reads as before, owner, TTL, class and rdata.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RRsetChange, RRsetKey } from "../../../providers/types.js";
import { editZone, parseZone, rrsetOf } from "../../../providers/zonefile/index.js";
import type { ParsedZone } from "../../../providers/zonefile/index.js";

const NOW = new Date("2026-11-24T10:00:00Z");
const ORIGIN = "example.com";
const NAMES = ["a", "b", "c", "d", "example.com"] as const;
const TYPES = ["A", "AAAA", "TXT"] as const;
const V4 = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];
const V6 = ["2001:db8::1", "2001:db8::2", "2001:DB8:0::3"];
const TXT = ['"x"', '"mailpool owner=t"', '"a;b" "c"'];

const owner = fc.constantFrom("", "", "a", "b", "c", "b.example.com.", "@");
const ttl = fc.constantFrom("", "", "120", "1h", "300");
const cls = fc.constantFrom("", "IN");
const rdataOf = (type: string) =>
  type === "A" ? fc.constantFrom(...V4) : type === "AAAA" ? fc.constantFrom(...V6) : type === "MX" ? fc.constantFrom("10 mx", "20 mx.example.net.") : fc.constantFrom(...TXT);
const record = fc
  .record({ owner, ttl, cls, type: fc.constantFrom("A", "AAAA", "TXT", "MX"), comment: fc.boolean(), split: fc.boolean() })
  .chain((r) => rdataOf(r.type).map((rdata) => ({ ...r, rdata })))
  .map(({ owner: o, ttl: t, cls: c, type, rdata, comment, split }) => {
    const fields = [t, c, type].filter(Boolean).join(" ");
    const body = split && type === "TXT" ? `${fields} ( ${rdata}\n\t\t"more" )` : `${fields} ${rdata}`;
    return `${o === "" ? "\t" : `${o} `}${body}${comment ? " ; note" : ""}`;
  });
const line = fc.oneof({ weight: 8, arbitrary: record }, { weight: 1, arbitrary: fc.constantFrom("; a comment", "", "$TTL 900") });
const zoneText = fc
  .record({ withTtl: fc.boolean(), lines: fc.array(line, { minLength: 1, maxLength: 14 }), crlf: fc.boolean() })
  .map(({ withTtl, lines, crlf }) => {
    const head = withTtl ? ["$TTL 300", "@ IN SOA ns hm 42 1 1 1 1"] : ["@ 600 IN SOA ns hm ( 42 1 1", "\t1 1 )"];
    return [...head, ...lines, ""].join(crlf ? "\r\n" : "\n");
  });

const keyArb = fc.record({ name: fc.constantFrom(...NAMES), type: fc.constantFrom(...TYPES) });
const afterArb = (type: string) =>
  fc.option(
    fc.record({
      ttl: fc.constantFrom(60, 300, 3600),
      values: fc.uniqueArray(fc.constantFrom(...(type === "A" ? V4 : type === "AAAA" ? V6.slice(0, 2) : ["x", "mailpool owner=t", "new text"])), { minLength: 1, maxLength: 3 }),
    }),
    { nil: null },
  );
const batch = fc
  .uniqueArray(keyArb, { minLength: 1, maxLength: 4, selector: (k) => `${k.name} ${k.type}` })
  .chain((keys) => fc.tuple(...keys.map((k) => afterArb(k.type).map((after) => ({ key: k, after })))));

const abs = (name: string) => (name === ORIGIN ? ORIGIN : `${name}.${ORIGIN}`);
const sig = (zone: ParsedZone, managed: Set<string>) =>
  zone.records
    .filter((r) => !(r.class === "IN" && managed.has(`${r.owner} ${r.type}`)))
    .map((r) => `${r.owner} ${r.ttl} ${r.class} ${r.type} ${r.type === "SOA" ? "" : r.rdata.map((t) => t.text).join(" ")}`);

describe("editZone on generated zones and batches", () => {
  it("leaves every changed RRset as asked and every other record as it was", () => {
    fc.assert(
      fc.property(zoneText, batch, (text, wanted) => {
        const zone = parseZone(text, { origin: ORIGIN });
        const changes: RRsetChange[] = wanted.map(({ key, after }) => {
          const k: RRsetKey = { name: abs(key.name), type: key.type };
          return { key: k, before: rrsetOf(zone, k) ?? null, after, pool: "p" };
        });
        const out = editZone(zone, changes, { now: NOW });
        const next = parseZone(out.text, { origin: ORIGIN });
        const managed = new Set(changes.map((c) => `${c.key.name} ${c.key.type}`));
        expect(sig(next, managed)).toEqual(sig(zone, managed));
        for (const c of changes) {
          const live = rrsetOf(next, c.key);
          if (c.after === null) {
            expect(live, c.key.name).toBeUndefined();
          } else {
            const canon = c.key.type === "AAAA" ? c.after.values.map((v) => v.toLowerCase()) : c.after.values;
            expect([...(live?.values ?? [])].sort()).toEqual([...new Set(canon)].sort());
            expect(live?.drift, c.key.name).toBeUndefined();
            expect(live?.ttl).toBe(c.after.ttl);
          }
        }
        if (out.applied > 0) expect(next.soa?.serial).toBe(43);
        else expect(out.text).toBe(text);
      }),
      { numRuns: 600, seed: 1102 },
    );
  });
});
