/**
 * Zone files a hostile or unlucky operator hands mailpool: huge tokens, a FIFO or a directory at
 * the path, a CNAME at the pool's name, temp files of killed writers, a full disk. Each is a
 * clear error naming the file (and line), and nothing is written.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProviderConfigError, ProviderError, type RRsetKey } from "../../../providers/types.js";
import { create, parseZone } from "../../../providers/zonefile/index.js";
import { context, listDir, signal, zoneCopy } from "./zone-test-kit.js";

const SMTP_A: RRsetKey = { name: "smtp.example.com", type: "A" };
const NOW = new Date("2026-11-24T10:00:00Z");
const HEAD = "$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns1 hostmaster ( 2026010101 3600 900 604800 300 )\n  IN NS ns1\nns1 IN A 192.0.2.53\n";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mailpool-hostile-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const provider = (path: string) =>
  create({ type: "zonefile", path, lockTimeoutMs: 1000 }, context(["smtp.example.com"]), { now: () => NOW, lockPollMs: 10 });

describe("zone text that would exhaust the parser", () => {
  const big = "a".repeat(300_000);

  it("refuses a 300 KB TXT string with its line number, not a stack overflow", () => {
    for (const rdata of [`"${big}"`, big]) {
      expect(() => parseZone(`${HEAD}txt IN TXT ${rdata}\n`, { source: "z.db" })).toThrow(
        "z.db:6: character-string 1 of the TXT record is 300000 bytes; at most 255 are allowed (RFC 1035 section 3.3)",
      );
    }
  });

  it("accepts a TXT record of many 255-byte strings", () => {
    const part = `"${"b".repeat(255)}"`;
    const zone = parseZone(`${HEAD}txt IN TXT ${Array(40).fill(part).join(" ")}\n`);
    expect(zone.records.find((r) => r.type === "TXT")?.value).toHaveLength(255 * 40);
  });

  it("refuses an owner name longer than a domain name can be, with its line", () => {
    expect(() => parseZone(`${HEAD}${big} IN A 192.0.2.1\n`, { source: "z.db" })).toThrow(/^z\.db:6: a name of 300000 characters .*at most 255 octets/);
  });

  it("keeps a message about a huge bad A value short", () => {
    let message = "";
    try {
      parseZone(`${HEAD}x IN A ${big}\n`, { source: "z.db" });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^z\.db:6: A record needs one IPv4 address, found a{80}… \(300000 characters\)$/);
  });
});

describe("paths that are not regular files", () => {
  it("refuses a FIFO at once instead of hanging on it", async () => {
    const dir = await tempDir();
    const fifo = join(dir, "zone.db");
    execFileSync("mkfifo", [fifo]);
    const error = await provider(fifo).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect((error as Error).message).toBe(`the zone file ${fifo} is not a regular file (a FIFO); refusing to read it`);
  });

  it("refuses a directory, naming it", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "zone.db"));
    await expect(provider(join(dir, "zone.db"))).rejects.toThrow(`the zone file ${join(dir, "zone.db")} is not a regular file (a directory)`);
  });
});

describe("a CNAME at the pool's name", () => {
  it("refuses to read or write A records beside it, naming the line, and writes nothing", async () => {
    const dir = await tempDir();
    const path = join(dir, "zone.db");
    const text = `${HEAD}smtp IN CNAME mail.example.net.\n_mailpool.smtp IN TXT "mailpool owner=test"\n`;
    await writeFile(path, text);
    const p = await provider(path);
    const error = await p.read([SMTP_A], signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).transient).toBe(false);
    expect((error as Error).message).toMatch(/^smtp\.example\.com has a CNAME record \(.*zone\.db line 6\), so it can hold no A or AAAA records \(RFC 1034 section 3\.6\.2\)/);
    const apply = p.apply([{ key: SMTP_A, before: null, after: { ttl: 300, values: ["192.0.2.10"] }, pool: SMTP_A.name }], signal());
    await expect(apply).rejects.toThrow(/has a CNAME record/);
    expect(await readFile(path, "utf8")).toBe(text);
  });
});

describe("leftovers of killed writers", () => {
  it("removes orphaned temp files under the lock, and keeps unrelated files", async () => {
    const { dir, path, cleanup } = await zoneCopy();
    cleanups.push(cleanup);
    await writeFile(join(dir, ".example.com.zone.mailpool-4242-deadbeef.tmp"), "half a zone");
    await writeFile(join(dir, ".example.com.zone.mailpool-77-0a0b0c0d.tmp"), "");
    await writeFile(join(dir, "notes.txt"), "operator's");
    const p = await provider(path);
    const [before] = await p.read([SMTP_A], signal());
    await p.apply([{ key: SMTP_A, before: before!, after: { ttl: 300, values: ["192.0.2.11"] }, pool: SMTP_A.name }], signal());
    expect(await listDir(dir)).toEqual(["example.com.zone", "notes.txt"]);
  });
});

describe("a full disk", () => {
  const root = process.getuid?.() === 0;
  it.runIf(root)("fails with an error naming the temp file and the zone, and leaves the zone as it was (needs root to mount a tmpfs)", async () => {
    const dir = await tempDir();
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "mailpool-test", dir]);
    cleanups.unshift(async () => void execFileSync("umount", [dir]));
    const path = join(dir, "zone.db");
    const filler = Array.from({ length: 1200 }, (_, i) => `host${i} IN A 198.51.100.${i % 250}`).join("\n");
    const text = `${HEAD}smtp IN A 192.0.2.10\n_mailpool.smtp IN TXT "mailpool owner=test"\n${filler}\n`;
    await writeFile(path, text);
    const p = await provider(path);
    const [before] = await p.read([SMTP_A], signal());
    const error = await p
      .apply([{ key: SMTP_A, before: before!, after: { ttl: 300, values: ["192.0.2.11"] }, pool: SMTP_A.name }], signal())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toMatch(new RegExp(`^writing the temp file ${dir}/\\.zone\\.db\\.mailpool-[0-9]+-[0-9a-f]+\\.tmp for ${path} failed: ENOSPC: no space left on device.*; the zone file was not changed$`));
    expect(await readFile(path, "utf8")).toBe(text);
    expect(await listDir(dir)).toEqual(["zone.db"]);
  });
});
