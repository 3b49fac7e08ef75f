/**
 * Runs the operator's hook: argv without a shell, a bounded environment, a deadline (then
 * SIGKILL), the caller's AbortSignal, and at most MAX_OUTPUT_BYTES kept of stdout and of stderr.
 */
import { spawn } from "node:child_process";

export const MAX_OUTPUT_BYTES = 64 * 1024;
/** After the hook exited, how long its pipes may stay open (a background child holding them). */
export const EXIT_GRACE_MS = 1000;

export interface HookOutcome {
  /** The exit code, or null when the hook was killed or could not start. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when it did not exit by itself: "timed out after 10000 ms", "could not start (ENOENT …)". */
  readonly failure?: string;
}

export function runHook(argv: readonly string[], env: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<HookOutcome> {
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    if (signal.aborted) return resolve({ code: null, stdout: "", stderr: "", failure: "aborted before it started" });
    // A process group of its own, so that a timeout kills what the hook started too (a `sleep`
    // under `sh` would otherwise keep the pipes open, and the hook "running", after the kill).
    const child = spawn(file!, args, { shell: false, env, stdio: ["ignore", "pipe", "pipe"], windowsHide: true, detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let failure: string | undefined;
    const keep = (into: Buffer[], n: number, chunk: Buffer): number => {
      if (n < MAX_OUTPUT_BYTES) into.push(chunk.subarray(0, MAX_OUTPUT_BYTES - n));
      return n + chunk.length;
    };
    child.stdout.on("data", (c: Buffer) => (outBytes = keep(out, outBytes, c)));
    child.stderr.on("data", (c: Buffer) => (errBytes = keep(err, errBytes, c)));
    const kill = (why: string) => {
      failure ??= why;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL"); // the group is gone already; the hook itself may not be
      }
      // A descendant that left the group may still hold the pipes: do not wait for them.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const timer = setTimeout(() => kill(`timed out after ${timeoutMs} ms and was killed`), timeoutMs);
    const onAbort = () => kill("aborted and killed");
    signal.addEventListener("abort", onAbort, { once: true });
    let finished = false;
    const done = (code: number | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve({
        code: failure === undefined ? code : null,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        ...(failure !== undefined ? { failure } : {}),
      });
    };
    child.on("error", (e: NodeJS.ErrnoException) => {
      failure ??= `could not start (${e.code ?? e.message})`;
      done(null);
    });
    child.on("exit", (code, sig) => {
      if (failure !== undefined) return done(null); // killed: its pipes were destroyed, no "close" to wait for
      if (code === null) failure = `was killed by ${sig ?? "a signal"}`;
      clearTimeout(timer);
      // The hook has exited; something it left running in the background may hold the pipes.
      // Its output is read for a moment more, then the pipes are let go.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        done(code);
      }, EXIT_GRACE_MS).unref();
    });
    child.on("close", (code, sig) => {
      if (code === null && failure === undefined) failure = `was killed by ${sig ?? "a signal"}`;
      done(code);
    });
  });
}
