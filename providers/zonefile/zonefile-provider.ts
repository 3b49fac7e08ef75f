/**
 * The zone-file provider: reads the managed RRsets from a BIND master file and edits it in
 * place — under a lock, compare-and-swap, minimal edit, serial bump, atomic rename — then asks
 * the name server to reload. A reload that fails is remembered in `<path>.reload-pending` and
 * retried at the start of every later read and apply until it succeeds.
 */
import { constants } from "node:fs";
import { open, readFile, readdir, realpath, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { isInZone, normalizeName } from "../../src/util/names.js";
import { ConflictError, ProviderConfigError, ProviderError } from "../types.js";
import type { ApplyResult, Provider, ProviderContext, RRset, RRsetChange, RRsetKey } from "../types.js";
import { writeFileAtomic } from "./atomic-write.js";
import type { ZonefileConfig } from "./config.js";
import { editZone, sameAsBefore } from "./edit-zone.js";
import { acquireLock, removeLockLeftovers } from "./file-lock.js";
import { parseZone } from "./parse-zone.js";
import type { ParsedZone } from "./parse-zone.js";
import { cnameAt, rrsetOf } from "./read-rrsets.js";
import { commandText, runReload } from "./run-reload.js";

/** Side effects tests replace. */
export interface ZonefileDeps {
  readonly now?: () => Date;
  /** Runs between writing the temp file and renaming it over the zone (crash tests throw here). */
  readonly beforeRename?: (tempPath: string) => void | Promise<void>;
  readonly lockPollMs?: number;
  readonly isAlive?: (pid: number) => boolean;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A zone file larger than this is refused rather than read into memory. */
const MAX_ZONE_BYTES = 64 * 1024 * 1024;

interface Loaded {
  readonly zone: ParsedZone;
  readonly stat: Stats;
  /** The file's bytes as read (latin1), to detect an unlocked edit before the rename. */
  readonly text: string;
}

export class ZonefileProvider implements Provider {
  readonly kind = "zonefile";
  readonly lockPath: string;
  readonly stampPath: string;
  readonly #now: () => Date;
  /** The last zone read and its text. */
  #last: { readonly zone: ParsedZone; readonly text: string } | undefined;

  constructor(
    readonly config: ZonefileConfig,
    readonly ctx: ProviderContext,
    readonly deps: ZonefileDeps = {},
  ) {
    this.lockPath = `${config.path}.lock`;
    this.stampPath = `${config.path}.reload-pending`;
    this.#now = deps.now ?? (() => new Date());
  }

  async read(keys: readonly RRsetKey[], signal: AbortSignal): Promise<RRset[]> {
    signal.throwIfAborted();
    const { zone } = await this.load();
    const out: RRset[] = [];
    for (const key of keys) {
      this.#checkInZone(zone, key.name);
      if (key.type !== "TXT") this.#refuseBesideCname(zone, key.name);
      const rrset = rrsetOf(zone, key);
      if (rrset) out.push(rrset);
    }
    return out;
  }

  /** A reload left pending by an earlier failed one is run (never in a dry run: the controller decides). */
  /** The same records (value and TTL each), wherever in the file they are now. */
  sameVersion(saved: RRset, live: RRset): boolean {
    return sameAsBefore(live, saved);
  }

  async finishPending(signal: AbortSignal): Promise<readonly string[]> {
    signal.throwIfAborted();
    return (await this.#retryPendingReload(signal))
      ? [`reloaded: ${commandText(this.config.reloadCommand ?? [])} (pending from an earlier write)`]
      : [];
  }

  async apply(changes: readonly RRsetChange[], signal: AbortSignal): Promise<ApplyResult> {
    signal.throwIfAborted();
    const notes: string[] = [];
    // A reload left pending is not retried here: finishPending does that at the start of the
    // cycle, and this write ends with a reload of its own, which clears the stamp.
    if (changes.length === 0) return { applied: 0, notes };

    const lock = await acquireLock(this.lockPath, {
      timeoutMs: this.config.lockTimeoutMs,
      staleAfterMs: this.config.staleLockMs,
      signal,
      now: this.#now,
      ...(this.deps.lockPollMs !== undefined ? { pollMs: this.deps.lockPollMs } : {}),
      ...(this.deps.isAlive ? { isAlive: this.deps.isAlive } : {}),
    });
    let serial: { from: number; to: number } | undefined;
    let applied: number;
    try {
      const { zone, stat: before, text: beforeText } = await this.load();
      for (const c of changes) if (c.key.type !== "TXT" && c.after !== null) this.#refuseBesideCname(zone, c.key.name);
      await this.#removeOrphans();
      // editZone checks the batch first: the compare-and-swap rule shared with the memory provider.
      const edit = editZone(zone, changes, { now: this.#now() });
      applied = edit.applied;
      if (edit.applied === 0 || !edit.serial) {
        notes.push("nothing to write: the zone file already holds these RRsets");
        return { applied: 0, notes };
      }
      serial = edit.serial;
      const target = await realpath(this.config.path);
      await writeFileAtomic(target, edit.text, {
        original: before,
        beforeRename: async (temp) => {
          await this.deps.beforeRename?.(temp);
          // Someone editing without the lock (an editor, a script) must not be overwritten: the
          // file must still be the very one read, byte for byte, not just alike in size and mtime.
          const now = await stat(target);
          const unchanged =
            now.ino === before.ino && now.size === before.size && now.mtimeMs === before.mtimeMs &&
            (await sameBytes(target, beforeText));
          if (!unchanged) {
            throw new ConflictError(
              `${this.config.path} was changed by someone not holding ${this.lockPath} while mailpool edited it; nothing was written`,
            );
          }
        },
      });
      if (this.config.reloadCommand) {
        // Written before the reload runs, so a crash during the reload is not forgotten either.
        const stamp = { since: this.#now().toISOString(), serial: serial.to, command: this.config.reloadCommand };
        await writeFile(this.stampPath, `${JSON.stringify(stamp)}\n`);
      }
    } finally {
      await lock.release();
    }
    notes.push(`serial ${serial.from} → ${serial.to}`, `wrote ${this.config.path} (${applied} RRset change${applied === 1 ? "" : "s"})`);
    this.ctx.logger.info(
      { provider: this.ctx.name, path: this.config.path, serial: serial.to, changes: applied },
      "zone file written",
    );
    if (this.config.reloadCommand) {
      const outcome = await runReload(this.config.reloadCommand, this.config.reloadTimeoutMs, signal);
      if (!outcome.ok) {
        this.ctx.logger.error({ provider: this.ctx.name, reason: outcome.reason }, "zone reload failed");
        throw new ProviderError(
          `zone written (serial ${serial.to}) but reload failed: ${outcome.reason}; ` +
            `it is retried at the start of the next cycle (${this.stampPath})`,
          { transient: false, applied: { applied, notes } },
        );
      }
      await unlink(this.stampPath).catch(() => undefined);
      notes.push(`reloaded: ${commandText(this.config.reloadCommand)}`);
    }
    return { applied, notes };
  }

  /** Reads and parses the zone file. */
  async load(): Promise<Loaded> {
    let fh;
    try {
      // Non-blocking, so a FIFO (or a device) at the path cannot hang the open; refused below.
      fh = await open(this.config.path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        throw new ProviderConfigError(`the zone file ${this.config.path} does not exist`);
      }
      throw new ProviderError(`cannot open the zone file ${this.config.path}: ${(e as Error).message}`, {
        transient: false,
        cause: e,
      });
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) {
        throw new ProviderConfigError(`the zone file ${this.config.path} is not a regular file (${fileKind(st)}); refusing to read it`);
      }
      if (st.size > MAX_ZONE_BYTES) {
        throw new ProviderConfigError(`${this.config.path} is ${st.size} bytes; zone files over ${MAX_ZONE_BYTES} bytes are refused`);
      }
      // The same bytes as the last load parse the same: no second copy of a large zone (see
      // docs/design.md, large zone files). Compared byte for byte, never by size and time alone.
      const last = this.#last;
      if (last && last.text.length === st.size && (await holds(fh, last.text))) return { ...last, stat: st };
      // latin1: one char per byte, so bytes mailpool does not touch are written back as they were.
      const text = await fh.readFile({ encoding: "latin1" });
      const zone = parseZone(text, {
        source: this.config.path,
        ...(this.config.origin !== undefined ? { origin: this.config.origin } : {}),
      });
      this.#last = { zone, text };
      return { zone, stat: st, text };
    } finally {
      await fh.close();
    }
  }

  /** A/AAAA beside a CNAME make the zone illegal (RFC 1034 section 3.6.2; named refuses to load it). */
  #refuseBesideCname(zone: ParsedZone, name: string): void {
    const cname = cnameAt(zone, name);
    if (!cname) return;
    throw new ProviderError(
      `${normalizeName(name)} has a CNAME record (${this.config.path} line ${cname.lineNumber}), so it can hold no A or AAAA records ` +
        `(RFC 1034 section 3.6.2); point the pool at the name the CNAME targets, or remove the CNAME. Nothing was written`,
      { transient: false },
    );
  }

  /**
   * What killed writers left behind. Temp files (`.<zone>.mailpool-<pid>-<hex>.tmp`): called
   * under the lock, and a writer holds the lock while its temp file exists, so every one found
   * is an orphan. Files of lock takers (`<zone>.lock.new-…`, `.stale-…`): see removeLockLeftovers.
   */
  async #removeOrphans(): Promise<void> {
    const target = await realpath(this.config.path).catch(() => this.config.path);
    const dir = dirname(target);
    const temp = new RegExp(`^\\.${escapeRegExp(basename(target))}\\.mailpool-[0-9]+-[0-9a-f]+\\.tmp$`);
    const removed = await removeLockLeftovers(this.lockPath, {
      staleAfterMs: this.config.staleLockMs,
      now: this.#now,
      ...(this.deps.isAlive ? { isAlive: this.deps.isAlive } : {}),
    });
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      // nothing to clean where the folder cannot be listed
    }
    for (const name of names) {
      if (!temp.test(name)) continue;
      const path = join(dir, name);
      await unlink(path).catch(() => undefined);
      removed.push(path);
    }
    for (const path of removed) {
      this.ctx.logger.info({ provider: this.ctx.name, path }, "removed a file left by a writer that was killed");
    }
  }

  #checkInZone(zone: ParsedZone, name: string): void {
    const n = normalizeName(name);
    if (!isInZone(n, zone.apex)) {
      throw new ProviderConfigError(`${n} is not in the zone ${zone.apex} of ${this.config.path}`);
    }
  }

  /** Runs a reload left pending by an earlier failure; true when one ran and succeeded. */
  async #retryPendingReload(signal: AbortSignal): Promise<boolean> {
    let stamp: string;
    try {
      stamp = await readFile(this.stampPath, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
    const command = this.config.reloadCommand;
    if (!command) {
      this.ctx.logger.warn({ provider: this.ctx.name, stamp: this.stampPath }, "reload pending but no reloadCommand configured; dropping it");
      await unlink(this.stampPath).catch(() => undefined);
      return false;
    }
    const outcome = await runReload(command, this.config.reloadTimeoutMs, signal);
    if (!outcome.ok) {
      throw new ProviderError(
        `${this.config.path} was written earlier (${stamp.trim()}) but the reload still fails: ${outcome.reason}`,
        { transient: false },
      );
    }
    await unlink(this.stampPath).catch(() => undefined);
    this.ctx.logger.info({ provider: this.ctx.name, command: commandText(command) }, "pending zone reload succeeded");
    return true;
  }
}

/** What a non-regular file is, for messages. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a regular file";
}

/**
 * The file holds exactly `text` (latin1, one char a byte), compared a chunk at a time so that a
 * large zone is not held in memory a second and third time while its rewrite waits to be renamed.
 */
export async function sameBytes(path: string, text: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    return await holds(fh, text);
  } finally {
    await fh.close();
  }
}

/** The open file holds exactly `text`, read from its start with positioned reads. */
async function holds(fh: FileHandle, text: string): Promise<boolean> {
  // Two reused buffers, the file's bytes and the text's, so the compare leaves no garbage.
  const size = Math.min(1 << 20, Math.max(text.length, 1));
  const file = Buffer.allocUnsafe(size);
  const mine = Buffer.allocUnsafe(size);
  let pos = 0;
  for (;;) {
    const { bytesRead } = await fh.read(file, 0, size, pos);
    if (bytesRead === 0) return pos === text.length;
    if (pos + bytesRead > text.length) return false;
    mine.write(text.slice(pos, pos + bytesRead), 0, "latin1");
    if (file.compare(mine, 0, bytesRead, 0, bytesRead) !== 0) return false;
    pos += bytesRead;
  }
}
