import { describe, expect, it } from "vitest";
import { coverageRules } from "../../src/lint/rules/coverage.js";
import { CLEAN, edit, observe } from "./world.js";

describe("pool coverage rules", () => {
  it("do nothing without a config", async () => {
    expect(coverageRules(await observe({ records: CLEAN }))).toEqual([]);
  });

  it("find nothing when every pool is reached and every in-domain MX host is a pool", async () => {
    const obs = await observe({ records: CLEAN }, { pools: [{ name: "mx1.example.com" }, { name: "imap.example.com" }] });
    expect(coverageRules(obs)).toEqual([]);
  });

  it("count a pool reached through a service name's CNAME, or an SRV target", async () => {
    const records = edit(["smtp."], ["smtp.example.com 300 CNAME rr.example.com", "rr.example.com 300 A 192.0.2.25"]);
    const obs = await observe({ records: edit(["_imaps"], ["_imaps._tcp.example.com 3600 SRV 0 1 993 imaps-rr.example.com", "imaps-rr.example.com 300 A 192.0.2.25"], records) }, {
      pools: [{ name: "mx1.example.com" }, { name: "rr.example.com" }, { name: "imaps-rr.example.com" }],
    });
    expect(coverageRules(obs)).toEqual([]);
  });

  it("report a pool nothing reaches, and an MX host no pool protects", async () => {
    const obs = await observe({ records: CLEAN }, { pools: [{ name: "spare.example.com" }] });
    expect(coverageRules(obs).map((f) => [f.id, f.severity, f.subject])).toEqual([
      ["pool-unreached", "warning", "spare.example.com"],
      ["mx-unprotected", "info", "mx1.example.com"],
    ]);
  });
});
