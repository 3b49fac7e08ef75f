/**
 * The lexer of a BIND master file (RFC 1035 section 5.1): reads the text as logical entries (one
 * directive or resource record, which parentheses may spread over several lines), one at a time,
 * remembering where every token sits so that edits can touch single tokens and leave every other
 * byte alone.
 *
 * It keeps nothing: a reader hands out one entry, and what the caller does not keep is garbage. A
 * zone of hundreds of thousands of records is read in memory proportional to one entry, and an
 * entry can be read again later from its position alone (EntryReader.at).
 */
import { ZoneSyntaxError } from "./zone-syntax-error.js";

export interface Token {
  /** The token as written: quotes and backslash escapes included. */
  readonly text: string;
  readonly quoted: boolean;
  /** 0-based index of the physical line. */
  readonly line: number;
  /** Offsets in the line's text (without its line ending). */
  readonly start: number;
  readonly end: number;
  /** Offset of its first character in the whole text. */
  readonly pos: number;
}

export interface Entry {
  /** 0-based index of the entry among all entries. */
  readonly index: number;
  /** 0-based indexes of its first and last physical line. */
  readonly firstLine: number;
  readonly lastLine: number;
  readonly tokens: readonly Token[];
  /** The first line starts with white space: the owner is the previous record's. */
  readonly blankOwner: boolean;
  /** Offset in the whole text where its first line starts. */
  readonly startPos: number;
  /** Offset just after its last line's line ending. */
  readonly endPos: number;
}

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const FF = 0x0c;
const VT = 0x0b;
const SEMI = 0x3b;
const OPEN = 0x28;
const CLOSE = 0x29;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Reads the entries of a zone text one by one, from the start or from a known entry. */
export class EntryReader {
  #pos: number;
  #line: number;
  #index: number;

  constructor(
    readonly text: string,
    readonly source: string,
    start = 0,
    line = 0,
    index = 0,
  ) {
    this.#pos = start;
    this.#line = line;
    this.#index = index;
  }

  /** The entry that starts at `start` (a line start, on line `line`), read again. */
  static at(text: string, source: string, start: number, line: number, index: number): Entry {
    const entry = new EntryReader(text, source, start, line, index).next();
    if (!entry) throw new RangeError(`no zone entry at offset ${start}`);
    return entry;
  }

  /** The next entry, or undefined at the end of the text. Throws ZoneSyntaxError. */
  next(): Entry | undefined {
    const text = this.text;
    const len = text.length;
    let tokens: Token[] = [];
    let depth = 0;
    let openedAt = 0;
    let firstLine = -1;
    let startPos = 0;
    while (this.#pos < len) {
      const lineStart = this.#pos;
      const li = this.#line;
      const nl = text.indexOf("\n", lineStart);
      const next = nl < 0 ? len : nl + 1;
      // The line's text without its line ending ("\n" or "\r\n").
      const stop = nl < 0 ? len : nl > lineStart && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      let i = lineStart;
      while (i < stop) {
        const c = text.charCodeAt(i);
        if (c === SPACE || c === TAB || c === CR || c === FF || c === VT) {
          i++;
        } else if (c === SEMI) {
          break;
        } else if (c === OPEN) {
          if (depth === 0) openedAt = li;
          if (firstLine < 0) [firstLine, startPos] = [li, lineStart];
          depth++;
          i++;
        } else if (c === CLOSE) {
          if (depth === 0) throw new ZoneSyntaxError(this.source, li + 1, "unbalanced ')'");
          depth--;
          i++;
        } else if (c === QUOTE) {
          const start = i;
          i++;
          while (i < stop && text.charCodeAt(i) !== QUOTE) i += text.charCodeAt(i) === BACKSLASH ? 2 : 1;
          if (i >= stop) throw new ZoneSyntaxError(this.source, li + 1, "unterminated quoted string");
          i++;
          if (firstLine < 0) [firstLine, startPos] = [li, lineStart];
          tokens.push({ text: text.slice(start, i), quoted: true, line: li, start: start - lineStart, end: i - lineStart, pos: start });
        } else {
          const start = i;
          while (i < stop) {
            const d = text.charCodeAt(i);
            if (d === SPACE || d === TAB || d === SEMI || d === OPEN || d === CLOSE || d === QUOTE || d === CR) break;
            i += d === BACKSLASH ? 2 : 1;
          }
          i = Math.min(i, stop);
          if (firstLine < 0) [firstLine, startPos] = [li, lineStart];
          tokens.push({ text: text.slice(start, i), quoted: false, line: li, start: start - lineStart, end: i - lineStart, pos: start });
        }
      }
      this.#pos = next;
      this.#line++;
      if (depth === 0 && firstLine >= 0) {
        if (tokens.length > 0) {
          const head = text.charCodeAt(startPos);
          return {
            index: this.#index++,
            firstLine,
            lastLine: li,
            tokens,
            blankOwner: head === SPACE || head === TAB,
            startPos,
            endPos: next,
          };
        }
        tokens = [];
        firstLine = -1;
      }
    }
    if (depth > 0) throw new ZoneSyntaxError(this.source, openedAt + 1, "'(' is never closed");
    return undefined;
  }
}

/** Every entry of a zone text (for tools and tests; the provider reads them one at a time). */
export function tokenizeZone(text: string, source: string): Entry[] {
  const reader = new EntryReader(text, source);
  const entries: Entry[] = [];
  for (let e = reader.next(); e; e = reader.next()) entries.push(e);
  return entries;
}
