/**
 * The provider reuses its last parse when the file holds the same bytes (so create, read and
 * apply do not each keep a copy of a large zone), and only then: a change that keeps the size and
 * the modification time is still seen.
 */
import { readFile, stat, utimes, writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { RRsetKey } from "../../../providers/types.js";
import { create } from "../../../providers/zonefile/index.js";
import { context, signal, zoneCopy } from "./zone-test-kit.js";

const SMTP_A: RRsetKey = { name: "smtp.example.com", type: "A" };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe("reusing the last parse", () => {
  it("reuses it for the same bytes, and sees a same-size edit that kept the modification time", async () => {
    const { path, cleanup } = await zoneCopy();
    cleanups.push(cleanup);
    const when = new Date("2026-11-24T10:00:00Z");
    await utimes(path, when, when);
    const p = await create({ type: "zonefile", path }, context());
    const first = await p.load();
    expect((await p.load()).zone).toBe(first.zone);

    const text = await readFile(path, "latin1");
    const st = await stat(path);
    const edited = text.replace("192.0.2.10", "192.0.2.19");
    expect(edited.length).toBe(text.length);
    await writeFile(path, edited, "latin1");
    await utimes(path, when, when);
    expect((await stat(path)).mtimeMs).toBe(st.mtimeMs);

    const [a] = await p.read([SMTP_A], signal());
    expect(a?.values).toContain("192.0.2.19");
    expect(a?.values).not.toContain("192.0.2.10");
    expect((await p.load()).zone).not.toBe(first.zone);
  });
});
