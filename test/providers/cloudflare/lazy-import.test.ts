/**
 * The Cloudflare SDK is loaded only when a Cloudflare provider is created.
 *
 * The check: providers/cloudflare/index.ts is bundled with esbuild (everything inlined except
 * "cloudflare"), then run in a fresh Node process whose "cloudflare" package is a stand-in that
 * counts how often it is loaded. Importing the module must leave the count at 0; create() must
 * raise it to 1. The same harness run on an entry that imports "cloudflare" at top level shows
 * a count of 1 before create() — so the check does fail when the rule is broken.
 */
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const entry = join(root, "providers/cloudflare/index.ts");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mailpool-cf-lazy-"));
  const pkg = join(dir, "node_modules", "cloudflare");
  await mkdir(pkg, { recursive: true });
  await writeFile(join(pkg, "package.json"), JSON.stringify({ name: "cloudflare", type: "module", exports: "./index.js" }));
  await writeFile(
    join(pkg, "index.js"),
    [
      "globalThis.__cloudflareLoads = (globalThis.__cloudflareLoads ?? 0) + 1;",
      "export default class Cloudflare { constructor(options) { globalThis.__cloudflareOptions = options; } }",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "probe.mjs"),
    [
      "const mod = await import(process.argv[2]);",
      "const before = globalThis.__cloudflareLoads ?? 0;",
      "const ctx = { name: 'cf', controllerId: 'c', pools: [], env: {}, logger: { debug() {}, info() {}, warn() {}, error() {} } };",
      "const provider = await mod.create({ type: 'cloudflare', zoneId: '0'.repeat(32), apiToken: 't' }, ctx);",
      "const after = globalThis.__cloudflareLoads ?? 0;",
      "console.log(JSON.stringify({ before, after, kind: provider.kind, baseURL: globalThis.__cloudflareOptions?.baseURL }));",
    ].join("\n"),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function bundleAndProbe(name: string, contents: string): Promise<{ before: number; after: number; kind: string; baseURL: string }> {
  const outfile = join(dir, `${name}.mjs`);
  await build({
    stdin: { contents, resolveDir: root, sourcefile: `${name}.ts`, loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: ["cloudflare"],
    outfile,
    logLevel: "silent",
  });
  const { stdout } = await promisify(execFile)(process.execPath, [join(dir, "probe.mjs"), outfile], { cwd: dir, timeout: 20_000 });
  return JSON.parse(stdout.trim()) as { before: number; after: number; kind: string; baseURL: string };
}

describe("Cloudflare SDK import", () => {
  it("is not loaded by importing the provider module, only by create()", async () => {
    const r = await bundleAndProbe("lazy", `export * from ${JSON.stringify(entry)};`);
    expect(r).toEqual({ before: 0, after: 1, kind: "cloudflare", baseURL: "https://api.cloudflare.com/client/v4" });
  });

  it("(control) the probe does see a top-level import of the SDK", async () => {
    const r = await bundleAndProbe("eager", `import "cloudflare";\nexport * from ${JSON.stringify(entry)};`);
    expect(r.before).toBe(1);
  });
});
