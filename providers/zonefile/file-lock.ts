/**
 * An exclusive lock on a file shared with other writers (another mailpool, a CronJob overlapping
 * a daemon, an operator's script that plays by the same rules): `<path>.lock`, holding the
 * holder's pid, host and start time. It appears whole or not at all: the content is written and
 * synced to a file of our own first, then hard-linked into place (link fails if the lock exists),
 * so a process killed in between, or a full disk, never leaves an empty lock. A lock whose
 * process is gone (same host, dead pid), or older than staleAfterMs whatever its host, is stale
 * and taken over; a lock that says nothing of its age (empty, or another tool's) is judged by the
 * file's mtime.
 */
import { randomBytes } from "node:crypto";
import { hostname as osHostname } from "node:os";
import { link, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { sleep } from "../../src/util/rate-limiter.js";
import { ProviderError } from "../types.js";

export interface LockOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly pid?: number;
  readonly hostname?: string;
  readonly now?: () => Date;
  /** Pause between attempts while another process holds the lock. */
  readonly pollMs?: number;
  /** Whether a process is alive (injectable for tests; default: signal 0). */
  readonly isAlive?: (pid: number) => boolean;
  /**
   * A lock older than this is stale whoever holds it (a writer holds the lock for milliseconds;
   * a CronJob pod killed mid-write leaves a lock naming a host that never comes back).
   */
  readonly staleAfterMs?: number;
}

export interface LockHolder {
  readonly pid: number | undefined;
  readonly host: string | undefined;
  readonly since: string | undefined;
  readonly raw: string;
  /** The lock file's mtime (ms since the epoch), for locks that do not say when they were taken. */
  readonly mtimeMs?: number;
}

/** A held lock; `release` removes the lock file. */
export interface FileLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Contents of the locks this process holds now (a lock naming our pid but not listed is stale). */
const heldHere = new Set<string>();

export function parseLockContent(raw: string): LockHolder {
  try {
    const j = JSON.parse(raw) as { pid?: unknown; host?: unknown; since?: unknown };
    return {
      pid: Number.isInteger(j.pid) ? (j.pid as number) : undefined,
      host: typeof j.host === "string" ? j.host : undefined,
      since: typeof j.since === "string" ? j.since : undefined,
      raw,
    };
  } catch {
    // Another tool's lock: a bare pid is common.
    const m = /^\s*([0-9]+)\b/.exec(raw);
    return { pid: m ? Number(m[1]) : undefined, host: undefined, since: undefined, raw };
  }
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function acquireLock(lockPath: string, options: LockOptions): Promise<FileLock> {
  const pid = options.pid ?? process.pid;
  const host = options.hostname ?? osHostname();
  const now = options.now ?? (() => new Date());
  const isAlive = options.isAlive ?? processIsAlive;
  const pollMs = options.pollMs ?? 50;
  const deadline = performance.now() + options.timeoutMs;
  const nonce = randomBytes(4).toString("hex");
  const content = `${JSON.stringify({ pid, host, since: now().toISOString(), nonce })}\n`;

  for (;;) {
    options.signal.throwIfAborted();
    heldHere.add(content); // before the file exists, so no call of ours sees it as stale
    if (await tryCreate(lockPath, content).catch((e: unknown) => {
      heldHere.delete(content);
      throw e;
    })) {
      return {
        path: lockPath,
        release: async () => {
          heldHere.delete(content);
          await releaseIfOurs(lockPath, content);
        },
      };
    }
    heldHere.delete(content);
    const holder = await readHolder(lockPath);
    if (holder === undefined) continue; // released in between: try again at once
    // Same host only: a pid means nothing elsewhere. Our own pid counts as dead unless this
    // process holds that very lock (a restarted container often gets the same pid).
    const takenAt = holder.since === undefined ? Number.NaN : Date.parse(holder.since);
    const age = now().getTime() - (Number.isNaN(takenAt) ? (holder.mtimeMs ?? Number.NaN) : takenAt);
    const stale =
      (options.staleAfterMs !== undefined && age > options.staleAfterMs) ||
      (holder.pid !== undefined &&
        holder.host === host &&
        (holder.pid === pid ? !heldHere.has(holder.raw) : !isAlive(holder.pid)));
    if (stale && (await takeOver(lockPath, holder.raw))) continue;
    if (performance.now() >= deadline) {
      const who =
        holder.pid === undefined
          ? `an unknown holder (lock content ${JSON.stringify(holder.raw.slice(0, 200))})`
          : `pid ${holder.pid}${holder.host && holder.host !== host ? ` on ${holder.host}` : ""}` +
            (holder.since ? ` since ${holder.since}` : "");
      throw new ProviderError(
        `the zone file is locked: ${lockPath} is held by ${who}; gave up after ${options.timeoutMs} ms ` +
          `(remove the lock file if that process is gone)`,
        { transient: true },
      );
    }
    await sleep(Math.min(pollMs + Math.floor(Math.random() * pollMs), Math.max(1, deadline - performance.now())), options.signal);
  }
}

/** File systems without hard links (some network and FUSE mounts) answer link() with these. */
const NO_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

/** Creates the lock with its whole content, or returns false when it exists. */
async function tryCreate(lockPath: string, content: string): Promise<boolean> {
  const own = `${lockPath}.new-${osHostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
  const cannot = (e: unknown) =>
    new ProviderError(`cannot create the lock file ${lockPath}: ${(e as Error).message}`, { transient: false, cause: e });
  try {
    await writeSynced(own, content, "wx");
  } catch (e) {
    await unlink(own).catch(() => undefined);
    throw cannot(e);
  }
  try {
    await link(own, lockPath);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (code === "EEXIST") return false;
    if (!NO_LINKS.has(code)) throw cannot(e);
  } finally {
    await unlink(own).catch(() => undefined);
  }
  // No hard links here: O_EXCL create, then the content (an empty lock left by a crash in
  // between is taken over by its age).
  try {
    await writeSynced(lockPath, content, "wx");
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw cannot(e);
  }
}

async function writeSynced(path: string, content: string, flags: string): Promise<void> {
  const fh = await open(path, flags, 0o644);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readHolder(lockPath: string): Promise<LockHolder | undefined> {
  try {
    const [raw, st] = await Promise.all([readFile(lockPath, "utf8"), stat(lockPath)]);
    return { ...parseLockContent(raw), mtimeMs: st.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/**
 * Moves a stale lock aside. Rename is atomic, so of two processes taking over the same stale
 * lock only one moves it; if what we moved turns out to be a fresh lock (someone else took over
 * first and re-created it), it is put back.
 */
async function takeOver(lockPath: string, staleContent: string): Promise<boolean> {
  const aside = `${lockPath}.stale-${osHostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await rename(lockPath, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw e;
  }
  const moved = await readFile(aside, "utf8").catch(() => staleContent);
  if (moved !== staleContent) {
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
  return true;
}

async function releaseIfOurs(lockPath: string, content: string): Promise<void> {
  const now = await readFile(lockPath, "utf8").catch(() => undefined);
  if (now === content) await unlink(lockPath).catch(() => undefined);
}

/**
 * Removes what killed lock takers left beside the lock: `<lock>.new-HOST-PID-…` (made before
 * the link into place) and `<lock>.stale-HOST-PID-…` (a stale lock moved aside). One is garbage
 * when its process is gone (this host, dead pid) or when it is older than staleAfterMs. Call it
 * while holding the lock; it returns the paths removed.
 */
export async function removeLockLeftovers(
  lockPath: string,
  options: { readonly staleAfterMs: number; readonly now?: () => Date; readonly hostname?: string; readonly isAlive?: (pid: number) => boolean },
): Promise<string[]> {
  const host = options.hostname ?? osHostname();
  const isAlive = options.isAlive ?? processIsAlive;
  const now = (options.now ?? (() => new Date()))().getTime();
  const base = basename(lockPath);
  const dir = dirname(lockPath);
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(`${base}.new-`) && !name.startsWith(`${base}.stale-`)) continue;
    const m = /^(?:new|stale)-(.+)-([0-9]+)-[0-9a-f]{8}$/.exec(name.slice(base.length + 1));
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (!st) continue;
    const dead = m !== null && m[1] === host && !isAlive(Number(m[2]));
    if (dead || now - st.mtimeMs > options.staleAfterMs) {
      await unlink(path).catch(() => undefined);
      removed.push(path);
    }
  }
  return removed;
}
