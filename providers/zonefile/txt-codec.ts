/**
 * TXT character-strings in zone-file syntax (RFC 1035 section 5.1): `"quoted"` or bare, with
 * `\X` and `\DDD` escapes. mailpool's TXT value is the UTF-8 text of all the strings joined.
 */

/** A character-string holds at most 255 bytes (RFC 1035 section 3.3). */
export const MAX_STRING = 255;

/** The bytes of one character-string token as written in the file (quotes included or not). */
export function decodeCharacterString(token: string): number[] {
  const body = token.startsWith('"') && token.endsWith('"') && token.length >= 2 ? token.slice(1, -1) : token;
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    let c = body.charCodeAt(i);
    if (c === 0x5c /* \ */ && i + 1 < body.length) {
      const ddd = /^[0-9]{3}/.exec(body.slice(i + 1, i + 4));
      if (ddd) {
        bytes.push(Number(ddd[0]) & 0xff);
        i += 3;
        continue;
      }
      i++;
      c = body.charCodeAt(i);
    }
    if (c <= 0xff) {
      // The file is read as latin1, so each char is one byte of the file.
      bytes.push(c);
    } else {
      // A string built in memory may hold real Unicode; keep its UTF-8 bytes.
      const cp = body.codePointAt(i) as number;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), "utf8")) bytes.push(b);
    }
  }
  return bytes;
}

/**
 * The TXT value of a record's rdata tokens: the character-strings joined, as UTF-8 text. A
 * string over 255 bytes is refused (RangeError naming its index): a name server would refuse it.
 */
export function decodeTxt(tokens: readonly string[]): string {
  const parts: Buffer[] = [];
  tokens.forEach((t, i) => {
    const bytes = decodeCharacterString(t);
    if (bytes.length > MAX_STRING) {
      throw new RangeError(`character-string ${i + 1} of the TXT record is ${bytes.length} bytes; at most ${MAX_STRING} are allowed (RFC 1035 section 3.3)`);
    }
    parts.push(Buffer.from(bytes));
  });
  return Buffer.concat(parts).toString("utf8");
}

/** The byte length of one character-string token, as decodeCharacterString would count it. */
function characterStringLength(token: string): number {
  const body = token.startsWith('"') && token.endsWith('"') && token.length >= 2 ? token.slice(1, -1) : token;
  let n = 0;
  for (let i = 0; i < body.length; i++) {
    let c = body.charCodeAt(i);
    if (c === 0x5c /* \ */ && i + 1 < body.length) {
      if (/^[0-9]{3}/.test(body.slice(i + 1, i + 4))) {
        n++;
        i += 3;
        continue;
      }
      i++;
      c = body.charCodeAt(i);
    }
    if (c <= 0xff) {
      n++;
    } else {
      const cp = body.codePointAt(i) as number;
      if (cp > 0xffff) i++;
      n += cp <= 0x7ff ? 2 : cp <= 0xffff ? 3 : 4;
    }
  }
  return n;
}

/** Throws what decodeTxt throws for these tokens, without building the text. */
export function checkTxt(tokens: readonly string[]): void {
  tokens.forEach((t, i) => {
    const bytes = characterStringLength(t);
    if (bytes > MAX_STRING) {
      throw new RangeError(`character-string ${i + 1} of the TXT record is ${bytes} bytes; at most ${MAX_STRING} are allowed (RFC 1035 section 3.3)`);
    }
  });
}

const quoteBytes = (bytes: Uint8Array): string => {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += "\\\\";
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += `\\${String(b).padStart(3, "0")}`;
  }
  return `${out}"`;
};

/**
 * The rdata of a TXT record holding `value`: quoted character-strings of at most 255 bytes
 * each, separated by a space; bytes outside printable ASCII are written as \DDD.
 */
export function encodeTxt(value: string): string {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length === 0) return '""';
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += MAX_STRING) {
    parts.push(quoteBytes(bytes.subarray(i, i + MAX_STRING)));
  }
  return parts.join(" ");
}
