/**
 * The executable turns on Node's compile cache where Node has one (22.1 and later): a run leaves
 * the compiled modules under the temporary folder, and NODE_DISABLE_COMPILE_CACHE=1 keeps it off.
 * On Node 20, which has no compile cache, the same run simply works and leaves nothing.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import module from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it, onTestFinished } from "vitest";

const BIN = join(import.meta.dirname, "../../dist/src/cli/bin.js");
const HAS_CACHE = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === "function";

async function runIn(env: Record<string, string>): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), "mailpool-compile-cache-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("NODE_COMPILE_CACHE") && k !== "NODE_DISABLE_COMPILE_CACHE"));
  const out = execFileSync(process.execPath, [BIN, "schema"], { env: { ...clean, TMPDIR: dir, ...env }, encoding: "utf8" });
  expect(JSON.parse(out)).toHaveProperty("properties.controllerId");
  const cache = join(dir, "node-compile-cache");
  return existsSync(cache) ? readdirSync(cache, { recursive: true }).map(String) : [];
}

it(`${HAS_CACHE ? "writes" : "runs without"} Node's compile cache in the temporary folder, and not with NODE_DISABLE_COMPILE_CACHE=1 (${process.version})`, async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  const on = await runIn({});
  if (HAS_CACHE) expect(on.length).toBeGreaterThan(1);
  else expect(on).toEqual([]);
  expect(await runIn({ NODE_DISABLE_COMPILE_CACHE: "1" })).toEqual([]);
});
