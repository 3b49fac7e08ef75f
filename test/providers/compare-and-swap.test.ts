/**
 * The compare-and-swap rule shared by the memory and zone-file providers: a batch is checked
 * whole (names, one change per RRset, canonical values, every `before`) before anything may be
 * written, with the messages both providers have always given.
 */
import { describe, expect, it } from "vitest";
import { canonicalContent, checkBatch, describeRRset, sameRRset } from "../../providers/compare-and-swap.js";
import { ConflictError, ProviderConfigError, ProviderError, keyOf, type RRset, type RRsetChange } from "../../providers/types.js";

const A = { name: "smtp.example.com", type: "A" } as const;
const AAAA = { name: "smtp.example.com", type: "AAAA" } as const;
const rr = (key: { name: string; type: "A" | "AAAA" | "TXT" }, ttl: number, values: string[]): RRset => ({ ...key, ttl, values });
const change = (key: RRsetChange["key"], before: RRset | null, after: RRsetChange["after"]): RRsetChange => ({ key, before, after, pool: "smtp.example.com" });

function store(...sets: RRset[]) {
  const m = new Map(sets.map((s) => [keyOf(s), s]));
  return { live: (key: { name: string; type: "A" | "AAAA" | "TXT" }) => m.get(keyOf(key)) };
}

const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("did not throw");
};

describe("checkBatch", () => {
  it("returns the batch with normalized names and canonical values, each once; no values is a delete", () => {
    const live = rr(A, 300, ["192.0.2.10"]);
    const got = checkBatch(
      [
        change({ name: "SMTP.Example.COM.", type: "A" }, live, { ttl: 300, values: ["192.0.2.10", "192.0.2.11", "192.0.2.10"] }),
        change(AAAA, null, { ttl: 300, values: ["2001:DB8:0:0::10"] }),
        change({ name: "_mailpool.smtp.example.com", type: "TXT" }, null, { ttl: 300, values: [] }),
      ],
      store(live),
    );
    expect(got).toEqual([
      { key: A, before: live, after: { ttl: 300, values: ["192.0.2.10", "192.0.2.11"] } },
      { key: AAAA, before: null, after: { ttl: 300, values: ["2001:db8::10"] } },
      { key: { name: "_mailpool.smtp.example.com", type: "TXT" }, before: null, after: null },
    ]);
  });

  it("refuses a live RRset that is not the one read, naming the first, with the provider's words for what is live", () => {
    const read = rr(A, 300, ["192.0.2.10", "192.0.2.11"]);
    const now = rr(A, 300, ["192.0.2.10"]);
    const e = thrown(() => checkBatch([change(A, read, null)], store(now)));
    expect(e).toBeInstanceOf(ConflictError);
    expect(e.message).toBe('smtp.example.com A changed since it was read: expected TTL 300 ["192.0.2.10", "192.0.2.11"], found TTL 300 ["192.0.2.10"]');
    expect((e as ConflictError).key).toEqual(A);
    const file = thrown(() => checkBatch([change(A, null, { ttl: 300, values: ["192.0.2.12"] })], { ...store(now), found: (live) => `example.zone has ${live}; nothing was written` }));
    expect(file.message).toBe('smtp.example.com A changed since it was read: expected no such RRset, example.zone has TTL 300 ["192.0.2.10"]; nothing was written');
    const gone = thrown(() => checkBatch([change(A, read, null)], store()));
    expect(gone.message).toMatch(/found no such RRset$/);
  });

  it("the provider's own notion of the same version decides, when it gives one", () => {
    const read = rr(A, 300, ["192.0.2.10"]);
    expect(() => checkBatch([change(A, read, null)], { ...store(read), same: () => false })).toThrow(ConflictError);
    expect(checkBatch([change(A, read, null)], { ...store(rr(A, 600, ["192.0.2.99"])), same: () => true })).toHaveLength(1);
  });

  it("a malformed batch is refused before any before is compared: duplicates, wrong family, bad TTL, refused names", () => {
    const stale = change(A, rr(A, 300, ["192.0.2.1"]), null);
    const dup = thrown(() => checkBatch([stale, change({ name: "smtp.example.com.", type: "A" }, null, null)], store()));
    expect(dup).toBeInstanceOf(ProviderError);
    expect(dup.message).toBe("two changes for smtp.example.com A in one batch");
    expect(thrown(() => checkBatch([stale, change(AAAA, null, { ttl: 300, values: ["192.0.2.1"] })], store())).message).toBe(
      'smtp.example.com AAAA: "192.0.2.1" is not an IPv6 address',
    );
    expect(thrown(() => checkBatch([stale, change(AAAA, null, { ttl: 1.5, values: ["2001:db8::1"] })], store())).message).toBe(
      "smtp.example.com AAAA: TTL 1.5 is not a whole number of seconds",
    );
    const outside = thrown(() =>
      checkBatch([stale, change({ name: "smtp.example.net", type: "A" }, null, null)], {
        ...store(),
        checkKey: (key) => {
          if (!key.name.endsWith(".example.com")) throw new ProviderConfigError(`${key.name} is not in the zone example.com`);
        },
      }),
    );
    expect(outside).toBeInstanceOf(ProviderConfigError);
  });
});

describe("the pieces", () => {
  it("sameRRset compares TTL and the set of values, not their order or repeats", () => {
    const a = rr(A, 300, ["192.0.2.10", "192.0.2.11"]);
    expect(sameRRset(rr(A, 300, ["192.0.2.11", "192.0.2.10", "192.0.2.11"]), a)).toBe(true);
    expect(sameRRset(rr(A, 600, ["192.0.2.10", "192.0.2.11"]), a)).toBe(false);
    expect(sameRRset(rr(A, 300, ["192.0.2.10"]), a)).toBe(false);
    expect(sameRRset(undefined, null)).toBe(true);
    expect(sameRRset(undefined, a)).toBe(false);
    expect(sameRRset(a, null)).toBe(false);
  });

  it("canonicalContent and describeRRset", () => {
    expect(canonicalContent(A, null)).toBeNull();
    expect(canonicalContent(A, { ttl: 300, values: [] })).toBeNull();
    expect(() => canonicalContent(A, { ttl: 2 ** 31, values: ["192.0.2.1"] })).toThrow(/not a whole number/);
    expect(describeRRset(null)).toBe("no such RRset");
    expect(describeRRset({ ttl: 300, values: ["v=1 \"q\""] })).toBe('TTL 300 ["v=1 \\"q\\""]');
  });
});
