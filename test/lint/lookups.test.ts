import { describe, expect, it } from "vitest";
import { lookupRules } from "../../src/lint/rules/lookups.js";
import { lint } from "../../src/lint/rules/index.js";
import { CLEAN, observe } from "./world.js";

describe("lookup rules", () => {
  it("find nothing when every lookup got an answer", async () => {
    expect(lookupRules(await observe({ records: CLEAN }))).toEqual([]);
  });

  it("report the domain's MX lookup failing as an error, and judge nothing from it", async () => {
    const obs = await observe({ records: CLEAN, failures: { "example.com MX": "timeout" } });
    const findings = lint(obs);
    expect(findings.filter((f) => f.id === "lookup-failed").map((f) => [f.severity, f.subject])).toEqual([["error", "example.com MX"]]);
    expect(findings.some((f) => f.id.startsWith("mx-"))).toBe(false);
  });

  it("report another name's failed lookup as a warning", async () => {
    const obs = await observe({ records: CLEAN, failures: { "25.2.0.192.in-addr.arpa PTR": "SERVFAIL" } });
    expect(lookupRules(obs).map((f) => [f.id, f.severity, f.message])).toEqual([
      ["lookup-failed", "warning", "the lookup of PTR 25.2.0.192.in-addr.arpa failed (SERVFAIL); rules that need it could not judge it"],
    ]);
  });

  it("say the lint is incomplete when the query budget ran out, and never exceed it", async () => {
    const asked: unknown[] = [];
    const obs = await observe({ records: CLEAN }, { queryBudget: 5, query: async (s, n, t, o) => (asked.push(n), (await import("./world.js")).answer({ records: CLEAN }, s, n, t, o.recursion)) });
    expect(asked.length).toBe(5);
    expect(obs.budget).toEqual({ limit: 5, used: 5, exhausted: true });
    expect(lookupRules(obs).map((f) => f.id)).toEqual(["lint-incomplete"]);
  });
});
