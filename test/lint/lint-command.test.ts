import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { configDomains, runLintCommand } from "../../src/lint/lint-command.js";
import { CLEAN, edit, fakeProber, worldQuery } from "./world.js";

const config = (providers: string, pools: string[]) =>
  parseConfig(
    `controllerId: t\nproviders: ${providers}\npools:\n${pools.map((p) => `  - { name: ${p}, provider: p, checks: [smtp], members: [{ address: 192.0.2.1 }] }`).join("\n")}\n`,
  );

function sink(): { out: Writable; text: () => string } {
  let text = "";
  return {
    out: new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    }),
    text: () => text,
  };
}

describe("configDomains", () => {
  it("takes a provider's zone when the pool is in it, else the pool name's parent", () => {
    expect(configDomains(config("{ p: { type: memory } }", ["smtp.example.com", "imap.example.com", "mx.mail.example.org"]))).toEqual(["example.com", "mail.example.org"]);
    expect(configDomains(config("{ p: { type: zonefile, path: z.db, origin: example.org } }", ["smtp.mail.example.org"]))).toEqual(["example.org"]);
  });
});

describe("runLintCommand", () => {
  const ctx = (world = { records: CLEAN }) => ({ output: "text" as const, query: worldQuery(world), probe: fakeProber(), systemResolvers: () => ["127.0.0.53"] });

  it("lints with the system's first resolver and exits 0 on a clean domain", async () => {
    const s = sink();
    expect(await runLintCommand(["example.com"], {}, { ...ctx(), out: s.out })).toBe(0);
    expect(s.text()).toMatch(/^example\.com: no findings \(\d+ DNS queries of 300, 1 RCPT check\)\n/);
  });

  it("exits by --fail-on: an info finding fails only with --fail-on info", async () => {
    const nullMx = { records: edit(["example.com 3600 MX"], ["example.com 3600 MX 0 ."]) };
    expect(await runLintCommand(["example.com"], {}, { ...ctx(nullMx), out: sink().out })).toBe(0);
    expect(await runLintCommand(["example.com"], { failOn: "warning" }, { ...ctx(nullMx), out: sink().out })).toBe(0);
    expect(await runLintCommand(["example.com"], { failOn: "info" }, { ...ctx(nullMx), out: sink().out })).toBe(1);
  });

  it("judges the config's pools in the domain it lints", async () => {
    const s = sink();
    const loadConfig = () => config("{ p: { type: memory } }", ["spare.example.com"]);
    await runLintCommand([], { failOn: "warning" }, { ...ctx(), out: s.out, output: "json", loadConfig });
    const report = JSON.parse(s.text()) as { domains: { domain: string; findings: { id: string }[] }[] };
    expect(report.domains.map((d) => [d.domain, d.findings.map((f) => f.id)])).toEqual([["example.com", ["pool-unreached", "mx-unprotected"]]]);
  });

  it("refuses a bad --fail-on and a system without resolver", async () => {
    await expect(runLintCommand(["example.com"], { failOn: "fatal" }, { ...ctx(), out: sink().out })).rejects.toThrow('--fail-on: "fatal" is not one of error, warning, info');
    await expect(runLintCommand(["example.com"], {}, { ...ctx(), systemResolvers: () => [], out: sink().out })).rejects.toThrow("--resolver: the system has no resolver configured");
  });
});
