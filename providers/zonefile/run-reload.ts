/** Runs the name server's reload command (argv, no shell) with a deadline. */
import { execFile } from "node:child_process";

export type ReloadOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const TAIL = 500;

const tail = (text: string): string => {
  const t = text.trim();
  return t.length > TAIL ? `…${t.slice(-TAIL)}` : t;
};

export const commandText = (argv: readonly string[]): string =>
  argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");

export function runReload(argv: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<ReloadOutcome> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.resolve({ ok: false, reason: "empty reload command" });
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1024 * 1024, signal, windowsHide: true, encoding: "utf8" },
      (error, _stdout, stderr) => {
        if (!error) return resolve({ ok: true });
        const e = error as NodeJS.ErrnoException & { code?: unknown; killed?: boolean; signal?: string | null };
        const cmd = `\`${commandText(argv)}\``;
        const err = tail(String(stderr ?? ""));
        const said = err ? `: ${err}` : "";
        let reason: string;
        if (e.name === "AbortError") reason = `${cmd} was aborted`;
        else if (typeof e.code === "string") reason = `${cmd} could not run (${e.code}: ${e.message})`;
        else if (e.killed && e.signal) reason = `${cmd} timed out after ${timeoutMs} ms and was killed${said}`;
        else if (typeof e.code === "number") reason = `${cmd} exited with code ${e.code}${said}`;
        else reason = `${cmd} was killed by ${e.signal ?? "a signal"}${said}`;
        resolve({ ok: false, reason });
      },
    );
  });
}
