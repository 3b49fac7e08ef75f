/** The built mailpool CLI as a child process (`npm run test:integration` builds it first). */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const CLI_BIN = join(import.meta.dirname, "../../../dist/src/cli/bin.js");

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Throws when the CLI has not been built: the tests would otherwise fail with a confusing error. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI_BIN)) throw new Error(`${CLI_BIN} is missing: run \`npm run build\` first (npm run test:integration does)`);
}

export function runCli(args: readonly string[], timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_BIN, ...args],
      { env: { ...process.env, NO_COLOR: "1" }, timeout: timeoutMs, killSignal: "SIGKILL", encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** For expect messages: the whole run. */
export const shown = (run: CliRun): string => `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
