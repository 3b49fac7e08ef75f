/**
 * The rewritten zone keeps its owner and group, even when mailpool is not root. These tests run
 * the built provider (dist/, made by `npm test`) in a child process. The first runs as whoever
 * runs the suite; the others drop to another uid/gid, which needs root to set up (CI runs as
 * root): for anyone else they are reported as skipped, by name, with that reason.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { zoneCopy } from "./zone-test-kit.js";

const DIST = join(import.meta.dirname, "../../../dist/providers/zonefile/index.js");
const USER = 3333;
const PRIMARY_GROUP = 4444;
const ZONE_GROUP = 2222; // the user is a supplementary member, as with `usermod -aG bind`
const OTHER_GROUP = 5555;

/**
 * In a child that drops to uid, primary gid and supplementary groups (starting as root), replace
 * smtp.example.com's A RRset with one address.
 */
const SCRIPT = `
const who = JSON.parse(process.argv[3]);
if (who) {
  const [uid, gid, groups] = who;
  process.setgroups(groups);
  process.setgid(gid);
  process.setuid(uid);
}
const { create } = await import(process.argv[1]);
const ctx = { name: "zone", controllerId: "t", pools: [{ name: "smtp.example.com", recordStyle: "simple" }], env: {},
  logger: { debug() {}, info() {}, warn() {}, error() {} } };
const p = await create({ type: "zonefile", path: process.argv[2] }, ctx);
const key = { name: "smtp.example.com", type: "A" };
const [before] = await p.read([key], AbortSignal.timeout(5000));
try {
  await p.apply([{ key, before, after: { ttl: 300, values: ["192.0.2.11"] }, pool: key.name }], AbortSignal.timeout(5000));
  console.log("applied");
} catch (e) { console.log("refused: " + e.message); }
`;

/** Run SCRIPT as uid/gid/groups (root only), or as the current user when `who` is null. */
function runAs(who: [number, number, number[]] | null, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", SCRIPT, DIST, path, JSON.stringify(who)], { timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const ROOT = process.getuid?.() === 0;

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first (npm test does)`);
  if (!ROOT) console.warn("ownership.test.ts: the tests that run mailpool under other uids/gids need root and are skipped (CI runs them as root)");
});

async function zoneOwnedBy(uid: number, gid: number, mode: number) {
  const copy = await zoneCopy();
  cleanups.push(copy.cleanup);
  await chmod(copy.dir, 0o777);
  await chown(copy.path, uid, gid);
  await chmod(copy.path, mode);
  return copy;
}

describe("zone file owner and group", () => {
  it("keeps the owner, group and mode of a zone owned by whoever runs mailpool", async () => {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const { path } = await zoneOwnedBy(uid, gid, 0o640);
    expect(await runAs(null, path)).toBe("applied");
    const st = await stat(path);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([uid, gid, 0o640]);
    expect(await readFile(path, "latin1")).toMatch(/smtp\.example\.com\.\t300\tIN\tA\t192\.0\.2\.11/);
  });

  it.runIf(ROOT)("a non-root mailpool in the file's group keeps the group (needs root to set up)", async () => {
    const { path } = await zoneOwnedBy(0, ZONE_GROUP, 0o660);
    expect(await runAs([USER, PRIMARY_GROUP, [ZONE_GROUP]], path)).toBe("applied");
    const st = await stat(path);
    expect(st.gid).toBe(ZONE_GROUP);
    expect(st.mode & 0o777).toBe(0o660);
    expect(await readFile(path, "latin1")).toMatch(/smtp\.example\.com\.\t300\tIN\tA\t192\.0\.2\.11/);
  });

  it.runIf(ROOT)("refuses to write a zone the name server could no longer read (needs root to set up)", async () => {
    const { path } = await zoneOwnedBy(USER, OTHER_GROUP, 0o660);
    const before = await readFile(path);
    const out = await runAs([USER, PRIMARY_GROUP, []], path);
    expect(out).toMatch(/^refused: cannot keep the owner 3333:5555 of .* nothing was written/);
    expect(await readFile(path)).toEqual(before);
    expect((await stat(path)).gid).toBe(OTHER_GROUP);
  });

  it.runIf(ROOT)("root keeps owner and group as they were (needs root)", async () => {
    const { path } = await zoneOwnedBy(USER, OTHER_GROUP, 0o640);
    expect(await runAs([0, 0, [0]], path)).toBe("applied");
    const st = await stat(path);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([USER, OTHER_GROUP, 0o640]);
  });
});
