import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderLintJson, renderLintText, type DomainReport } from "../../src/lint/render.js";
import { lint } from "../../src/lint/rules/index.js";
import { CLEAN, edit, fakeProber, observe } from "./world.js";

const GOLDEN = join(import.meta.dirname, "../golden/lint");
/** Compares with the golden file; UPDATE_GOLDEN=1 rewrites it. */
function golden(file: string, text: string): void {
  const path = join(GOLDEN, file);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, "utf8"));
}

async function reports(): Promise<DomainReport[]> {
  const broken = await observe(
    { records: edit(["example.com 3600 MX 10", "25.2.0.192"], ["example.com 3600 MX 10 mail.example.com", "mail.example.com 3600 CNAME mx1.example.com"]) },
    { probe: fakeProber({ "198.51.100.25": { ok: false, reason: "RCPT TO:<postmaster@example.com> refused: 550 5.7.1 Relay access denied", rcptReply: "550 5.7.1 Relay access denied" } }) },
  );
  const clean = await observe({ records: CLEAN.map((l) => l.replaceAll("example.com", "example.org")) }, { domain: "example.org" });
  return [broken, clean].map((obs) => ({ domain: obs.domain, findings: lint(obs), queries: { used: obs.budget.used, limit: obs.budget.limit }, rcptChecks: obs.rcpt.length }));
}

describe("lint output", () => {
  it("groups findings by severity, with evidence, fix and RFC, in text (golden file)", async () => {
    golden("report.txt", renderLintText(await reports(), { color: false }));
  });

  it("is stable JSON for programs (golden file)", async () => {
    golden("report.json", renderLintJson(await reports()));
  });

  it("colours severities only when asked", async () => {
    const r = await reports();
    expect(renderLintText(r, { color: true })).toContain("\x1b[31;1merror\x1b[0m");
    expect(renderLintText(r, { color: false })).not.toContain("\x1b[");
  });
});
