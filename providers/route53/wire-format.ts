/**
 * Route 53's text conventions at the provider's edge: names with a trailing dot and `\ooo` octal
 * escapes, quoted TXT character-strings, and the SetIdentifier of a multivalue record set.
 */
import { canonicalIp, ipFamily } from "../../src/util/ip.js";

/**
 * A name as Route 53 returns it ("\052.example.com.") → mailpool's form ("*.example.com"):
 * escapes decoded, lower case, no trailing dot. An escaped dot inside a label (`\056`) stays
 * escaped, so the result still splits into the right labels.
 */
export function fromRoute53Name(wire: string): string {
  let out = "";
  for (let i = 0; i < wire.length; i++) {
    const c = wire[i]!;
    if (c === "\\" && /^[0-7]{3}$/.test(wire.slice(i + 1, i + 4))) {
      const code = Number.parseInt(wire.slice(i + 1, i + 4), 8);
      out += code === 0o56 || code === 0o134 ? wire.slice(i, i + 4) : String.fromCharCode(code);
      i += 3;
    } else {
      out += c;
    }
  }
  out = out.toLowerCase();
  return out.endsWith(".") ? out.slice(0, -1) : out;
}

/**
 * mailpool's form → what Route 53 accepts: a trailing dot, and `\ooo` escapes for the octets
 * Route 53 requires escaped (0–32, 127–255). Other characters (including `*`) are sent as they
 * are; Route 53 answers them escaped, which fromRoute53Name undoes.
 */
export function toRoute53Name(name: string): string {
  let out = "";
  for (const byte of Buffer.from(name.toLowerCase(), "utf8")) {
    out += byte <= 32 || byte >= 127 ? `\\${byte.toString(8).padStart(3, "0")}` : String.fromCharCode(byte);
  }
  return out.endsWith(".") ? out : `${out}.`;
}

/**
 * The SetIdentifier mailpool gives the multivalue record set of one address: a stable function
 * of the address, e.g. "mailpool-192.0.2.10", "mailpool-2001-db8--1". Route 53 documents only a
 * length (1–128); mailpool keeps to letters, digits, '-', '.' so no console, CLI or policy
 * condition has to quote it. Canonical IPs never contain '-', so the mapping stays one-to-one.
 */
export function setIdentifierFor(address: string): string {
  const safe = address.toLowerCase().replace(/[^a-z0-9.]/g, "-");
  return `mailpool-${safe}`.slice(0, 128);
}

/** One TXT value → Route 53's quoted form, split into character-strings of at most 255 octets. */
export function toTxtValue(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  const parts: string[] = [];
  let start = 0;
  do {
    parts.push(quoteCharacterString(bytes.subarray(start, start + 255)));
    start += 255;
  } while (start < bytes.length);
  return parts.join(" ");
}

function quoteCharacterString(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 32 || byte >= 127) out += `\\${byte.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(byte);
  }
  return `"${out}"`;
}

/**
 * Route 53's TXT value (`"part one" "part two"`, `\"`, `\\`, `\ooo`) → the text, character-strings
 * joined. Unquoted words are accepted too (Route 53 returns what was written).
 */
export function fromTxtValue(wire: string): string {
  const bytes: number[] = [];
  let i = 0;
  const pushChar = (ch: string) => bytes.push(...Buffer.from(ch, "utf8"));
  while (i < wire.length) {
    const c = wire[i]!;
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    const quoted = c === '"';
    if (quoted) i++;
    while (i < wire.length) {
      const d = wire[i]!;
      if (quoted ? d === '"' : d === " " || d === "\t") break;
      if (d === "\\" && i + 1 < wire.length) {
        const digits = wire.slice(i + 1, i + 4);
        if (/^[0-7]{3}$/.test(digits)) {
          bytes.push(Number.parseInt(digits, 8) & 0xff);
          i += 4;
        } else {
          pushChar(wire[i + 1]!);
          i += 2;
        }
        continue;
      }
      pushChar(d);
      i++;
    }
    if (quoted) i++; // closing quote
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Value of one record of the given type as Route 53 wants it. */
export const toRecordValue = (type: string, value: string): string => (type === "TXT" ? toTxtValue(value) : value);

/** A record's value as the core sees it: TXT unquoted, addresses canonical where they parse. */
export function fromRecordValue(type: string, wire: string): string {
  if (type === "TXT") return fromTxtValue(wire);
  const text = wire.trim();
  return ipFamily(text) === 0 ? wire : canonicalIp(text);
}
