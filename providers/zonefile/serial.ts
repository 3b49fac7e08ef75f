/**
 * SOA serial arithmetic (RFC 1982: 32-bit, wrapping). A serial that looks like a date
 * (YYYYMMDDnn) moves to today's date when it is behind, so operators who number by date keep
 * doing so; any other serial just counts up.
 */

const MODULUS = 2 ** 32;

/** True for serials of the form YYYYMMDDnn with a plausible date. */
export function isDateSerial(serial: number): boolean {
  const s = String(serial);
  if (!/^[0-9]{10}$/.test(s)) return false;
  const year = Number(s.slice(0, 4));
  const month = Number(s.slice(4, 6));
  const day = Number(s.slice(6, 8));
  return year >= 1990 && year <= 2199 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/** The UTC date of `now` as YYYYMMDD00. */
export function dateSerial(now: Date): number {
  return (now.getUTCFullYear() * 10_000 + (now.getUTCMonth() + 1) * 100 + now.getUTCDate()) * 100;
}

/** The next serial: max(today's YYYYMMDD00, serial + 1) for date serials, else serial + 1, mod 2^32. */
export function bumpSerial(serial: number, now: Date): number {
  if (!Number.isInteger(serial) || serial < 0 || serial >= MODULUS) {
    throw new RangeError(`Expected an SOA serial between 0 and ${MODULUS - 1}, got ${serial}`);
  }
  const next = (serial + 1) % MODULUS;
  if (!isDateSerial(serial)) return next;
  return Math.max(dateSerial(now), next) % MODULUS;
}
