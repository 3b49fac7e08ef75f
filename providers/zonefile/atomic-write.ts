/**
 * Replaces a file atomically: temp file in the same folder, write, fsync, rename over the
 * original, fsync the folder. The new file keeps the original's mode (and owner, when allowed).
 * A reader sees either the old file or the new one, never half of one.
 */
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { open, rename, stat, unlink } from "node:fs/promises";
import type { Stats } from "node:fs";

export interface AtomicWriteOptions {
  /** The original file's stat, for mode and owner. */
  readonly original: Stats;
  /** Called after the temp file is written and synced, before the rename (tests crash here). */
  readonly beforeRename?: (tempPath: string) => void | Promise<void>;
}

export async function writeFileAtomic(path: string, data: Buffer, options: AtomicWriteOptions): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.mailpool-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  const mode = options.original.mode & 0o7777;
  let renamed = false;
  try {
    const fh = await open(temp, "wx", mode);
    try {
      await fh.chmod(mode); // open's mode is filtered by the umask
      await fh.chown(options.original.uid, options.original.gid).catch(() => undefined);
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await options.beforeRename?.(temp);
    await rename(temp, path);
    renamed = true;
  } finally {
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
  await syncDir(dir);
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

/** Stat that says undefined for a missing file. */
export async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
