/**
 * DNS names inside mailpool are absolute, lower case, without the trailing dot. Providers convert
 * at their edge (Route 53 wants the dot and escapes some octets as \NNN).
 */
export function normalizeName(name: string): string {
  let n = name.trim().toLowerCase();
  if (n.endsWith(".")) n = n.slice(0, -1);
  return n;
}

const LABEL = /^(?:\*|_?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$/;

/** Why `name` is not a usable host name, or undefined when it is. */
export function invalidNameReason(name: string): string | undefined {
  const n = normalizeName(name);
  if (n.length === 0) return "is empty";
  if (n.length > 253) return `is ${n.length} characters long (at most 253)`;
  const labels = n.split(".");
  if (labels.length < 2) return "must be a fully qualified name (e.g. smtp.example.com)";
  for (const label of labels) {
    if (!LABEL.test(label)) return `has an invalid label ${JSON.stringify(label)}`;
  }
  return undefined;
}

/** True when `name` is `zone` or below it. */
export const isInZone = (name: string, zone: string): boolean =>
  name === zone || name.endsWith(`.${zone}`);
