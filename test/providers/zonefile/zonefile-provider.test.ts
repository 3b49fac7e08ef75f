import { spawn } from "node:child_process";
import { chmod, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConflictError, ProviderConfigError, ProviderError } from "../../../providers/types.js";
import type { ProviderModule, RRsetChange, RRsetKey } from "../../../providers/types.js";
import * as zonefileModule from "../../../providers/zonefile/index.js";
import { create, parseZone } from "../../../providers/zonefile/index.js";
import type { ZonefileDeps, ZonefileProvider } from "../../../providers/zonefile/index.js";
import { context, lineDiff, listDir, signal, zoneCopy } from "./zone-test-kit.js";

const SMTP_A: RRsetKey = { name: "smtp.example.com", type: "A" };
const IMAP_A: RRsetKey = { name: "imap.example.com", type: "A" };
const NOW = new Date("2026-11-24T10:00:00Z");

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(deps: ZonefileDeps = {}, extra: Record<string, unknown> = {}) {
  const copy = await zoneCopy();
  cleanups.push(copy.cleanup);
  const provider = await create(
    { type: "zonefile", path: copy.path, lockTimeoutMs: 2000, ...extra },
    context(["smtp.example.com", "imap.example.com"]),
    { now: () => NOW, lockPollMs: 10, ...deps },
  );
  return { ...copy, provider, original: await readFile(copy.path, "latin1") };
}

async function changeTo(provider: ZonefileProvider, key: RRsetKey, values: string[] | null): Promise<RRsetChange> {
  const [before] = await provider.read([key], signal());
  return { key, before: before ?? null, after: values ? { ttl: 300, values } : null, pool: key.name };
}

/** A child process that stays alive until killed: a pid that is certainly live. */
function liveProcess() {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  cleanups.push(async () => {
    child.kill("SIGKILL");
  });
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid as number;
}

describe("zonefile provider: read", () => {
  it("is a ProviderModule whose provider says it is a zonefile", async () => {
    const mod: ProviderModule<zonefileModule.ZonefileConfigInput> = zonefileModule;
    const { path } = await setup();
    expect((await mod.create({ type: "zonefile", path }, context())).kind).toBe("zonefile");
  });

  it("returns only the RRsets that exist, with native per-record TTLs", async () => {
    const { provider } = await setup();
    const got = await provider.read([SMTP_A, { name: "smtp.example.com", type: "AAAA" }, { name: "gone.example.com", type: "A" }], signal());
    expect(got.map((r) => [r.name, r.type, r.ttl, r.values])).toEqual([
      ["smtp.example.com", "A", 300, ["192.0.2.10", "192.0.2.11", "192.0.2.12"]],
      ["smtp.example.com", "AAAA", 300, ["2001:db8::10", "2001:db8::11"]],
    ]);
    expect(got[0]?.native).toEqual({
      records: [
        { value: "192.0.2.10", ttl: 300, line: 23 },
        { value: "192.0.2.11", ttl: 300, line: 24 },
        { value: "192.0.2.12", ttl: 300, line: 25 },
      ],
    });
  });

  it("refuses a name outside the zone", async () => {
    const { provider } = await setup();
    await expect(provider.read([{ name: "smtp.example.net", type: "A" }], signal())).rejects.toThrow(ProviderConfigError);
  });

  it("create() refuses a missing file, an $INCLUDE, and a pool outside the zone", async () => {
    const { dir, path } = await setup();
    await expect(create({ type: "zonefile", path: join(dir, "nope.zone") }, context())).rejects.toThrow(/does not exist/);
    await expect(create({ type: "zonefile", path }, context(["smtp.example.org"]))).rejects.toThrow(
      /pool smtp.example.org uses provider zone, but .* holds the zone example.com/,
    );
    await expect(create({ type: "zonefile", path, bogus: 1 } as never, context())).rejects.toThrow(ProviderConfigError);
    const included = join(dir, "inc.zone");
    await writeFile(included, "$TTL 300\n@ IN SOA ns hm 1 1 1 1 1\n\n$INCLUDE keys.zone\n");
    await expect(create({ type: "zonefile", path: included, origin: "example.com" }, context())).rejects.toThrow(
      `${included}:4: $INCLUDE keys.zone is not supported`,
    );
  });
});

describe("zonefile provider: apply", () => {
  it("removes and reinstates a member; only those lines and the serial change", async () => {
    const { provider, path, original, dir } = await setup();
    await chmod(path, 0o640);
    const removed = await provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.11", "192.0.2.12"])], signal());
    expect(removed).toEqual({
      applied: 1,
      notes: ["serial 2026112401 → 2026112402", `wrote ${path} (1 RRset change)`],
    });
    const afterRemove = await readFile(path, "latin1");
    const d1 = lineDiff(original, afterRemove);
    expect(d1.removed).toEqual([
      "                        2026112401 ; serial (YYYYMMDDnn)",
      "smtp    300     IN      A       192.0.2.10",
      "        300     IN      A       192.0.2.11",
      "        300             A       192.0.2.12      ; third member, added 2026-10",
    ]);
    expect(d1.added).toEqual([
      "                        2026112402 ; serial (YYYYMMDDnn)",
      "smtp.example.com.\t300\tIN\tA\t192.0.2.11",
      "smtp.example.com.\t300\tIN\tA\t192.0.2.12",
    ]);
    expect((await stat(path)).mode & 0o777).toBe(0o640);

    const reinstated = await provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.10", "192.0.2.11", "192.0.2.12"])], signal());
    expect(reinstated.notes[0]).toBe("serial 2026112402 → 2026112403");
    const afterReinstate = await readFile(path, "latin1");
    const d2 = lineDiff(original, afterReinstate);
    expect(d2.removed).toHaveLength(4);
    expect(d2.added).toEqual([
      "                        2026112403 ; serial (YYYYMMDDnn)",
      "smtp.example.com.\t300\tIN\tA\t192.0.2.10",
      "smtp.example.com.\t300\tIN\tA\t192.0.2.11",
      "smtp.example.com.\t300\tIN\tA\t192.0.2.12",
    ]);
    // Same records as the original, serial aside.
    const sig = (t: string) => parseZone(t).records.map((r) => `${r.owner} ${r.ttl} ${r.type} ${r.value ?? r.rdata.map((x) => x.text).join(" ")}`);
    expect(sig(afterReinstate).filter((s) => !s.includes(" SOA "))).toEqual(sig(original).filter((s) => !s.includes(" SOA ")));
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await listDir(dir)).toEqual(["example.com.zone"]);
  });

  it("moves a date serial to today", async () => {
    const { provider, path } = await setup({ now: () => new Date("2026-12-03T23:59:00Z") });
    const result = await provider.apply([await changeTo(provider, IMAP_A, null)], signal());
    expect(result.notes[0]).toBe("serial 2026112401 → 2026120300");
    expect(parseZone(await readFile(path, "latin1")).soa?.serial).toBe(2026120300);
  });

  it("refuses a change whose before differs from the file and leaves the file byte-identical", async () => {
    const { provider, path, original, dir } = await setup();
    const good = await changeTo(provider, IMAP_A, null);
    const stale = await changeTo(provider, SMTP_A, ["192.0.2.11"]);
    // Someone else edits the file between our read and our apply.
    const edited = original.replace("        300             A       192.0.2.12      ; third member, added 2026-10\n", "");
    await writeFile(path, edited, "latin1");
    const error = await provider.apply([good, stale], signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).key).toEqual(SMTP_A);
    expect((error as Error).message).toMatch(/^smtp\.example\.com A changed since it was read/);
    expect(await readFile(path, "latin1")).toBe(edited);
    expect(await listDir(dir)).toEqual(["example.com.zone"]);
  });

  it("leaves the old file intact and no temp file behind when it crashes between write and rename", async () => {
    let temp = "";
    const { provider, path, original, dir } = await setup({
      beforeRename: async (t) => {
        temp = t;
        expect((await readFile(t, "latin1")).includes("2026112402")).toBe(true);
        throw new Error("simulated crash before rename");
      },
    });
    await expect(provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.11"])], signal())).rejects.toThrow(
      "simulated crash before rename",
    );
    expect(temp.startsWith(dir)).toBe(true);
    expect(await readFile(path, "latin1")).toBe(original);
    expect(await listDir(dir)).toEqual(["example.com.zone"]); // no temp file, no lock file
  });

  it("refuses to rename over a file someone changed without taking the lock", async () => {
    let path = "";
    const { provider, ...rest } = await setup({
      beforeRename: async () => {
        await writeFile(path, "; an operator's hurried edit\n", { flag: "a" });
      },
    });
    path = rest.path;
    await expect(provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.11"])], signal())).rejects.toThrow(
      /was changed by someone not holding .*\.lock/,
    );
    expect(await readFile(path, "latin1")).toBe(`${rest.original}; an operator's hurried edit\n`);
    expect(await listDir(rest.dir)).toEqual(["example.com.zone"]);
  });

  it("notices an unlocked edit of the same size even when the mtime is put back", async () => {
    let path = "";
    const { provider, ...rest } = await setup({
      beforeRename: async () => {
        const text = await readFile(path, "latin1");
        await writeFile(path, text.replace("192.0.2.12", "192.0.2.99"), "latin1"); // same length
        await utimes(path, ROUND, ROUND); // and the very same mtime
        expect((await stat(path)).mtimeMs).toBe(ROUND * 1000);
      },
    });
    path = rest.path;
    const ROUND = 1_790_000_000; // whole seconds, so the timestamp can be put back exactly
    await utimes(path, ROUND, ROUND);
    await expect(provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.11"])], signal())).rejects.toThrow(
      /was changed by someone not holding .*\.lock/,
    );
    expect(await readFile(path, "latin1")).toContain("192.0.2.99");
  });

  it("does nothing and bumps no serial when the file already holds the changes", async () => {
    const { provider, path, original } = await setup();
    const result = await provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.10", "192.0.2.11", "192.0.2.12"])], signal());
    expect(result.applied).toBe(0);
    expect(await readFile(path, "latin1")).toBe(original);
  });
});

describe("zonefile provider: lock", () => {
  it("makes a second concurrent apply wait for the first; both changes land", async () => {
    const events: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const first = await setup({
      beforeRename: async () => {
        events.push("first writing");
        await gate;
      },
    });
    const second = await create({ type: "zonefile", path: first.path, lockTimeoutMs: 5000 }, context(), {
      now: () => NOW,
      lockPollMs: 10,
      beforeRename: () => {
        events.push("second writing");
      },
    });
    const c1 = await changeTo(first.provider, SMTP_A, ["192.0.2.11", "192.0.2.12"]);
    const c2 = await changeTo(second, IMAP_A, ["192.0.2.21"]);
    const p1 = first.provider.apply([c1], signal());
    while (!events.includes("first writing")) await new Promise((r) => setTimeout(r, 5));
    const p2 = second.apply([c2], signal());
    await new Promise((r) => setTimeout(r, 300));
    expect(events).toEqual(["first writing"]);
    const holder = JSON.parse(await readFile(`${first.path}.lock`, "utf8")) as { pid: number; since: string };
    expect(holder.pid).toBe(process.pid);
    expect(holder.since).toBe(NOW.toISOString());
    open();
    const [r1, r2] = await Promise.all([p1, p2]);
    expect(events).toEqual(["first writing", "second writing"]);
    expect(r1.notes[0]).toBe("serial 2026112401 → 2026112402");
    expect(r2.notes[0]).toBe("serial 2026112402 → 2026112403");
    const after = await first.provider.read([SMTP_A, IMAP_A], signal());
    expect(after.map((r) => r.values)).toEqual([["192.0.2.11", "192.0.2.12"], ["192.0.2.21"]]);
    expect(await listDir(first.dir)).toEqual(["example.com.zone"]);
  });

  it("takes over a stale lock whose process is dead", async () => {
    const { provider, path, dir } = await setup();
    const pid = await deadPid();
    await writeFile(`${path}.lock`, JSON.stringify({ pid, host: hostname(), since: "2026-11-01T00:00:00.000Z" }));
    const result = await provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.11"])], signal());
    expect(result.applied).toBe(1);
    expect(await listDir(dir)).toEqual(["example.com.zone"]);
  });

  it("gives up with a transient error naming the lock and its holder when a live lock outlasts lockTimeoutMs", async () => {
    const { dir, path, original } = await setup();
    const provider = await create({ type: "zonefile", path, lockTimeoutMs: 300 }, context(), { now: () => NOW, lockPollMs: 20 });
    const child = liveProcess();
    const lock = `${path}.lock`;
    await writeFile(lock, JSON.stringify({ pid: child.pid, host: hostname(), since: "2026-11-24T09:59:00.000Z" }));
    const error = await provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.11"])], signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).transient).toBe(true);
    expect((error as Error).message).toContain(`${lock} is held by pid ${child.pid} since 2026-11-24T09:59:00.000Z`);
    expect(await readFile(path, "latin1")).toBe(original);
    expect(await listDir(dir)).toEqual(["example.com.zone", "example.com.zone.lock"]);
  });

  it("never takes over a fresh lock from another host", async () => {
    const { path, original } = await setup();
    const provider = await create({ type: "zonefile", path, lockTimeoutMs: 200 }, context(), { now: () => NOW, lockPollMs: 20 });
    await writeFile(`${path}.lock`, JSON.stringify({ pid: await deadPid(), host: "elsewhere.invalid", since: "2026-11-24T09:58:00.000Z" }));
    await expect(provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.11"])], signal())).rejects.toThrow(/on elsewhere\.invalid/);
    expect(await readFile(path, "latin1")).toBe(original);
  });

  it("takes over a lock older than staleLockMs whatever its host (a CronJob pod killed mid-write)", async () => {
    const { path, dir } = await setup();
    const provider = await create({ type: "zonefile", path, lockTimeoutMs: 200, staleLockMs: 600_000 }, context(), { now: () => NOW, lockPollMs: 20 });
    await writeFile(`${path}.lock`, JSON.stringify({ pid: 1, host: "mailpool-cron-28471-abcde", since: "2026-11-24T09:49:00.000Z" }));
    const result = await provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.11"])], signal());
    expect(result.applied).toBe(1);
    expect(await listDir(dir)).toEqual(["example.com.zone"]);
  });

  it("takes over an empty lock older than staleLockMs (a run killed between creating the lock and writing it)", async () => {
    const { path, dir } = await setup();
    const provider = await create({ type: "zonefile", path, lockTimeoutMs: 200, staleLockMs: 600_000 }, context(), { now: () => NOW, lockPollMs: 20 });
    await writeFile(`${path}.lock`, "");
    const old = new Date(NOW.getTime() - 11 * 60_000);
    await utimes(`${path}.lock`, old, old);
    const result = await provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.11"])], signal());
    expect(result.applied).toBe(1);
    expect(await listDir(dir)).toEqual(["example.com.zone"]);
  });

  it("waits for a fresh empty or unreadable lock, naming it, rather than taking it over", async () => {
    const { path, original } = await setup();
    const provider = await create({ type: "zonefile", path, lockTimeoutMs: 200, staleLockMs: 600_000 }, context(), { now: () => NOW, lockPollMs: 20 });
    await writeFile(`${path}.lock`, "garbage");
    const recent = new Date(NOW.getTime() - 60_000);
    await utimes(`${path}.lock`, recent, recent);
    await expect(provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.11"])], signal())).rejects.toThrow(/held by an unknown holder \(lock content "garbage"\)/);
    expect(await readFile(path, "latin1")).toBe(original);
  });

  it("stops waiting when the signal aborts", async () => {
    const { path } = await setup();
    const provider = await create({ type: "zonefile", path, lockTimeoutMs: 10_000 }, context(), { now: () => NOW, lockPollMs: 20 });
    const child = liveProcess();
    await writeFile(`${path}.lock`, JSON.stringify({ pid: child.pid, host: hostname() }));
    const ac = new AbortController();
    const pending = provider.apply([await changeTo(provider, SMTP_A, ["192.0.2.11"])], ac.signal);
    setTimeout(() => ac.abort(new Error("shutting down")), 100);
    await expect(pending).rejects.toThrow("shutting down");
  });
});
