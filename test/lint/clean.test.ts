import { describe, expect, it } from "vitest";
import { RULES, lint } from "../../src/lint/rules/index.js";
import { CLEAN, observe } from "./world.js";

describe("a clean domain", () => {
  it("gives no finding from any rule, with or without pools", async () => {
    const obs = await observe({ records: CLEAN }, { pools: [{ name: "mx1.example.com" }, { name: "smtp.example.com" }] });
    for (const rule of RULES) expect(rule(obs), rule.name).toEqual([]);
    expect(lint(await observe({ records: CLEAN }))).toEqual([]);
  });
});
