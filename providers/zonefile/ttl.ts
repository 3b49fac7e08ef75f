/** TTL text in zone files: plain seconds ("3600") or BIND units ("1h30m", "1d", "2W"). */

export const MAX_TTL = 2 ** 31 - 1;

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Looks like a TTL: starts with a digit and uses only digits and unit letters. */
export const looksLikeTtl = (text: string): boolean => /^[0-9][0-9smhdwSMHDW]*$/.test(text);

/** Seconds, or undefined when the text is not a valid TTL. */
export function parseTtl(text: string): number | undefined {
  if (/^[0-9]+$/.test(text)) {
    const n = Number(text);
    return n <= MAX_TTL ? n : undefined;
  }
  const re = /([0-9]+)([smhdw])/giy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT[(m[2] as string).toLowerCase()] as number);
    pos = re.lastIndex;
  }
  if (pos !== text.length || pos === 0 || total > MAX_TTL) return undefined;
  return total;
}
