/** `mailpool demo`, the newcomer's first command, as a child process (built CLI). */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const BIN = join(import.meta.dirname, "../../dist/src/cli/bin.js");

describe("mailpool demo", () => {
  it("removes a dead member, reinstates it, hands a dead member's place to its standby and back, and ends by itself", async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [BIN, "demo"], { env: { ...process.env, NO_COLOR: "1" }, timeout: 90_000 }, (err, out) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: out }),
      );
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/- A {4}remove 127\.0\.0\.12: smtp2 \(127\.0\.0\.12\) is down: .*connection refused/);
    expect(stdout).toMatch(/\+ A {4}reinstate 127\.0\.0\.12: smtp2 \(127\.0\.0\.12\) is up again/);
    expect(stdout).toContain("~ A    takeover 127.0.0.22 → 127.0.0.29");
    expect(stdout).toContain("~ A    restore 127.0.0.22 (standby 127.0.0.29 steps aside)");
    expect(stdout).toContain("standby 127.0.0.29 (for imap2): up");
    expect(stdout).toMatch(/Done in \d+ cycles/);
  });
});
