import { isIP } from "node:net";

/** 4, 6, or 0 when the text is not an IP address. */
export const ipFamily = (text: string): 0 | 4 | 6 => isIP(text) as 0 | 4 | 6;

/**
 * Canonical text of an IP address, so that "2001:DB8::0:1" and "2001:db8::1" compare equal:
 * IPv4 as a dotted quad, IPv6 compressed and lower case (RFC 5952, as the WHATWG URL parser
 * serialises it). Throws on anything else.
 */
export function canonicalIp(text: string): string {
  const family = ipFamily(text);
  if (family === 4) return text;
  if (family === 6 && !text.includes("%")) return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  throw new TypeError(`not an IP address: ${JSON.stringify(text)}`);
}

/** The record type that holds an address. */
export const recordTypeOf = (address: string): "A" | "AAAA" =>
  ipFamily(address) === 6 ? "AAAA" : "A";
