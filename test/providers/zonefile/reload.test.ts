import { access, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../../providers/types.js";
import type { RRsetKey } from "../../../providers/types.js";
import { create } from "../../../providers/zonefile/index.js";
import type { ZonefileProvider } from "../../../providers/zonefile/index.js";
import { context, signal, zoneCopy } from "./zone-test-kit.js";

const SMTP_A: RRsetKey = { name: "smtp.example.com", type: "A" };
const NOW = new Date("2026-11-24T10:00:00Z");

/**
 * A stand-in for `rndc reload`: appends a line to runs.log; fails with rndc's words on stderr
 * unless the file `healthy` exists in the folder.
 */
const SCRIPT = `
const fs = require("node:fs"), path = require("node:path");
const dir = process.argv[1];
fs.appendFileSync(path.join(dir, "runs.log"), process.argv.slice(2).join(" ") + "\\n");
if (!fs.existsSync(path.join(dir, "healthy"))) {
  process.stderr.write("rndc: connect failed: 127.0.0.1#953: connection refused\\n");
  process.exit(1);
}`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const exists = (p: string) => access(p).then(() => true, () => false);

async function setup(opts: { healthy: boolean; reloadTimeoutMs?: number; command?: string[] }) {
  const copy = await zoneCopy();
  cleanups.push(copy.cleanup);
  if (opts.healthy) await writeFile(join(copy.dir, "healthy"), "");
  const reloadCommand = opts.command ?? [process.execPath, "-e", SCRIPT, copy.dir, "reload", "example.com"];
  const provider = await create(
    { type: "zonefile", path: copy.path, reloadCommand, reloadTimeoutMs: opts.reloadTimeoutMs ?? 10_000 },
    context(),
    { now: () => NOW },
  );
  const runs = async () => (await readFile(join(copy.dir, "runs.log"), "utf8").catch(() => "")).split("\n").filter(Boolean);
  return { ...copy, provider, reloadCommand, runs, stamp: `${copy.path}.reload-pending` };
}

async function remove(provider: ZonefileProvider, address: string) {
  const [before] = await provider.read([SMTP_A], signal());
  const values = (before?.values ?? []).filter((v) => v !== address);
  return provider.apply([{ key: SMTP_A, before: before ?? null, after: { ttl: 300, values }, pool: SMTP_A.name }], signal());
}

describe("zonefile reloadCommand", () => {
  it("runs the command without a shell after a write and notes it", async () => {
    const { provider, runs, stamp } = await setup({ healthy: true });
    const result = await remove(provider, "192.0.2.10");
    expect(await runs()).toEqual(["reload example.com"]);
    expect(result.notes.at(-1)).toMatch(/^reloaded: .*node -e .* reload example\.com$/);
    expect(await exists(stamp)).toBe(false);
  });

  it("reports a failed reload with the command, exit code and stderr, keeps the write, and retries at the start of each writing cycle until it succeeds", async () => {
    const { provider, runs, stamp, dir, path } = await setup({ healthy: false });
    const error = await remove(provider, "192.0.2.10").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).transient).toBe(false);
    const message = (error as Error).message;
    expect(message).toMatch(/^zone written \(serial 2026112402\) but reload failed: `.*node -e .* reload example\.com` exited with code 1: /);
    expect(message).toContain("rndc: connect failed: 127.0.0.1#953: connection refused");
    expect(await readFile(path, "utf8")).toContain("2026112402 ; serial");
    expect(await exists(stamp)).toBe(true);
    expect(await runs()).toHaveLength(1);

    // A read (what a dry run does) never runs the command.
    const [smtp] = await provider.read([SMTP_A], signal());
    expect(smtp?.values).toEqual(["192.0.2.11", "192.0.2.12"]);
    expect(await runs()).toHaveLength(1);

    // The next writing cycle sees the file already right; the pending reload is still tried.
    await expect(provider.finishPending(signal())).rejects.toThrow(/was written earlier .* but the reload still fails: .*connection refused/);
    expect(await runs()).toHaveLength(2);
    expect(await exists(stamp)).toBe(true);

    await writeFile(join(dir, "healthy"), "");
    expect(await provider.finishPending(signal())).toEqual([expect.stringMatching(/^reloaded: .* \(pending from an earlier write\)$/)]);
    expect(await runs()).toHaveLength(3);
    expect(await exists(stamp)).toBe(false);

    // Nothing pending any more: nothing runs.
    expect(await provider.finishPending(signal())).toEqual([]);
    expect(await runs()).toHaveLength(3);
  });

  it("a failed reload does not block the next write, which reloads again and clears the stamp", async () => {
    const { provider, runs, stamp, dir } = await setup({ healthy: false });
    const first = await remove(provider, "192.0.2.10").catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ProviderError);
    // What was written travels with the failure, so the report does not call it "not applied".
    expect((first as ProviderError).applied).toMatchObject({ applied: 1, notes: expect.arrayContaining(["serial 2026112401 → 2026112402"]) });

    // Still failing: the next dead member leaves all the same; the reload failure is reported again.
    await expect(remove(provider, "192.0.2.11")).rejects.toThrow(/reload failed/);
    const [smtp] = await provider.read([SMTP_A], signal());
    expect(smtp?.values).toEqual(["192.0.2.12"]);
    expect(await runs()).toHaveLength(2);

    await writeFile(join(dir, "healthy"), "");
    const ok = await remove(provider, "192.0.2.12");
    expect(ok.notes.at(-1)).toMatch(/^reloaded: /);
    expect(await runs()).toHaveLength(3);
    expect(await exists(stamp)).toBe(false);
  });

  it("kills a reload that outlasts reloadTimeoutMs and says so", async () => {
    const { provider, stamp } = await setup({
      healthy: true,
      reloadTimeoutMs: 300,
      command: [process.execPath, "-e", "setTimeout(() => {}, 20000)"],
    });
    await expect(remove(provider, "192.0.2.10")).rejects.toThrow(/reload failed: `.*` timed out after 300 ms and was killed/);
    expect(await exists(stamp)).toBe(true);
  });

  it("reports a command that cannot start", async () => {
    const { provider } = await setup({ healthy: true, command: ["/nonexistent/rndc", "reload"] });
    await expect(remove(provider, "192.0.2.10")).rejects.toThrow(/reload failed: `\/nonexistent\/rndc reload` could not run \(ENOENT/);
  });
});
