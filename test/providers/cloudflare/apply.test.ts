import { afterEach, describe, expect, it } from "vitest";
import { ConflictError, ProviderError, type RRset, type RRsetChange } from "../../../providers/types.js";
import { COMMENT, POOL, ZONE, addresses, harness, seedA, seedMarker, signal, type Harness } from "./helpers.js";

let h: Harness;
afterEach(async () => {
  await h.fake.close();
});

const A = (name = POOL) => ({ name, type: "A" as const });

async function readA(hh: Harness, name = POOL): Promise<RRset | undefined> {
  const p = await hh.provider();
  return (await p.read([A(name)], signal()))[0];
}

const change = (before: RRset | undefined, after: RRsetChange["after"], pool = POOL, name = POOL): RRsetChange => ({
  key: A(name),
  before: before ?? null,
  after,
  pool,
});

interface BatchBody {
  deletes?: { id: string }[];
  patches?: Record<string, unknown>[];
  posts?: Record<string, unknown>[];
  puts?: unknown[];
}
const batches = (hh: Harness): BatchBody[] =>
  hh.fake.writes().map((w) => {
    expect(w.method).toBe("POST");
    expect(w.path).toBe(`/client/v4/zones/${hh.zoneId}/dns_records/batch`);
    return w.body as BatchBody;
  });

describe("Cloudflare apply", () => {
  it("sends one batch with the fewest edits: delete by id, patch what is wrong, post what is new", async () => {
    h = await harness();
    const keep = seedA(h, "192.0.2.10");
    const gone = seedA(h, "192.0.2.11");
    const fix = seedA(h, "192.0.2.12", { ttl: 600 });
    const p = await h.provider();
    const before = (await p.read([A()], signal()))[0]!;
    const res = await p.apply([change(before, { ttl: 300, values: ["192.0.2.10", "192.0.2.12", "192.0.2.13"] })], signal());
    expect(res.applied).toBe(1);
    expect(res.notes).toEqual([`batch 1/1 (${POOL}): 1 deleted, 1 patched, 1 created`]);
    const [body, ...more] = batches(h);
    expect(more).toEqual([]);
    expect(body!.deletes).toEqual([{ id: gone.id }]);
    expect(body!.patches).toEqual([{ id: fix.id, name: POOL, type: "A", ttl: 300, proxied: false, comment: COMMENT }]);
    expect(body!.posts).toEqual([{ name: POOL, type: "A", ttl: 300, proxied: false, comment: COMMENT, content: "192.0.2.13" }]);
    expect(body!.puts).toBeUndefined();
    // The record that was right is untouched.
    const after = h.fake.records(h.zoneId, POOL, "A");
    expect(after.find((r) => r.id === keep.id)).toEqual(keep);
    expect(addresses(h)).toEqual(["192.0.2.10", "192.0.2.12", "192.0.2.13"]);
    expect(after.every((r) => r.ttl === 300 && r.comment === COMMENT && !r.proxied)).toBe(true);
  });

  it("creates an RRset and its marker with the mailpool comment, TXT quoted", async () => {
    h = await harness();
    const p = await h.provider();
    await p.apply(
      [
        change(undefined, { ttl: 300, values: ["192.0.2.10", "192.0.2.11"] }),
        { key: { name: `_mailpool.${POOL}`, type: "TXT" }, before: null, after: { ttl: 300, values: ["mailpool owner=ctl-1"] }, pool: POOL },
      ],
      signal(),
    );
    expect(batches(h)).toHaveLength(1);
    const marker = h.fake.records(h.zoneId, `_mailpool.${POOL}`, "TXT");
    expect(marker).toHaveLength(1);
    expect(marker[0]).toMatchObject({ content: '"mailpool owner=ctl-1"', ttl: 300, comment: COMMENT, proxied: false });
    expect(h.fake.records(h.zoneId, POOL, "A").map((r) => [r.content, r.comment, r.ttl, r.proxied])).toEqual([
      ["192.0.2.10", COMMENT, 300, false],
      ["192.0.2.11", COMMENT, 300, false],
    ]);
    // Read back, the marker is the unquoted text the core expects.
    const rrsets = await p.read([{ name: `_mailpool.${POOL}`, type: "TXT" }], signal());
    expect(rrsets[0]!.values).toEqual(["mailpool owner=ctl-1"]);
  });

  it("deletes every record of an RRset whose after is null", async () => {
    h = await harness();
    seedA(h, "192.0.2.10");
    seedA(h, "192.0.2.11");
    const before = await readA(h);
    const p = await h.provider();
    await p.apply([change(before, null)], signal());
    expect(addresses(h)).toEqual([]);
    expect(batches(h)[0]!.deletes).toHaveLength(2);
  });

  it("repairs a proxied record with a patch proxied:false, and the drift is gone", async () => {
    h = await harness();
    const rec = seedA(h, "192.0.2.10", { proxied: true });
    seedA(h, "192.0.2.11");
    const p = await h.provider();
    const before = (await p.read([A()], signal()))[0]!;
    expect(before.records?.[0]?.drift).toEqual(["192.0.2.10 is proxied; Cloudflare cannot proxy SMTP/IMAP/POP3"]);
    await p.apply([change(before, { ttl: before.ttl, values: before.values })], signal());
    const [body] = batches(h);
    expect(body!.patches).toEqual([{ id: rec.id, name: POOL, type: "A", ttl: 300, proxied: false, comment: COMMENT }]);
    expect(body!.deletes ?? []).toEqual([]);
    expect(body!.posts ?? []).toEqual([]);
    const again = (await p.read([A()], signal()))[0]!;
    expect(again.records?.flatMap((r) => r.drift)).toEqual([]);
  });

  it("corrects a TTL of 1 and writes the comment on a record that lacked it", async () => {
    h = await harness();
    seedA(h, "192.0.2.10", { ttl: 1, comment: null });
    const p = await h.provider();
    const before = (await p.read([A()], signal()))[0]!;
    expect(before.ttl).toBe(1);
    await p.apply([change(before, { ttl: 300, values: before.values })], signal());
    expect(h.fake.records(h.zoneId, POOL, "A")[0]).toMatchObject({ ttl: 300, comment: COMMENT });
  });

  it("keeps an operator's comment that already carries mailpool's when it patches the TTL", async () => {
    h = await harness();
    const operator = `mx2, rack B — ${COMMENT}`;
    seedA(h, "192.0.2.10", { ttl: 3600, comment: operator });
    const p = await h.provider();
    const before = (await p.read([A()], signal()))[0]!;
    expect(before.records?.flatMap((r) => r.drift)).toEqual([]);
    await p.apply([change(before, { ttl: 300, values: before.values })], signal());
    expect(h.fake.records(h.zoneId, POOL, "A")[0]).toMatchObject({ ttl: 300, comment: operator });
  });

  it("deletes duplicate records of one address, keeping one", async () => {
    h = await harness();
    const first = seedA(h, "192.0.2.10");
    seedA(h, "192.0.2.10"); // the API refuses this; a seed (or an old import) can still leave it
    const p = await h.provider();
    const before = (await p.read([A()], signal()))[0]!;
    expect(before.values).toEqual(["192.0.2.10"]);
    expect(before.records?.[0]?.drift).toEqual(["192.0.2.10 is in 2 records; the extra ones are deleted"]);
    await p.apply([change(before, { ttl: 300, values: before.values })], signal());
    expect(h.fake.records(h.zoneId, POOL, "A").map((r) => r.id)).toEqual([first.id]);
  });

  it("sends nothing for a change that needs no record edit", async () => {
    h = await harness();
    seedA(h, "192.0.2.10");
    const p = await h.provider();
    const before = (await p.read([A()], signal()))[0]!;
    const res = await p.apply([change(before, { ttl: 300, values: ["192.0.2.10"] })], signal());
    expect(res.notes).toEqual(["1 change(s) needed no record edit"]);
    expect(res.applied).toBe(0);
    expect(h.fake.writes()).toEqual([]);
  });

  it("chunks by pool within batchSize: one pool's changes never span two batches", async () => {
    h = await harness({ batchSizeLimit: 4 });
    const pools = ["a", "b", "c"].map((x) => `${x}.${ZONE}`);
    const p = await h.provider({ batchSize: 4 });
    // a: 2 posts (A) + 0; b: 1 A post + 1 TXT post; c: 3 posts.
    const changes: RRsetChange[] = [
      change(undefined, { ttl: 300, values: ["192.0.2.1", "192.0.2.2"] }, pools[0], pools[0]),
      change(undefined, { ttl: 300, values: ["192.0.2.3"] }, pools[1], pools[1]),
      { key: { name: `_mailpool.${pools[1]}`, type: "TXT" }, before: null, after: { ttl: 300, values: ["mailpool owner=ctl-1"] }, pool: pools[1]! },
      change(undefined, { ttl: 300, values: ["192.0.2.4", "192.0.2.5", "192.0.2.6"] }, pools[2], pools[2]),
    ];
    const res = await p.apply(changes, signal());
    const sent = batches(h);
    expect(sent).toHaveLength(2);
    const namesIn = (b: BatchBody) => new Set((b.posts ?? []).map((x) => String(x.name).replace(/^_mailpool\./, "")));
    expect([...namesIn(sent[0]!)].sort()).toEqual([pools[0], pools[1]]);
    expect([...namesIn(sent[1]!)]).toEqual([pools[2]]);
    expect(sent.every((b) => (b.posts?.length ?? 0) <= 4)).toBe(true);
    expect(res.notes).toEqual([`batch 1/2 (a.${ZONE}, b.${ZONE}): 0 deleted, 0 patched, 4 created`, `batch 2/2 (c.${ZONE}): 0 deleted, 0 patched, 3 created`]);
    expect(addresses(h, pools[2])).toEqual(["192.0.2.4", "192.0.2.5", "192.0.2.6"]);
  });

  it("splits a pool larger than one batch, posting before deleting so the name never goes empty", async () => {
    h = await harness({ batchSizeLimit: 3 });
    const old = ["192.0.2.1", "192.0.2.2", "192.0.2.3"].map((a) => seedA(h, a));
    const p = await h.provider({ batchSize: 3 });
    const before = (await p.read([A()], signal()))[0]!;
    await p.apply([change(before, { ttl: 300, values: ["192.0.2.7", "192.0.2.8", "192.0.2.9"] })], signal());
    const sent = batches(h);
    expect(sent.map((b) => [b.posts?.length ?? 0, b.deletes?.length ?? 0])).toEqual([
      [3, 0],
      [0, 3],
    ]);
    expect(sent[1]!.deletes!.map((d) => d.id).sort()).toEqual(old.map((r) => r.id).sort());
    expect(addresses(h)).toEqual(["192.0.2.7", "192.0.2.8", "192.0.2.9"]);
  });

  it("says which batches were already written when a later batch meets a conflict", async () => {
    h = await harness({ batchSizeLimit: 1 });
    const a = seedA(h, "192.0.2.1", { name: `a.${ZONE}` });
    const b = seedA(h, "192.0.2.2", { name: `b.${ZONE}` });
    const p = await h.provider({ batchSize: 1 });
    const rrsets = await p.read([A(`a.${ZONE}`), A(`b.${ZONE}`)], signal());
    let posts = 0;
    h.fake.beforeRequest = ({ method }) => {
      if (method === "POST" && ++posts === 2) h.fake.remove(h.zoneId, b.id); // gone before batch 2 lands
    };
    const err = await p
      .apply([change(rrsets[0], null, `a.${ZONE}`, `a.${ZONE}`), change(rrsets[1], null, `b.${ZONE}`, `b.${ZONE}`)], signal())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain("code 81044");
    expect((err as Error).message).toContain("batches 1–1 of 2 were already written");
    expect(h.fake.records(h.zoneId).map((r) => r.id)).not.toContain(a.id);
  });

  it("refuses with ConflictError and sends no write when the pre-batch re-list differs from before", async () => {
    h = await harness();
    const rec = seedA(h, "192.0.2.10");
    seedA(h, "192.0.2.11");
    const p = await h.provider();
    const before = (await p.read([A()], signal()))[0]!;
    h.fake.update(h.zoneId, rec.id, { ttl: 900 }); // someone else's edit
    const err = await p.apply([change(before, { ttl: 300, values: ["192.0.2.11"] })], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).key).toEqual(A());
    expect((err as Error).message).toContain(`record ${rec.id} (192.0.2.10) changed TTL from 300 s to 900 s`);
    expect(h.fake.writes()).toEqual([]);
    expect(addresses(h)).toEqual(["192.0.2.10", "192.0.2.11"]);
  });

  it("refuses with ConflictError when a record appeared where none was read", async () => {
    h = await harness();
    const p = await h.provider();
    seedA(h, "192.0.2.50"); // appeared after an empty read
    const err = await p.apply([change(undefined, { ttl: 300, values: ["192.0.2.10"] })], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/\(192\.0\.2\.50\) appeared/);
    expect(h.fake.writes()).toEqual([]);
  });

  it("maps 81058 (identical record) to ConflictError: the whole batch fails and nothing changes", async () => {
    h = await harness();
    const gone = seedA(h, "192.0.2.11");
    const p = await h.provider();
    const before = (await p.read([A()], signal()))[0]!;
    // Between the pre-check and the batch, someone else creates the record mailpool is posting.
    h.fake.beforeRequest = ({ method }) => {
      if (method === "POST") seedA(h, "192.0.2.10", { comment: "added by hand" });
    };
    const err = await p.apply([change(before, { ttl: 300, values: ["192.0.2.10"] })], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain("code 81058: An identical record already exists.");
    // The delete that came before the failing post in the same batch did not happen.
    expect(h.fake.records(h.zoneId, POOL, "A").map((r) => r.id)).toContain(gone.id);
    expect(addresses(h)).toEqual(["192.0.2.10", "192.0.2.11"]);
  });

  it("maps a delete of a vanished id to ConflictError, and nothing of the batch is written", async () => {
    h = await harness();
    const a = seedA(h, "192.0.2.10");
    seedA(h, "192.0.2.11");
    const p = await h.provider();
    const before = (await p.read([A()], signal()))[0]!;
    h.fake.beforeRequest = ({ method }) => {
      if (method === "POST") h.fake.remove(h.zoneId, a.id);
    };
    const err = await p.apply([change(before, { ttl: 300, values: ["192.0.2.11", "192.0.2.12"] })], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain("code 81044: Record does not exist.");
    expect(addresses(h)).toEqual(["192.0.2.11"]); // 192.0.2.12 was not posted
  });

  it("refuses a TTL outside 300–900 s and a change whose before did not come from this provider", async () => {
    h = await harness();
    seedA(h, "192.0.2.10");
    const p = await h.provider();
    const before = (await p.read([A()], signal()))[0]!;
    const low = await p.apply([change(before, { ttl: 1, values: ["192.0.2.10"] })], signal()).catch((e: unknown) => e);
    expect(low).toBeInstanceOf(ProviderError);
    expect((low as ProviderError).transient).toBe(false);
    expect((low as Error).message).toContain("TTL 1 s");
    const foreign = { ...before, native: undefined };
    const bad = await p.apply([change(foreign, { ttl: 300, values: [] })], signal()).catch((e: unknown) => e);
    expect((bad as Error).message).toContain("carries no Cloudflare record ids");
    expect(h.fake.writes()).toEqual([]);
  });

  it("keeps the marker TXT and the address records of one pool in one batch", async () => {
    h = await harness();
    seedMarker(h);
    seedA(h, "192.0.2.10");
    const p = await h.provider();
    const rrsets = await p.read([A(), { name: `_mailpool.${POOL}`, type: "TXT" }], signal());
    const a = rrsets.find((r) => r.type === "A")!;
    const marker = rrsets.find((r) => r.type === "TXT")!;
    await p.apply(
      [
        change(a, { ttl: 300, values: ["192.0.2.10", "192.0.2.11"] }),
        { key: { name: `_mailpool.${POOL}`, type: "TXT" }, before: marker, after: { ttl: 600, values: ["mailpool owner=ctl-1"] }, pool: POOL },
      ],
      signal(),
    );
    const sent = batches(h);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.patches).toEqual([{ id: marker.native && (marker.native as { records: { id: string }[] }).records[0]!.id, name: `_mailpool.${POOL}`, type: "TXT", ttl: 600, comment: COMMENT }]);
  });
});
