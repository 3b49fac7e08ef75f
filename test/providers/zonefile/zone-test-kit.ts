/** Helpers shared by the zone-file tests: temp copies of fixtures, a line diff, a context. */
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MinimalLogger, ProviderContext } from "../../../providers/types.js";

export const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/zones/example.com.zone");

export interface LogLine {
  readonly level: string;
  readonly obj: object;
  readonly msg: string | undefined;
}

export function recordingLogger(): MinimalLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export function context(pools: readonly string[] = ["smtp.example.com"]): ProviderContext {
  return {
    name: "zone",
    controllerId: "test",
    pools: pools.map((name) => ({ name, recordStyle: "simple" as const })),
    env: {},
    logger: recordingLogger(),
  };
}

/** A temp folder holding a copy of the fixture zone; `cleanup` removes it. */
export async function zoneCopy(fixture = FIXTURE): Promise<{ dir: string; path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "mailpool-zonefile-"));
  const path = join(dir, "example.com.zone");
  await copyFile(fixture, path);
  return { dir, path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const listDir = async (dir: string): Promise<string[]> => (await readdir(dir)).sort();

/** The lines only in `a` and the lines only in `b` (longest-common-subsequence diff). */
export function lineDiff(a: string, b: string): { removed: string[]; added: string[] } {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] = x[i] === y[j] ? ((lcs[i + 1] as number[])[j + 1] as number) + 1 : Math.max((lcs[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      i++;
      j++;
    } else if (((lcs[i + 1] as number[])[j] as number) >= ((lcs[i] as number[])[j + 1] as number)) {
      removed.push(x[i++] as string);
    } else {
      added.push(y[j++] as string);
    }
  }
  while (i < n) removed.push(x[i++] as string);
  while (j < m) added.push(y[j++] as string);
  return { removed, added };
}

export const signal = (): AbortSignal => new AbortController().signal;
