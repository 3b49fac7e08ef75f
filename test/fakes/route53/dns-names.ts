/**
 * Names as the fake Route 53 server keeps them: a list of decoded, lower-case labels. Route 53
 * (DomainNameFormat.md) stores letters in lower case, accepts `\ooo` octal escapes, and returns
 * every character other than a–z, 0–9, '-' and '_' as an escape code; it sorts names by their
 * labels reversed (com, example, www).
 */

export type Labels = readonly string[];

/** "\052.Example.COM." or "*.example.com" → ["*", "example", "com"]. */
export function parseName(wire: string): Labels {
  const labels: string[] = [];
  let label = "";
  for (let i = 0; i < wire.length; i++) {
    const c = wire[i]!;
    if (c === "\\" && /^[0-7]{3}$/.test(wire.slice(i + 1, i + 4))) {
      label += String.fromCharCode(Number.parseInt(wire.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (c === "\\" && i + 1 < wire.length) {
      label += wire[i + 1];
      i += 1;
    } else if (c === ".") {
      labels.push(label);
      label = "";
    } else {
      label += c;
    }
  }
  if (label !== "") labels.push(label);
  return labels.map((l) => l.toLowerCase());
}

/** Labels → Route 53's answer form: escape codes for everything but a–z 0–9 - _, trailing dot. */
export function formatName(labels: Labels): string {
  const escaped = labels.map((label) =>
    [...label]
      .map((c) => (/[a-z0-9_-]/.test(c) ? c : `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`))
      .join(""),
  );
  return `${escaped.join(".")}.`;
}

/** Route 53's listing order: labels compared right to left; a parent sorts before its children. */
export function compareNames(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let k = 1; k <= n; k++) {
    const x = a[a.length - k]!;
    const y = b[b.length - k]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

export const sameName = (a: Labels, b: Labels): boolean => compareNames(a, b) === 0;

/** True when `name` is `zone` or below it. */
export const inZone = (name: Labels, zone: Labels): boolean =>
  name.length >= zone.length && zone.every((label, k) => name[name.length - zone.length + k] === label);
