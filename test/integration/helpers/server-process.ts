/**
 * A server started by an integration test: a child process in its own process group, its output
 * kept (the tail) for error messages, stopped by signal with a bounded wait. Also the binaries'
 * lookup (a missing one is an error that names the install script, never a skip) and a bounded
 * poll for readiness that fails with the server's own words.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** A server binary is not installed: the integration tests fail rather than skip. */
export class MissingBinaryError extends Error {
  override readonly name = "MissingBinaryError";
}

/** A server did not start, or did not become ready before its deadline. */
export class ServerStartError extends Error {
  override readonly name = "ServerStartError";
}

/** Where Debian puts server binaries, searched after PATH (root's PATH may lack /usr/sbin). */
const EXTRA_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** The absolute path of `name`, or a MissingBinaryError naming the package and the script. */
export function requireBinary(name: string, pkg: string, env: NodeJS.ProcessEnv = process.env): string {
  const dirs = [...(env.PATH ?? "").split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  throw new MissingBinaryError(
    `${name} is not installed (Debian package ${pkg}): run \`bash scripts/install-integration-deps.sh\` as root, ` +
      `then \`npm run test:integration\` (the integration tests fail rather than skip; see docs/integration-tests.md)`,
  );
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (no shell), bounded by `timeoutMs`; never throws for a non-zero exit. */
export function runCommand(file: string, args: readonly string[], timeoutMs = 15_000, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 4 * 1024 * 1024, encoding: "utf8", env: env ?? process.env }, (error, stdout, stderr) => {
      const e = error as (NodeJS.ErrnoException & { code?: unknown; killed?: boolean }) | null;
      let code = 0;
      if (e) code = typeof e.code === "number" ? e.code : 1;
      const note = e && typeof e.code === "string" ? `\n(${e.code}: ${e.message})` : e?.killed ? `\n(killed after ${timeoutMs} ms)` : "";
      resolve({ code, stdout, stderr: stderr + note });
    });
  });
}

const TAIL_BYTES = 16_384;

/** The last `lines` lines of a text, for error messages. */
export const tailLines = (text: string, lines = 40): string => text.trimEnd().split("\n").slice(-lines).join("\n");

export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** The last 16 KiB of its stdout and stderr, interleaved. */
  output(): string;
  /** Sends `signal` to the process, waits up to `graceMs` for it to exit, else SIGKILLs its process group. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const live = new Set<ServerProcess>();
/** Process groups a server made for itself (Postfix's master calls setsid), killed at exit if left. */
const extraGroups = new Set<number>();
let exitHookInstalled = false;

/** Kill process group `pgid` if the test process exits before `forgetGroupAtExit(pgid)`. */
export function killGroupAtExit(pgid: number): void {
  installExitHook();
  extraGroups.add(pgid);
}

export function forgetGroupAtExit(pgid: number): void {
  extraGroups.delete(pgid);
}

/** If the test process dies with servers still running, take their process groups down with it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const server of live) {
      const pid = server.child.pid;
      if (pid !== undefined && !server.hasExited()) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    for (const pgid of extraGroups) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Starts `file args` in its own process group (so that stopping it takes its helpers along,
 * and nothing else), stdout and stderr captured.
 */
export function spawnServer(name: string, file: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ServerProcess {
  installExitHook();
  let buffer = "";
  const keep = (chunk: Buffer) => {
    buffer = (buffer + chunk.toString("utf8")).slice(-TAIL_BYTES);
  };
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("error", (err) => {
      keep(Buffer.from(`\n[${name} could not start: ${err.message}]\n`));
      done = true;
      resolve({ code: null, signal: null });
    });
    child.once("exit", (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  const server: ServerProcess = {
    name,
    child,
    exited,
    hasExited: () => done,
    output: () => buffer,
    async stop(signal = "SIGTERM", graceMs = 10_000) {
      if (!done && child.pid !== undefined) {
        try {
          process.kill(child.pid, signal);
        } catch {
          // already gone
        }
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<"late">((resolve) => {
          timer = setTimeout(() => resolve("late"), graceMs);
        });
        const outcome = await Promise.race([exited.then(() => "exited" as const), late]);
        clearTimeout(timer);
        if (outcome === "late") {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {
            // already gone
          }
          await exited;
        }
      }
      live.delete(server);
    },
  };
  live.add(server);
  return server;
}

export interface WaitOptions {
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** Pause between attempts. */
  readonly intervalMs?: number;
  /** Checked before each attempt: a text means "stop waiting, this failed" (e.g. the process exited). */
  readonly failedBecause?: () => string | undefined;
  /** What to add to the error: logs, output. */
  readonly diagnostics: () => string | Promise<string>;
}

/**
 * Polls `attempt` until it returns something other than undefined. On timeout or failure, throws
 * a ServerStartError with `what`, the last attempt's note and the diagnostics.
 */
export async function waitFor<T>(what: string, attempt: () => Promise<{ value: T } | { note: string }>, options: WaitOptions): Promise<T> {
  const { timeoutMs, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  let last = "no attempt made";
  for (;;) {
    const failed = options.failedBecause?.();
    if (failed !== undefined) {
      throw new ServerStartError(`${what}: ${failed} (last check: ${last})\n${await options.diagnostics()}`);
    }
    const result = await attempt();
    if ("value" in result) return result.value;
    last = result.note;
    if (Date.now() >= deadline) {
      throw new ServerStartError(`${what}: not ready after ${timeoutMs} ms (last check: ${last})\n${await options.diagnostics()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
