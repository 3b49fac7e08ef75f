/**
 * Golden files: an output contract pinned as a file beside the tests. A test compares the
 * rendering with its file and fails on any difference; `UPDATE_GOLDEN=1 npx vitest run test/golden`
 * rewrites the files instead (review the diff before committing it).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect } from "vitest";

const ROOT = import.meta.dirname;

export function golden(file: string, text: string): void {
  const path = join(ROOT, file);
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  let want: string;
  try {
    want = readFileSync(path, "utf8");
  } catch {
    throw new Error(`golden file test/golden/${file} is missing; run UPDATE_GOLDEN=1 npx vitest run test/golden to write it`);
  }
  expect(text, `test/golden/${file} (UPDATE_GOLDEN=1 rewrites it)`).toBe(want);
}
