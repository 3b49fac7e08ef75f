import type { Duplex } from "node:stream";

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const CONTROL_ALL = /[\x00-\x08\x0a-\x1f\x7f]/g;

/** Why a reader stopped delivering lines; turned into a reason naming what we waited for. */
type Stop =
  | { readonly kind: "closed" }
  | { readonly kind: "error"; readonly error: NodeJS.ErrnoException }
  | { readonly kind: "line-too-long" }
  | { readonly kind: "too-many-bytes" };

/**
 * Splits what a server sends into lines (CRLF, bare LF tolerated) with two bounds: the longest
 * line and the total bytes of the whole probe (the count survives a STARTTLS re-attach). Once a
 * bound is crossed the stream is paused and the reader only reports why it stopped. Control
 * characters in lines become "?" so server text can go into a reason as is.
 */
export class LineReader {
  readonly #lines: string[] = [];
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #total = 0;
  #stop: Stop | undefined;
  #source: Duplex | undefined;
  /** Called whenever a line arrives or the reader stops. */
  onChange: (() => void) | undefined;

  constructor(
    readonly maxLineBytes: number,
    readonly maxTotalBytes: number,
  ) {}

  attach(source: Duplex): void {
    this.#source = source;
    source.on("data", this.#onData);
    source.on("end", this.#onClose);
    source.on("close", this.#onClose);
    source.on("error", this.#onError);
  }

  /** Stops listening; returns how many received bytes nobody has read yet. */
  detach(): number {
    const source = this.#source;
    if (source) {
      source.off("data", this.#onData);
      source.off("end", this.#onClose);
      source.off("close", this.#onClose);
      source.off("error", this.#onError);
    }
    this.#source = undefined;
    const unread = this.#partialBytes + this.#lines.reduce((n, line) => n + line.length + 1, 0);
    this.#lines.length = 0;
    this.#partial = [];
    this.#partialBytes = 0;
    return unread;
  }

  /** The next complete line, if one is waiting. */
  shift(): string | undefined {
    return this.#lines.shift();
  }

  /** Why no more lines will come, phrased for a wait on `what`; undefined while reading goes on. */
  stopReason(what: string): string | undefined {
    const stop = this.#stop;
    if (!stop) return undefined;
    switch (stop.kind) {
      case "closed":
        return `connection closed by server while waiting for ${what}`;
      case "error":
        return stop.error.code === "ECONNRESET" || stop.error.code === "EPIPE"
          ? `connection reset by server while waiting for ${what}`
          : `connection error while waiting for ${what}: ${stop.error.message}`;
      case "line-too-long":
        return `line longer than ${this.maxLineBytes} bytes while waiting for ${what}`;
      case "too-many-bytes":
        return `server sent more than ${this.maxTotalBytes} bytes while waiting for ${what}`;
    }
  }

  #finish(stop: Stop): void {
    if (this.#stop) return;
    this.#stop = stop;
    if (stop.kind === "line-too-long" || stop.kind === "too-many-bytes") this.#source?.pause();
    this.onChange?.();
  }

  readonly #onClose = (): void => this.#finish({ kind: "closed" });
  readonly #onError = (error: NodeJS.ErrnoException): void => this.#finish({ kind: "error", error });

  readonly #onData = (data: Buffer): void => {
    if (this.#stop) return;
    // Bytes up to the bound still count: their lines are delivered before the stop.
    const room = this.maxTotalBytes - this.#total;
    const chunk = data.length > room ? data.subarray(0, room) : data;
    this.#total += data.length;
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      // The usual case, a line within one chunk, is decoded in place (no copy).
      const line = this.#partial.length === 0 ? chunk.subarray(start, nl) : Buffer.concat([...this.#partial, chunk.subarray(start, nl)]);
      this.#partial = [];
      this.#partialBytes = 0;
      start = nl + 1;
      const end = line.at(-1) === 13 ? line.length - 1 : line.length;
      if (end > this.maxLineBytes) return this.#finish({ kind: "line-too-long" });
      const text = line.toString("utf8", 0, end);
      this.#lines.push(CONTROL.test(text) ? text.replace(CONTROL_ALL, "?") : text);
    }
    if (start < chunk.length) {
      this.#partial.push(chunk.subarray(start));
      this.#partialBytes += chunk.length - start;
      // One byte of slack for the CR of a CRLF split across chunks.
      if (this.#partialBytes > this.maxLineBytes + 1) return this.#finish({ kind: "line-too-long" });
    }
    if (this.#total > this.maxTotalBytes) return this.#finish({ kind: "too-many-bytes" });
    this.onChange?.();
  };
}

/** Server text for a reason: at most `max` characters. */
export const clip = (text: string, max = 200): string =>
  text.length <= max ? text : `${text.slice(0, max)}…`;
