/**
 * A large zone costs memory in proportion to its size, and little of it: create the provider the
 * way the CLI does, read the pool's RRsets and apply one change on a generated 8 MiB zone (about
 * 190,000 records of every kind), in a child process of its own, and its peak RSS stays within
 * 10 times the file's size above a baseline child that does the same on a tiny zone. The parse
 * that kept an object per token and record, and verified every edit with a second full parse,
 * peaked near 90 times the size (about 700 MiB here).
 *
 * Memory, not time: the bound does not depend on the machine's speed or load. Runs the built
 * bench script (dist/, made by `npm test`).
 *
 * The children run with V8's young generation pinned small (`--max-semi-space-size=1`): its size
 * is V8's choice, not the zone's, and Node 24 and 26 let it grow ~50 MiB more than Node 20 in any
 * allocation-heavy phase (8 MiB zone, default flags: +52 MiB on Node 20, +100 MiB on Node 26,
 * of which +47 MiB remain with the pin). What is left is what the zone costs. bench/zone-memory
 * prints the default-flag figures (test/RELIABILITY.md has them for 8 to 32 MiB).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateZone, measure, POOL } from "../../../bench/zone-memory.js";
import { parseZone, rrsetOf } from "../../../providers/zonefile/index.js";

const SCRIPT = join(import.meta.dirname, "../../../dist/bench/zone-memory.js");
const MiB = 1024 * 1024;
const FLAGS = ["--max-semi-space-size=1"];

let dir: string;
beforeAll(async () => {
  if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run \`npm run build\` first (npm test does)`);
  dir = await mkdtemp(join(tmpdir(), "mailpool-zone-memory-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("zone-file memory", () => {
  it("create + read + apply on an 8 MiB zone peaks within 10x the file's size above a child that does the same on a tiny zone", async () => {
    const tiny = join(dir, "tiny.zone");
    const big = join(dir, "big.zone");
    await writeFile(tiny, generateZone(4096), "latin1");
    const text = generateZone(8 * MiB);
    await writeFile(big, text, "latin1");

    // Two baseline children: their spread is the noise of a child's peak.
    const base = [measure(tiny, tiny, SCRIPT, FLAGS), measure(tiny, tiny, SCRIPT, FLAGS)];
    const zone = measure(big, tiny, SCRIPT, FLAGS);
    const baseline = Math.max(...base.map((b) => b.maxRss));
    const noise = Math.abs((base[0]?.maxRss ?? 0) - (base[1]?.maxRss ?? 0));
    const growth = zone.maxRss - baseline;
    const report = `peak +${(growth / MiB).toFixed(1)} MiB for ${(zone.bytes / MiB).toFixed(1)} MiB (${(growth / zone.bytes).toFixed(1)}x), baseline noise ${(noise / MiB).toFixed(1)} MiB`;

    console.log(`zone-memory: ${report}`);
    expect(zone.bytes).toBeGreaterThanOrEqual(8 * MiB);
    // The noise is small next to the bound, or the figure would mean nothing.
    expect(noise, report).toBeLessThan(2 * MiB + zone.bytes);
    expect(growth + 2 * noise, report).toBeLessThanOrEqual(10 * zone.bytes);
    // The same figure measured inside the zone child, against its own warmed-up baseline.
    expect(zone.maxRss - zone.baselineRss, report).toBeLessThanOrEqual(10 * zone.bytes);

    // And the child did the work: one change, the rest of the zone as it was.
    const after = await readFile(big, "latin1");
    const a = rrsetOf(parseZone(after), { name: POOL, type: "A" });
    expect(a?.values).toHaveLength(3);
    expect(a?.values.slice(0, 2)).toEqual(["192.0.2.11", "192.0.2.12"]);
    expect(Math.abs(after.length - text.length)).toBeLessThan(100);
    expect(after.slice(-1_000_000)).toBe(text.slice(-1_000_000));
  }, 60_000);
});
