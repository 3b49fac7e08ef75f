/**
 * The RFC 2136 provider against the fake name server (test/fakes/dns-update-server.ts) on
 * loopback: real UDP and TCP sockets, TSIG on both sides, prerequisites enforced by the server.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { create } from "../../../providers/rfc2136/index.js";
import type { Rfc2136Provider } from "../../../providers/rfc2136/index.js";
import { ConflictError, ProviderConfigError, ProviderError, type ProviderContext, type RRset } from "../../../providers/types.js";
import type { TsigKey } from "../../../providers/rfc2136/tsig.js";
import { reconcileProvider } from "../../../src/controller/reconcile.js";
import { FakeDnsServer } from "../../fakes/dns-update-server.js";
import { health, pool } from "../../helpers/pools.js";

const SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=";
const KEY: TsigKey = { name: "mailpool-key", algorithm: "hmac-sha256", secret: Buffer.from(SECRET, "base64") };
/** A fixed clock, years from today: nothing here depends on the wall clock. */
const T0 = 2_000_000_000;
const hexA = (ip: string) => Buffer.from(ip.split(".").map(Number)).toString("hex");
const hexTxt = (t: string) => Buffer.concat([Buffer.from([t.length]), Buffer.from(t)]).toString("hex");

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const ctx = (over: Partial<ProviderContext> = {}): ProviderContext => ({
  name: "ns",
  controllerId: "test",
  pools: [{ name: "smtp.example.com", recordStyle: "simple" }],
  env: {},
  logger: silent,
  ...over,
});

let server: FakeDnsServer;
let clock = T0;
const signal = () => AbortSignal.timeout(20_000);

const provider = (over: Record<string, unknown> = {}, c: Partial<ProviderContext> = {}, now = () => clock * 1000): Promise<Rfc2136Provider> =>
  create({ type: "rfc2136", server: "127.0.0.1", port: server.port, keyName: "mailpool-key", secret: SECRET, timeoutMs: 1000, ...over }, ctx(c), { now });

const KEYS = [
  { name: "smtp.example.com", type: "A" as const },
  { name: "smtp.example.com", type: "AAAA" as const },
  { name: "_mailpool.smtp.example.com", type: "TXT" as const },
];

beforeEach(async () => {
  clock = T0;
  server = new FakeDnsServer({ zone: "example.com", keys: [KEY], now: () => clock });
  server.set("smtp.example.com", "A", 300, [hexA("192.0.2.10"), hexA("192.0.2.11")]);
  server.set("_mailpool.smtp.example.com", "TXT", 300, [hexTxt("mailpool owner=test")]);
  await server.start();
});
afterEach(async () => {
  await server.stop();
});

const valuesOf = (name: string, type: "A" | "TXT") => server.get(name, type)?.rdata;

describe("rfc2136 read", () => {
  it("returns the RRsets that exist, over TCP, with signed queries, finding the zone from the SOA", async () => {
    const p = await provider();
    const got = await p.read(KEYS, signal());
    expect(got.map(({ native: _n, ...r }) => r)).toEqual([
      { name: "smtp.example.com", type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11"] },
      { name: "_mailpool.smtp.example.com", type: "TXT", ttl: 300, values: ["mailpool owner=test"] },
    ]);
    expect(server.received.map((r) => [r.transport, r.message.questions[0]?.type])).toEqual([
      ["tcp", 6],
      ["tcp", 1],
      ["tcp", 28],
      ["tcp", 16],
    ]);
    expect(server.received.every((r) => r.message.additional.at(-1)?.type === 250)).toBe(true);
  });

  it("checks a configured zone against the server's SOA", async () => {
    const p = await provider({ zone: "mail.example.com" }, { pools: [{ name: "smtp.mail.example.com", recordStyle: "simple" }] });
    await expect(p.read([{ name: "smtp.mail.example.com", type: "A" }], signal())).rejects.toThrow(
      /providers\.ns\.zone: 127\.0\.0\.1:\d+ has no SOA record at mail\.example\.com/,
    );
  });

  it("refuses at create a pool outside the configured zone", async () => {
    await expect(provider({ zone: "example.org" })).rejects.toThrow(/providers\.ns\.zone: pool\(s\) smtp\.example\.com are not inside zone example\.org/);
  });

  it("does not trust an unsigned or forged answer", async () => {
    const p = await provider();
    server.faults.push("unsigned-ok");
    await expect(p.read(KEYS, signal())).rejects.toThrow(/without a TSIG signature; the answer is not trusted/);
    server.faults.push("forged");
    await expect(p.read(KEYS, signal())).rejects.toThrow(/MAC does not verify/);
  });
});

describe("rfc2136 apply", () => {
  const read = async (p: Rfc2136Provider) => {
    const got = await p.read(KEYS, signal());
    const a = got.find((r) => r.type === "A")!;
    const txt = got.find((r) => r.type === "TXT")!;
    return { a, txt };
  };

  it("writes one signed UPDATE over UDP: the remove and a TTL fix of the marker together", async () => {
    const p = await provider();
    const { a, txt } = await read(p);
    server.received.length = 0;
    const result = await p.apply(
      [
        { key: a, before: a, after: { ttl: 300, values: ["192.0.2.10"] }, pool: "smtp.example.com" },
        { key: txt, before: txt, after: { ttl: 600, values: ["mailpool owner=test"] }, pool: "smtp.example.com" },
      ],
      signal(),
    );
    expect(result.applied).toBe(2);
    expect(result.notes).toEqual([expect.stringMatching(/^UPDATE of zone example\.com: 2 RRset change\(s\) \(3 prerequisite and 4 update record\(s\)\) over UDP, signed with key mailpool-key$/)]);
    expect(server.received.map((r) => [r.transport, r.opcode])).toEqual([["udp", 5]]);
    expect(valuesOf("smtp.example.com", "A")).toEqual([hexA("192.0.2.10")]);
    expect(server.get("_mailpool.smtp.example.com", "TXT")).toEqual({ ttl: 600, rdata: [hexTxt("mailpool owner=test")] });
  });

  it("creates an absent RRset with 'RRset does not exist' as the prerequisite, and deletes one", async () => {
    const p = await provider();
    const { a } = await read(p);
    await p.apply(
      [
        { key: { name: "smtp.example.com", type: "AAAA" }, before: null, after: { ttl: 300, values: ["2001:db8::1"] }, pool: "smtp.example.com" },
        { key: a, before: a, after: null, pool: "smtp.example.com" },
      ],
      signal(),
    );
    expect(server.get("smtp.example.com", "AAAA")).toEqual({ ttl: 300, rdata: ["20010db8000000000000000000000001"] });
    expect(server.get("smtp.example.com", "A")).toBeUndefined();
  });

  it("refuses with ConflictError, writing nothing, when the RRset changed after the read (NXRRSET)", async () => {
    const p = await provider();
    const { a } = await read(p);
    server.beforeUpdate = () => server.set("smtp.example.com", "A", 300, [hexA("192.0.2.10"), hexA("192.0.2.11"), hexA("192.0.2.99")]);
    const err = await p.apply([{ key: a, before: a, after: { ttl: 300, values: ["192.0.2.10"] }, pool: "smtp.example.com" }], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/NXRRSET.*nothing of this update was written/);
    expect(valuesOf("smtp.example.com", "A")).toHaveLength(3);
  });

  it("refuses with ConflictError when an RRset read as absent appeared (YXRRSET)", async () => {
    const p = await provider();
    server.set("smtp.example.com", "AAAA", 300, ["20010db8000000000000000000000099"]);
    const err = await p
      .apply([{ key: { name: "smtp.example.com", type: "AAAA" }, before: null, after: { ttl: 300, values: ["2001:db8::1"] }, pool: "smtp.example.com" }], signal())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/YXRRSET/);
    expect(server.get("smtp.example.com", "AAAA")?.rdata).toEqual(["20010db8000000000000000000000099"]);
  });

  it("names the policy when the server refuses the names (REFUSED)", async () => {
    await server.stop();
    server = new FakeDnsServer({ zone: "example.com", keys: [KEY], now: () => clock, policy: { "mailpool-key": ["_mailpool.smtp.example.com"] } });
    server.set("smtp.example.com", "A", 300, [hexA("192.0.2.10")]);
    await server.start();
    const p = await provider();
    const [a] = await p.read([KEYS[0]!], signal());
    const err = await p.apply([{ key: a!, before: a!, after: { ttl: 300, values: ["192.0.2.10", "192.0.2.11"] }, pool: "smtp.example.com" }], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ transient: false });
    expect((err as Error).message).toMatch(/refused the update \(REFUSED\): its update policy does not let key mailpool-key \(hmac-sha256\) change smtp\.example\.com in zone example\.com/);
  });

  it("tells a wrong key name or algorithm (BADKEY), a wrong secret (BADSIG) and clock skew (BADTIME, with the skew) apart", async () => {
    const wrongName = await provider({ keyName: "other-key" });
    await expect(wrongName.read(KEYS, signal())).rejects.toThrow(/does not know key other-key \(hmac-sha256\) \(NOTAUTH\/BADKEY\): keyName and algorithm must match/);
    const wrongAlg = await provider({ algorithm: "hmac-sha512" });
    await expect(wrongAlg.read(KEYS, signal())).rejects.toThrow(/does not know key mailpool-key \(hmac-sha512\)/);
    const wrongSecret = await provider({ secret: Buffer.from("not the secret at all").toString("base64") });
    const badsig = (await wrongSecret.read(KEYS, signal()).catch((e: unknown) => e)) as Error;
    expect(badsig.message).toMatch(/our signature does not verify \(NOTAUTH\/BADSIG\): the secret differs/);
    const skewed = await provider({}, {}, () => (clock - 1000) * 1000);
    const badtime = (await skewed.read(KEYS, signal()).catch((e: unknown) => e)) as Error;
    expect(badtime.message).toMatch(/disagree on the time by 1000 s \(the server's clock is ahead\), more than the fudge of 300 s \(NOTAUTH\/BADTIME\)/);
    for (const e of [badsig, badtime]) {
      expect(e).toMatchObject({ transient: false });
      expect(e.message).not.toContain(SECRET);
    }
  });

  it("marks SERVFAIL, a lost answer and a refused connection transient", async () => {
    const p = await provider();
    const { a } = await read(p);
    const change = [{ key: a, before: a, after: { ttl: 300, values: ["192.0.2.10"] }, pool: "smtp.example.com" }];
    server.faults.push("servfail");
    await expect(p.apply(change, signal())).rejects.toMatchObject({ transient: true, message: expect.stringMatching(/SERVFAIL/) });
    server.faults.push("drop");
    await expect(p.apply(change, signal())).rejects.toMatchObject({ transient: true, message: expect.stringMatching(/no answer from 127\.0\.0\.1:\d+ over UDP within 1000 ms/) });
    expect(valuesOf("smtp.example.com", "A")).toHaveLength(2);
    await server.stop();
    await expect(p.read(KEYS, signal())).rejects.toMatchObject({ transient: true, message: expect.stringMatching(/connection refused by 127\.0\.0\.1:\d+ over TCP/) });
  });

  it("falls back to TCP when the UDP answer is truncated, and uses TCP only with transport tcp", async () => {
    const p = await provider();
    const { a } = await read(p);
    server.received.length = 0;
    server.faults.push("truncate");
    await p.apply([{ key: a, before: a, after: { ttl: 300, values: ["192.0.2.10"] }, pool: "smtp.example.com" }], signal());
    expect(server.received.map((r) => r.transport)).toEqual(["udp", "tcp"]);
    expect(valuesOf("smtp.example.com", "A")).toEqual([hexA("192.0.2.10")]);

    const tcp = await provider({ transport: "tcp" });
    const again = await tcp.read([KEYS[0]!], signal());
    server.received.length = 0;
    await tcp.apply([{ key: again[0]!, before: again[0]!, after: { ttl: 300, values: ["192.0.2.10", "192.0.2.12"] }, pool: "smtp.example.com" }], signal());
    expect(server.received.map((r) => [r.transport, r.opcode])).toEqual([["tcp", 5]]);
  });

  it("ignores a spoofed UDP answer whose MAC does not verify and takes the real one after it", async () => {
    await server.stop();
    server = new FakeDnsServer({ zone: "example.com", keys: [KEY], now: () => clock, policy: { "mailpool-key": ["_mailpool.smtp.example.com"] } });
    server.set("smtp.example.com", "A", 300, [hexA("192.0.2.10")]);
    await server.start();
    const p = await provider();
    const [a] = await p.read([KEYS[0]!], signal());
    // The real answer is REFUSED; a copy with a broken MAC arrives first and must be ignored.
    server.faults.push("spoofed-first");
    await expect(p.apply([{ key: a!, before: a!, after: { ttl: 300, values: ["192.0.2.11"] }, pool: "smtp.example.com" }], signal())).rejects.toThrow(/REFUSED/);
  });

  it("opens a new TCP connection once when the server closed the one it had, for a query and for an UPDATE", async () => {
    const p = await provider({ transport: "tcp" });
    server.faults.push("close");
    const [a] = await p.read([KEYS[0]!], signal());
    expect(a?.values).toEqual(["192.0.2.10", "192.0.2.11"]);
    server.faults.push("close");
    await p.apply([{ key: a!, before: a!, after: { ttl: 300, values: ["192.0.2.10"] }, pool: "smtp.example.com" }], signal());
    expect(valuesOf("smtp.example.com", "A")).toEqual([hexA("192.0.2.10")]);
    // Twice in a row is a failure, and a transient one.
    server.faults.push("close", "close");
    await expect(p.read([KEYS[0]!], signal())).rejects.toMatchObject({ transient: true, message: expect.stringMatching(/closed the TCP connection before answering/) });
  });

  it("sends a message over 512 octets over TCP even with transport udp", async () => {
    const p = await provider();
    const many = Array.from({ length: 40 }, (_, i) => `192.0.2.${i + 100}`);
    server.received.length = 0;
    await p.apply([{ key: { name: "smtp.example.com", type: "AAAA" }, before: null, after: { ttl: 300, values: many.map((_, i) => `2001:db8::${i + 1}`) }, pool: "smtp.example.com" }], signal());
    expect(server.received.map((r) => r.transport)).toEqual(["tcp", "tcp"]);
    expect(server.get("smtp.example.com", "AAAA")?.rdata).toHaveLength(40);
  });

  it("skips changes that change nothing", async () => {
    const p = await provider();
    const { a } = await read(p);
    server.received.length = 0;
    const r = await p.apply([{ key: a, before: a, after: { ttl: 300, values: ["192.0.2.11", "192.0.2.10"] }, pool: "smtp.example.com" }], signal());
    expect(r).toEqual({ applied: 0, notes: ["nothing to write: the live RRsets already match"] });
    expect(server.received.filter((x) => x.opcode === 5)).toEqual([]);
  });
});

describe("rfc2136 under the controller", () => {
  it("re-reads and re-plans after a concurrent change, losing nothing of it", async () => {
    const p = await provider();
    // 192.0.2.11 is down; between mailpool's read and its write someone adds 192.0.2.12.
    server.beforeUpdate = () => server.set("smtp.example.com", "A", 300, [hexA("192.0.2.10"), hexA("192.0.2.11"), hexA("192.0.2.12")]);
    const result = await reconcileProvider({
      provider: p,
      providerName: "ns",
      pools: [pool({ addresses: ["192.0.2.10", "192.0.2.11", "192.0.2.12"], provider: "ns" })],
      health: health({ "192.0.2.11": "down" }),
      controllerId: "test",
      dryRun: false,
      signal: signal(),
      retry: { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 5 },
    });
    expect(result.error).toBeUndefined();
    expect(result.attempts).toBe(2);
    expect(result.applied?.applied).toBe(1);
    expect(valuesOf("smtp.example.com", "A")?.sort()).toEqual([hexA("192.0.2.10"), hexA("192.0.2.12")].sort());
  });
});

describe("rfc2136 secrets", () => {
  it("reads the secret from a tsig-keygen key file, matching name and algorithm", async () => {
    const file = `key "mailpool-key" {\n\talgorithm hmac-sha256;\n\tsecret "${SECRET}";\n};\n`;
    const p = await create({ type: "rfc2136", server: "127.0.0.1", port: server.port, keyName: "mailpool-key", secretFile: "/k" }, ctx(), {
      now: () => clock * 1000,
      readFile: () => file,
    });
    expect((await p.read([KEYS[0]!], signal())) as RRset[]).toHaveLength(1);
    await expect(
      create({ type: "rfc2136", server: "127.0.0.1", keyName: "mailpool-key", algorithm: "hmac-sha512", secretFile: "/k" }, ctx(), { readFile: () => file }),
    ).rejects.toThrow(/key mailpool-key in the file is hmac-sha256, but algorithm is hmac-sha512/);
    await expect(create({ type: "rfc2136", server: "127.0.0.1", keyName: "other", secretFile: "/k" }, ctx(), { readFile: () => file })).rejects.toThrow(
      /holds no key other \(it holds mailpool-key\)/,
    );
  });

  it("refuses a secret that is not base64 without repeating it, in the block and in a key file", async () => {
    const err = (await create({ type: "rfc2136", server: "127.0.0.1", keyName: "k", secret: "not*base64*hunter2" }, ctx()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ProviderConfigError);
    expect(err.message).toMatch(/^providers\.ns\.secret: is not a base64 TSIG secret/);
    expect(err.message).not.toContain("hunter2");
    const file = `key "k" { algorithm hmac-sha256; secret "hunter2!"; };`;
    const fromFile = (await create({ type: "rfc2136", server: "127.0.0.1", keyName: "k", secretFile: "/k" }, ctx(), { readFile: () => file }).catch((e: unknown) => e)) as Error;
    expect(fromFile.message).toMatch(/^providers\.ns\.secretFile \(\/k\): is not a base64 TSIG secret/);
    expect(fromFile.message).not.toContain("hunter2");
  });
});

describe("rfc2136 transport", () => {
  it("stops waiting for a UDP answer the moment the cycle is aborted", async () => {
    const { udpExchange } = await import("../../../providers/rfc2136/transport.js");
    server.faults.push("drop");
    const controller = new AbortController();
    const pending = udpExchange({ host: "127.0.0.1", port: server.port }, new Uint8Array([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), {
      signal: controller.signal,
      timeoutMs: 60_000,
    });
    setTimeout(() => controller.abort(new Error("cycle cancelled")), 20);
    await expect(pending).rejects.toThrow("cycle cancelled");
  });

  it("stops waiting for a TCP answer the moment the cycle is aborted, closing the connection", async () => {
    const { TcpConnection } = await import("../../../providers/rfc2136/transport.js");
    const controller = new AbortController();
    const conn = await TcpConnection.open({ host: "127.0.0.1", port: server.port }, { signal: controller.signal, connectTimeoutMs: 1000 });
    server.faults.push("drop");
    const pending = conn.exchange(new Uint8Array([0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), { signal: controller.signal, timeoutMs: 60_000 });
    setTimeout(() => controller.abort(new Error("cycle cancelled")), 20);
    await expect(pending).rejects.toThrow("cycle cancelled");
    expect(conn.isOpen).toBe(false);
  });
});
