/**
 * The lexer of a BIND master file (RFC 1035 section 5.1): splits the text into physical lines and
 * logical entries (one directive or resource record, which parentheses may spread over several
 * lines), remembering where every token sits so that edits can touch single tokens and leave
 * every other byte alone.
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
}

export interface PhysicalLine {
  /** The text without its line ending. */
  readonly text: string;
  /** "\n", "\r\n", or "" for a last line without one. */
  readonly eol: string;
}

export interface TokenizedZone {
  readonly lines: readonly PhysicalLine[];
  readonly entries: readonly Entry[];
}

export function splitLines(text: string): PhysicalLine[] {
  const lines: PhysicalLine[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    if (nl < 0) {
      lines.push({ text: text.slice(pos), eol: "" });
      break;
    }
    const cr = nl > pos && text[nl - 1] === "\r";
    lines.push({ text: text.slice(pos, cr ? nl - 1 : nl), eol: cr ? "\r\n" : "\n" });
    pos = nl + 1;
  }
  return lines;
}

const isSpace = (c: string | undefined): boolean => c === " " || c === "\t";

export function tokenizeZone(text: string, source: string): TokenizedZone {
  const lines = splitLines(text);
  const entries: Entry[] = [];
  let tokens: Token[] = [];
  let depth = 0;
  let openedAt = 0;
  let firstLine = -1;

  for (let li = 0; li < lines.length; li++) {
    const s = (lines[li] as PhysicalLine).text;
    let i = 0;
    while (i < s.length) {
      const c = s[i] as string;
      if (isSpace(c) || c === "\r" || c === "\f" || c === "\v") {
        i++;
      } else if (c === ";") {
        break;
      } else if (c === "(") {
        if (depth === 0) openedAt = li;
        if (firstLine < 0) firstLine = li;
        depth++;
        i++;
      } else if (c === ")") {
        if (depth === 0) throw new ZoneSyntaxError(source, li + 1, "unbalanced ')'");
        depth--;
        i++;
      } else if (c === '"') {
        const start = i;
        i++;
        while (i < s.length && s[i] !== '"') i += s[i] === "\\" ? 2 : 1;
        if (i >= s.length) throw new ZoneSyntaxError(source, li + 1, "unterminated quoted string");
        i++;
        if (firstLine < 0) firstLine = li;
        tokens.push({ text: s.slice(start, i), quoted: true, line: li, start, end: i });
      } else {
        const start = i;
        while (i < s.length) {
          const d = s[i] as string;
          if (isSpace(d) || d === ";" || d === "(" || d === ")" || d === '"' || d === "\r") break;
          i += d === "\\" ? 2 : 1;
        }
        i = Math.min(i, s.length);
        if (firstLine < 0) firstLine = li;
        tokens.push({ text: s.slice(start, i), quoted: false, line: li, start, end: i });
      }
    }
    if (depth === 0 && firstLine >= 0) {
      if (tokens.length > 0) {
        const head = (lines[firstLine] as PhysicalLine).text;
        entries.push({
          index: entries.length,
          firstLine,
          lastLine: li,
          tokens,
          blankOwner: head.length > 0 && isSpace(head[0]),
        });
      }
      tokens = [];
      firstLine = -1;
    }
  }
  if (depth > 0) throw new ZoneSyntaxError(source, openedAt + 1, "'(' is never closed");
  return { lines, entries };
}
