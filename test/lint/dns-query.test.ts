import { afterEach, describe, expect, it } from "vitest";
import { parseServer, queryDns } from "../../src/lint/dns-query.js";
import { startTestDnsServer, type TestDnsServer } from "./dns-server.js";
import { CLEAN } from "./world.js";

let server: TestDnsServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
const never = () => new AbortController().signal;
const opts = (over: { recursion?: boolean; timeoutMs?: number; maxBytes?: number; signal?: AbortSignal } = {}) => ({ recursion: false, timeoutMs: 1000, signal: never(), ...over });

describe("DNS query over the wire", () => {
  it("reads the AA bit, the rcode, TTLs and record data, and sends RD only when asked", async () => {
    server = await startTestDnsServer({ records: CLEAN });
    const auth = await queryDns(server, "example.com", "MX", opts());
    expect(auth).toEqual({
      server: `127.0.0.1:${server.port}`,
      name: "example.com",
      type: "MX",
      recursion: false,
      rcode: "NOERROR",
      aa: true,
      answers: [
        { name: "example.com", type: "MX", ttl: 3600, data: "10 mx1.example.com" },
        { name: "example.com", type: "MX", ttl: 3600, data: "20 mx.other.net" },
      ],
      authorities: [],
    });
    const viaResolver = await queryDns(server, "nothing.example.com", "A", opts({ recursion: true }));
    expect(viaResolver).toMatchObject({ rcode: "NXDOMAIN", aa: false, answers: [] });
    expect(server.rd).toEqual([false, true]);
  });

  it("decodes SOA and SRV, including a '.' target", async () => {
    server = await startTestDnsServer({ records: CLEAN });
    expect((await queryDns(server, "example.com", "SOA", opts())).answers[0]?.data).toBe("ns1.example.com hostmaster.example.com 2026010101 3600 900 604800 300");
    expect((await queryDns(server, "_pop3s._tcp.example.com", "SRV", opts())).answers[0]?.data).toBe("0 0 0 .");
  });

  it("asks again over TCP when the UDP answer is truncated", async () => {
    server = await startTestDnsServer({ records: CLEAN });
    server.misbehave = "truncate";
    const a = await queryDns(server, "mx1.example.com", "A", opts());
    expect(a.answers.map((r) => r.data)).toEqual(["192.0.2.25"]);
    expect([server.udpQueries, server.tcpQueries]).toEqual([1, 1]);
  });

  it("ignores a stray answer with another id and takes the real one", async () => {
    server = await startTestDnsServer({ records: CLEAN });
    server.misbehave = "wrong-id-first";
    expect((await queryDns(server, "mx1.example.com", "A", opts())).answers.map((r) => r.data)).toEqual(["192.0.2.25"]);
  });

  it("gives up at its deadline with the reason, never throwing", async () => {
    server = await startTestDnsServer({ records: CLEAN });
    server.misbehave = "silent";
    const a = await queryDns(server, "mx1.example.com", "A", opts({ timeoutMs: 100 }));
    expect(a).toMatchObject({ answers: [], error: "timeout after 100 ms (UDP)" });
    expect(a.rcode).toBeUndefined();
  });

  it("refuses a TCP answer longer than its byte bound", async () => {
    server = await startTestDnsServer({ records: CLEAN });
    server.misbehave = "huge-tcp";
    const a = await queryDns(server, "mx1.example.com", "A", opts({ maxBytes: 512 }));
    expect(a).toMatchObject({ answers: [], error: "TCP answer of 65535 bytes is above the 512-byte bound" });
  });

  it("stops waiting when the signal aborts", async () => {
    server = await startTestDnsServer({ records: CLEAN });
    server.misbehave = "silent";
    const ac = new AbortController();
    const pending = queryDns(server, "mx1.example.com", "A", opts({ timeoutMs: 10_000, signal: ac.signal }));
    setTimeout(() => ac.abort(), 20);
    expect(await pending).toMatchObject({ error: "aborted" });
  });
});

describe("parseServer", () => {
  it("takes an address with an optional port, IPv6 in brackets", () => {
    expect(parseServer("127.0.0.1:5353")).toEqual({ host: "127.0.0.1", port: 5353 });
    expect(parseServer("127.0.0.1")).toEqual({ host: "127.0.0.1", port: 53 });
    expect(parseServer("[::1]:5353")).toEqual({ host: "::1", port: 5353 });
    expect(parseServer("::1")).toEqual({ host: "::1", port: 53 });
  });
  it("refuses names and bad ports", () => {
    expect(parseServer("dns.example:53")).toBeUndefined();
    expect(parseServer("127.0.0.1:70000")).toBeUndefined();
  });
});
