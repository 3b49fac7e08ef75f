import { describe, expect, it } from "vitest";
import { create, memoryConfigSchema, MemoryProvider } from "../../../providers/memory/index.js";
import { ConflictError, ProviderConfigError, ProviderError, isTransient } from "../../../providers/types.js";
import type { RRsetChange, RRsetKey } from "../../../providers/types.js";
import { pool } from "../../helpers/pools.js";

const SMTP_A: RRsetKey = { name: "smtp.example.com", type: "A" };
const SMTP_AAAA: RRsetKey = { name: "smtp.example.com", type: "AAAA" };
const MARKER: RRsetKey = { name: "_mailpool.smtp.example.com", type: "TXT" };
const signal = () => new AbortController().signal;
const ctx = {
  name: "mem",
  controllerId: "test",
  pools: [],
  env: {},
  logger: { debug() {}, info() {}, warn() {}, error() {} },
};

function seeded(): MemoryProvider {
  return new MemoryProvider([
    { name: "smtp.example.com", type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11"] },
    { name: "SMTP.example.com.", type: "AAAA", ttl: 300, values: ["2001:DB8::10"] },
    { name: "_mailpool.smtp.example.com", type: "TXT", ttl: 300, values: ["mailpool owner=test"] },
  ]);
}

async function change(p: MemoryProvider, key: RRsetKey, after: { ttl: number; values: string[] } | null): Promise<RRsetChange> {
  const [before] = await p.read([key], signal());
  return { key, before: before ?? null, after, pool: "smtp.example.com" };
}

describe("memory provider", () => {
  it("reads what exists, with normalized names and canonical addresses", async () => {
    const p = seeded();
    const got = await p.read([SMTP_AAAA, { name: "imap.example.com", type: "A" }], signal());
    expect(got).toEqual([{ name: "smtp.example.com", type: "AAAA", ttl: 300, values: ["2001:db8::10"] }]);
    expect(p.readCalls).toBe(1);
  });

  it("applies a batch and counts apply calls", async () => {
    const p = seeded();
    const result = await p.apply(
      [
        await change(p, SMTP_A, { ttl: 300, values: ["192.0.2.11"] }),
        await change(p, { name: "imap.example.com", type: "A" }, { ttl: 600, values: ["192.0.2.20"] }),
        await change(p, SMTP_AAAA, null),
      ],
      signal(),
    );
    expect(result).toEqual({ applied: 3, notes: ["memory: 3 RRset changes"] });
    expect(p.applyCalls).toBe(1);
    expect(p.history).toHaveLength(1);
    expect(p.snapshot().map((r) => [r.name, r.type, r.ttl, r.values])).toEqual([
      ["_mailpool.smtp.example.com", "TXT", 300, ["mailpool owner=test"]],
      ["imap.example.com", "A", 600, ["192.0.2.20"]],
      ["smtp.example.com", "A", 300, ["192.0.2.11"]],
    ]);
  });

  it("refuses a change whose before no longer matches, and writes none of the batch", async () => {
    const p = seeded();
    const c1 = await change(p, MARKER, null);
    const c2 = await change(p, SMTP_A, { ttl: 300, values: ["192.0.2.11"] });
    p.set({ name: "smtp.example.com", type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11", "192.0.2.12"] });
    const before = p.snapshot();
    const error = await p.apply([c1, c2], signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).key).toEqual(SMTP_A);
    expect((error as Error).message).toMatch(/^smtp\.example\.com A changed since it was read/);
    expect(p.snapshot()).toEqual(before);
    expect(p.history).toHaveLength(0);
  });

  it("compares TTL and the set of values, not their order", async () => {
    const p = seeded();
    const reordered: RRsetChange = {
      key: SMTP_A,
      before: { ...SMTP_A, ttl: 300, values: ["192.0.2.11", "192.0.2.10"] },
      after: null,
      pool: "p",
    };
    await expect(p.apply([reordered], signal())).resolves.toMatchObject({ applied: 1 });
    const q = seeded();
    const otherTtl: RRsetChange = { ...reordered, before: { ...SMTP_A, ttl: 600, values: ["192.0.2.10", "192.0.2.11"] } };
    await expect(q.apply([otherTtl], signal())).rejects.toThrow(ConflictError);
    const absent: RRsetChange = { key: { name: "imap.example.com", type: "A" }, before: otherTtl.before, after: null, pool: "p" };
    await expect(q.apply([absent], signal())).rejects.toThrow(ConflictError);
    const exists: RRsetChange = { key: SMTP_A, before: null, after: { ttl: 300, values: ["192.0.2.1"] }, pool: "p" };
    await expect(q.apply([exists], signal())).rejects.toThrow(ConflictError);
  });

  it("throws injected failures on the next applies, in order, writing nothing", async () => {
    const p = seeded();
    const c = await change(p, SMTP_A, { ttl: 300, values: ["192.0.2.11"] });
    p.failNextApply("transient");
    p.failNextApply("conflict");
    p.failNextApply(new ProviderError("zone locked", { transient: false }));
    const e1 = await p.apply([c], signal()).catch((e: unknown) => e);
    expect(isTransient(e1)).toBe(true);
    await expect(p.apply([c], signal())).rejects.toThrow(ConflictError);
    await expect(p.apply([c], signal())).rejects.toThrow("zone locked");
    expect(p.get(SMTP_A)?.values).toEqual(["192.0.2.10", "192.0.2.11"]);
    await p.apply([c], signal());
    expect(p.get(SMTP_A)?.values).toEqual(["192.0.2.11"]);
    expect(p.applyCalls).toBe(4);
    expect(p.history).toHaveLength(1);
  });

  it("refuses two changes to one RRset and addresses of the wrong family", async () => {
    const p = seeded();
    const c = await change(p, SMTP_A, null);
    await expect(p.apply([c, c], signal())).rejects.toThrow(/two changes for smtp.example.com A/);
    await expect(p.apply([{ ...c, after: { ttl: 300, values: ["2001:db8::1"] } }], signal())).rejects.toThrow(/not an IPv4 address/);
    expect(p.get(SMTP_A)).toBeDefined();
  });

  it("returns copies: callers cannot change the store", async () => {
    const p = seeded();
    const [a] = await p.read([SMTP_A], signal());
    (a?.values as string[]).push("192.0.2.99");
    expect(p.get(SMTP_A)?.values).toEqual(["192.0.2.10", "192.0.2.11"]);
  });

  it("create() checks its config block and starts with its records", async () => {
    const p = await create(
      { type: "memory", records: [{ name: "smtp.example.com", type: "A", ttl: 300, values: ["192.0.2.10"] }] },
      ctx,
    );
    expect(p.kind).toBe("memory");
    expect(p.snapshot()).toEqual([{ name: "smtp.example.com", type: "A", ttl: 300, values: ["192.0.2.10"] }]);
    await expect(create({ type: "memory", extra: true } as never, ctx)).rejects.toThrow(ProviderConfigError);
    const bad = memoryConfigSchema.safeParse({
      type: "memory",
      records: [{ name: "smtp.example.com", type: "AAAA", ttl: 300, values: ["2001:db8::1", "192.0.2.1"] }],
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["records.0.values.1", 'not an IPv6 address: "192.0.2.1"'],
    ]);
    await expect(
      create({ type: "memory", records: [{ name: "x.example.com", type: "A", ttl: 300, values: ["nope"] }] }, ctx),
    ).rejects.toThrow(/providers\.mem\.records\.0\.values\.0: not an IPv4 address/);
  });
});

describe("memory provider under the controller", () => {
  it("a transient failure on the first apply is retried by reconcileProvider", async () => {
    const { reconcileProvider } = await import("../../../src/controller/reconcile.js");
    const p = seeded();
    p.failNextApply("transient");
    const result = await reconcileProvider({
      provider: p,
      providerName: "mem",
      pools: [
        pool({ provider: "mem", addresses: ["192.0.2.10", "192.0.2.11", "2001:db8::10"] }),
      ],
      health: (_pool, address) =>
        address === "192.0.2.10" ? { health: "down", reason: "connection refused" } : { health: "up", reason: "ok" },
      controllerId: "test",
      dryRun: false,
      signal: signal(),
      retry: { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 20 },
    });
    expect(result.error).toBeUndefined();
    expect(result.attempts).toBe(2);
    expect(p.applyCalls).toBe(2);
    expect(p.get(SMTP_A)?.values).toEqual(["192.0.2.11"]);
  });
});
