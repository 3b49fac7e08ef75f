import { describe, expect, it } from "vitest";
import type { DnsQuery } from "../../src/lint/dns-query.js";
import type { DnsAnswer } from "../../src/lint/types.js";
import { answer, CLEAN, observe, worldQuery } from "./world.js";

describe("gathering", () => {
  it("asks in-domain names of the zone's own server without recursion, the rest of the resolver", async () => {
    const asked: DnsAnswer[] = [];
    await observe({ records: CLEAN }, { query: worldQuery({ records: CLEAN }, asked) });
    const how = (name: string, type: string) => asked.filter((a) => a.name === name && a.type === type).map((a) => `${a.server} ${a.recursion ? "rd" : "nord"}`);
    expect(how("example.com", "MX")).toEqual(["127.0.0.53:53 rd"]);
    expect(how("example.com", "SOA")).toEqual(["198.51.100.53:53 nord", "192.0.2.53:53 nord"]);
    expect(how("smtp.example.com", "A")).toEqual(["198.51.100.53:53 nord"]);
    expect(how("mx.other.net", "A")).toEqual(["127.0.0.53:53 rd"]);
    expect(how("25.2.0.192.in-addr.arpa", "PTR")).toEqual(["127.0.0.53:53 rd"]);
  });

  it("falls back to the resolver when no name server answers authoritatively", async () => {
    const asked: DnsAnswer[] = [];
    const world = { records: CLEAN, servers: { "198.51.100.53:53": "lame", "192.0.2.53:53": "lame" } } as const;
    await observe(world, { query: worldQuery(world, asked) });
    expect(asked.filter((a) => a.name === "smtp.example.com").map((a) => a.recursion)).toEqual([true, true]);
  });

  it("asks each distinct query once and records every one", async () => {
    const asked: DnsAnswer[] = [];
    const obs = await observe({ records: CLEAN }, { query: worldQuery({ records: CLEAN }, asked) });
    const keys = asked.map((a) => `${a.server} ${a.recursion} ${a.name} ${a.type}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(obs.queries.length).toBe(asked.length);
    expect(obs.budget).toEqual({ limit: 300, used: asked.length, exhausted: false });
  });

  it("keeps at most `concurrency` queries in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const slow: DnsQuery = async (server, name, type, o) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      return answer({ records: CLEAN }, server, name, type, o.recursion);
    };
    await observe({ records: CLEAN }, { query: slow, concurrency: 2 });
    expect(peak).toBe(2);
  });

  it("passes its signal to every query", async () => {
    const ac = new AbortController();
    ac.abort();
    const signals = new Set<AbortSignal>();
    const spy: DnsQuery = async (server, name, type, o) => {
      signals.add(o.signal);
      return { server: `${server.host}:${server.port}`, name, type, recursion: o.recursion, answers: [], authorities: [], error: o.signal.aborted ? "aborted" : "?" };
    };
    const obs = await observe({ records: CLEAN }, { query: spy, signal: ac.signal });
    expect([...signals]).toEqual([ac.signal]);
    expect(obs.queries.every((q) => q.error === "aborted")).toBe(true);
  });
});
