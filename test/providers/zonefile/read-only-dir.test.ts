/**
 * A zone file in a folder mailpool may not write to (mode 0555, the file 0444): apply fails with
 * an error naming the file and EACCES, changes nothing, leaves no lock or temp file, fails the
 * same way again, and converges once the folder is writable. File modes bind only a non-root
 * process, so the provider (dist/, made by `npm test`) runs in a child: as the current user, or,
 * when the suite runs as root (CI), as an unprivileged uid it drops to. The read-only mount
 * (which binds root too) is test/integration/read-only-zone.test.ts.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { listDir, zoneCopy } from "./zone-test-kit.js";

const DIST = join(import.meta.dirname, "../../../dist/providers/zonefile/index.js");
const ROOT = process.getuid?.() === 0;
const USER = 3334;

/** In a child (as `uid` when given): create, read smtp.example.com A, replace it with one address. */
const SCRIPT = `
const uid = JSON.parse(process.argv[3]);
if (uid !== null) {
  process.setgroups([]);
  process.setgid(uid);
  process.setuid(uid);
}
const { create } = await import(process.argv[1]);
const ctx = { name: "zone", controllerId: "t", pools: [{ name: "smtp.example.com", recordStyle: "simple" }], env: {},
  logger: { debug() {}, info() {}, warn() {}, error() {} } };
const p = await create({ type: "zonefile", path: process.argv[2], lockTimeoutMs: 2000 }, ctx);
const key = { name: "smtp.example.com", type: "A" };
const [before] = await p.read([key], AbortSignal.timeout(5000));
try {
  const r = await p.apply([{ key, before, after: { ttl: 300, values: ["192.0.2.11"] }, pool: key.name }], AbortSignal.timeout(5000));
  console.log(JSON.stringify({ applied: r.applied }));
} catch (e) { console.log(JSON.stringify({ error: e.message, name: e.constructor.name, transient: e.transient })); }
`;

const run = (path: string): Promise<{ applied?: number; error?: string; name?: string; transient?: boolean }> =>
  new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", SCRIPT, DIST, path, JSON.stringify(ROOT ? USER : null)], { timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim())),
    );
  });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first (npm test does)`);
});

describe("a zone file in a read-only folder", () => {
  it("apply fails naming the file and EACCES, changes nothing, leaves nothing behind, and converges once writable", async () => {
    const { dir, path, cleanup } = await zoneCopy();
    cleanups.push(async () => {
      await chmod(dir, 0o755);
      await cleanup();
    });
    if (ROOT) {
      await chown(dir, USER, USER);
      await chown(path, USER, USER);
    }
    const original = await readFile(path, "latin1");
    await chmod(path, 0o444);
    await chmod(dir, 0o555);

    for (const attempt of [1, 2]) {
      const out = await run(path);
      expect(out, `attempt ${attempt}`).toMatchObject({ name: "ProviderError", transient: false });
      expect(out.error, `attempt ${attempt}`).toContain(`${path}.lock`);
      expect(out.error, `attempt ${attempt}`).toMatch(/EACCES: permission denied/);
      expect(await readFile(path, "latin1"), `attempt ${attempt}: the zone changed`).toBe(original);
      expect(await listDir(dir), `attempt ${attempt}: files left behind`).toEqual(["example.com.zone"]);
    }

    await chmod(dir, 0o755);
    expect(await run(path)).toEqual({ applied: 1 });
    const text = await readFile(path, "latin1");
    expect(text).toMatch(/^smtp\.example\.com\.\t300\tIN\tA\t192\.0\.2\.11$/m);
    expect(text).not.toMatch(/192\.0\.2\.1[02]\b/);
    expect(await listDir(dir)).toEqual(["example.com.zone"]);
  });
});
