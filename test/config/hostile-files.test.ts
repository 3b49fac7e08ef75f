/**
 * Config files a hostile or unlucky operator hands mailpool: YAML alias bombs and unresolved
 * aliases, duplicate keys (20,000 of them, which the YAML library checks in quadratic time), a
 * FIFO, a directory, an oversized file. Each is a ConfigError (exit 78) naming the file and the
 * place, quickly, never a hang or a stack trace.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, MAX_CONFIG_BYTES, parseConfig } from "../../src/config/load.js";

const dir = mkdtempSync(join(tmpdir(), "mailpool-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("YAML that would exhaust or confuse the loader", () => {
  it("refuses an alias bomb (billion laughs) with its line and column", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]", ...["b", "c", "d", "e", "f", "g"].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${"abcdefg"[i]}`).join(", ")}]`)].join("\n");
    expect(problems(() => parseConfig(bomb, { env: {} }))).toEqual([
      "YAML: Excessive alias count indicates a resource exhaustion attack at line 2, column 8",
    ]);
  });

  it("refuses an alias that names no anchor", () => {
    expect(problems(() => parseConfig("controllerId: *nope\n", { env: {} }))).toEqual([
      "YAML: the alias *nope names no anchor set before it at line 1, column 15",
    ]);
  });

  it("still takes aliases of anchored maps, lists and scalars", () => {
    const text = `controllerId: t
providers: { m: { type: memory } }
pools:
  - { name: a.example.com, provider: m, checks: &c [smtp], members: &members [{ address: 192.0.2.10 }], ttl: &ttl 600 }
  - { name: b.example.com, provider: m, checks: *c, members: *members, ttl: *ttl }`;
    const config = parseConfig(text, { env: {} });
    expect(config.pools.map((p) => [p.name, p.ttl, p.members[0]!.address])).toEqual([
      ["a.example.com", 600, "192.0.2.10"],
      ["b.example.com", 600, "192.0.2.10"],
    ]);
  });

  it("names every duplicate key with its line", () => {
    const text = "controllerId: x\ncontrollerId: y\npools:\n  - name: a\n    name: b\n";
    expect(problems(() => parseConfig(text, { env: {} }))).toEqual([
      "YAML: controllerId: duplicate key at line 2, column 1",
      "YAML: pools.name: duplicate key at line 5, column 5",
    ]);
  });

  it("checks 20,000 keys for duplicates in one pass (the library's own check is quadratic)", () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  c${i}: { module: smtp }`);
    const text = `controllerId: x\nchecks:\n${keys.join("\n")}\n  c7: { module: imap }\n`;
    // The count of the work, not its time: the one duplicate is found, with its line.
    expect(problems(() => parseConfig(text, { env: {} }))).toEqual(["YAML: checks.c7: duplicate key at line 20003, column 3"]);
  });

  it("refuses a config over the size bound before parsing it", () => {
    const text = `controllerId: x\n# ${"x".repeat(MAX_CONFIG_BYTES)}\n`;
    expect(problems(() => parseConfig(text, { env: {} }))[0]).toMatch(/^the config is [0-9]+ characters; over [0-9]+ is refused$/);
  });
});

describe("config paths that are not regular files", () => {
  it("refuses a FIFO at once instead of hanging on it", () => {
    const fifo = join(dir, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    expect(problems(() => loadConfigFile(fifo))).toEqual([`cannot read ${fifo}: it is a FIFO; give the path of a YAML file`]);
  });

  it("refuses a directory, naming it", () => {
    expect(problems(() => loadConfigFile(dir))).toEqual([`cannot read ${dir}: it is a directory; give the path of a YAML file`]);
  });

  it("names a missing file and the reason", () => {
    expect(problems(() => loadConfigFile(join(dir, "nope.yaml")))[0]).toMatch(/^cannot read .*nope\.yaml: ENOENT: no such file or directory/);
  });

  it("refuses an oversized file without reading it", () => {
    const big = join(dir, "big.yaml");
    writeFileSync(big, `controllerId: x\n# ${"x".repeat(MAX_CONFIG_BYTES)}\n`);
    expect(problems(() => loadConfigFile(big))).toEqual([`cannot read ${big}: it is ${MAX_CONFIG_BYTES + 19} bytes; a config over ${MAX_CONFIG_BYTES} bytes is refused`]);
  });
});
