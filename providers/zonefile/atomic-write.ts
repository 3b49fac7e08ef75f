/**
 * Replaces a file atomically: temp file in the same folder, write, fsync, rename over the
 * original, fsync the folder. The new file keeps the original's mode, owner and group (or at
 * least the group, or refuses when the file would become unreadable).
 * A reader sees either the old file or the new one, never half of one.
 */
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { open, rename, unlink, type FileHandle } from "node:fs/promises";
import { ProviderError } from "../types.js";
import type { Stats } from "node:fs";

export interface AtomicWriteOptions {
  /** The original file's stat, for mode and owner. */
  readonly original: Stats;
  /** Called after the temp file is written and synced, before the rename (tests crash here). */
  readonly beforeRename?: (tempPath: string) => void | Promise<void>;
}

/**
 * `data` is bytes, or text written as latin1 (one byte a char) a chunk at a time, so a large zone
 * is not copied whole into a Buffer beside its text.
 */
export async function writeFileAtomic(path: string, data: Buffer | string, options: AtomicWriteOptions): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.mailpool-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  const mode = options.original.mode & 0o7777;
  let renamed = false;
  try {
    const fh = await named(`creating the temp file ${temp} for`, path, () => open(temp, "wx", mode));
    try {
      await named(`writing the temp file ${temp} for`, path, async () => {
        await fh.chmod(mode); // open's mode is filtered by the umask
        await keepOwner(fh, temp, path, options.original);
        if (typeof data === "string") await writeLatin1(fh, data);
        else await fh.writeFile(data);
        await fh.sync();
      });
    } finally {
      await fh.close();
    }
    await options.beforeRename?.(temp);
    await named(`renaming ${temp} over`, path, () => rename(temp, path));
    renamed = true;
  } finally {
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
  await syncDir(dir);
}

/**
 * Runs a file-system step; its failure says what was being done to which file ("ENOSPC: no space
 * left on device, write" names neither). Nothing was written over the zone when a step fails.
 */
async function named<T>(what: string, path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof ProviderError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new ProviderError(`${what} ${path} failed: ${err.message}; the zone file was not changed`, {
      transient: err.code === "ENOSPC" || err.code === "EDQUOT" || err.code === "EAGAIN",
      cause: e,
    });
  }
}

/** A zone under 1 MiB is written in one call, as a Buffer would be. */
const CHUNK = 1 << 20;

async function writeLatin1(fh: FileHandle, text: string): Promise<void> {
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(text.length, 1)));
  for (let at = 0; at < text.length; at += CHUNK) {
    const n = chunk.write(text.slice(at, at + CHUNK), 0, "latin1");
    let done = 0;
    while (done < n) done += (await fh.write(chunk, done, n - done)).bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch {
    // Some platforms and file systems cannot fsync a directory; the rename is still atomic.
  } finally {
    await fh?.close();
  }
}

/**
 * The new file keeps the original's owner and group. A process that may not give the file away
 * (not root) still keeps the group when it is a member of it. If neither can be kept and the
 * file is not world-readable, the name server might no longer read its zone: refuse the write.
 */
async function keepOwner(fh: FileHandle, temp: string, path: string, original: Stats): Promise<void> {
  try {
    await fh.chown(original.uid, original.gid);
    return;
  } catch {
    // not allowed to give the file away; try the group alone
  }
  const groupKept = await fh.chown(-1, original.gid).then(
    () => true,
    () => false,
  );
  if (groupKept || (original.mode & 0o004) !== 0) return;
  throw new ProviderError(
    `cannot keep the owner ${original.uid}:${original.gid} of ${path} (mailpool runs as ${process.getuid?.()}:${process.getgid?.()}); ` +
      "the rewritten zone could become unreadable to the name server, so nothing was written. Run mailpool as the file's owner or in its group.",
    { transient: false },
  );
}
