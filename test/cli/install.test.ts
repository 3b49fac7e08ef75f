/**
 * The README's install step puts `mailpool` on PATH: `npm install -g .` from the checkout (here
 * into a temporary prefix, offline, after the build `npm test` does) gives a `mailpool` command
 * that runs and validates the shipped example from any folder.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
let prefix: string;

const run = (cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(cmd, args, { timeout: 120_000, ...opts }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr })),
  );

beforeAll(async () => {
  if (!existsSync(join(ROOT, "dist/src/cli/bin.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
  prefix = await mkdtemp(join(tmpdir(), "mailpool-install-"));
});
afterAll(async () => {
  await rm(prefix, { recursive: true, force: true });
});

describe("npm install -g .", () => {
  it("puts a working mailpool on PATH", async () => {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const installed = await run(npm, ["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "."], { cwd: ROOT });
    expect(installed.code, installed.stderr).toBe(0);
    const env = { ...process.env, PATH: `${join(prefix, "bin")}${delimiter}${process.env.PATH ?? ""}` };
    const version = await run("mailpool", ["--version"], { env, cwd: tmpdir() });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const valid = await run("mailpool", ["validate", "-c", join(ROOT, "config/example.yaml"), "--output", "json"], { env, cwd: tmpdir() });
    expect(JSON.parse(valid.stdout)).toMatchObject({ ok: true, pools: 3 });
  });
});
