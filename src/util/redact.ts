/**
 * Secrets out of text. Every credential value mailpool was given (the config's secret fields,
 * the credential environment variables), in each form it travels in (as is, base64, URL-encoded,
 * JSON- and XML-escaped), becomes "[redacted]"; so does the value after a credential header's
 * name ("authorization: …", "x-amz-security-token: …"), which also covers credentials mailpool
 * never saw (an AWS profile, instance or web-identity credentials) when an endpoint echoes them.
 * Applied where text leaves a provider (providers/redacting-provider.ts), whatever produced it.
 */
export const REDACTED = "[redacted]";

/** Environment variables that hold credentials (the ones the providers read). */
export const SECRET_ENV_VARS: readonly string[] = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "CLOUDFLARE_API_TOKEN",
];

/**
 * Config keys whose string values are secrets, in any provider block: apiToken, secretAccessKey,
 * sessionToken, a TSIG key's `secret`, passwords.
 */
const SECRET_KEY = /secret|token|password|passphrase|credential|privatekey/i;

/**
 * Header names whose value is a credential, when server text quotes them; the value is an
 * optional scheme ("Bearer", "AWS4-HMAC-SHA256"), the credential, and any ", key=value" params.
 */
const CREDENTIAL_HEADER =
  /\b(authorization|proxy-authorization|x-amz-security-token|x-auth-key|x-auth-user-service-key|cookie)(["']?\s*[:=]\s*["']?)(?:[A-Za-z0-9-]+\s+)?[^\s"'<>;|,]+(?:,\s*[A-Za-z-]+=[^\s"'<>;|,]+)*/gi;

/** The secret values in a config block (any depth) and in the credential environment variables. */
export function secretValues(config: unknown, env: Readonly<Record<string, string | undefined>>): string[] {
  const found: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (depth > 16 || typeof value !== "object" || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (typeof inner === "string" && SECRET_KEY.test(key)) found.push(inner);
      else walk(inner, depth + 1);
    }
  };
  walk(config, 0);
  for (const name of SECRET_ENV_VARS) {
    const value = env[name];
    if (value !== undefined) found.push(value);
  }
  return [...new Set(found.flatMap((s) => [s, s.trim()]).filter((s) => s.length > 0))];
}

const xmlEscape = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");

/** Every form a secret travels in. */
function forms(secret: string): string[] {
  const base64 = Buffer.from(secret).toString("base64");
  const uri = encodeURIComponent(secret);
  return [
    secret,
    base64,
    base64.replace(/=+$/, ""),
    Buffer.from(secret).toString("base64url"),
    uri,
    uri.replace(/%20/g, "+"),
    uri.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    JSON.stringify(secret).slice(1, -1),
    xmlEscape(secret),
  ];
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface Redactor {
  /** The text with every secret replaced. */
  text(s: string): string;
  /**
   * The same error, its message and stack (and those of its causes) redacted in place, so its
   * class and fields (transient, retryAfterMs, key, applied) stay as they were.
   */
  error<E>(e: E): E;
  /** A copy of a log object or value with every string redacted. */
  value(v: unknown): unknown;
}

export function createRedactor(secrets: readonly string[]): Redactor {
  const all = [...new Set(secrets.filter((s) => s.length > 0).flatMap(forms).filter((s) => s.length > 0))];
  // Longest first, so a secret inside a longer form is not replaced piecemeal.
  all.sort((a, b) => b.length - a.length);
  const values = all.length > 0 ? new RegExp(all.map(escapeRegExp).join("|"), "g") : undefined;

  const text = (s: string): string => {
    const out = values ? s.replace(values, REDACTED) : s;
    return out.replace(CREDENTIAL_HEADER, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`);
  };

  const error = <E>(e: E): E => {
    const seen = new Set<unknown>();
    const visit = (x: unknown, depth: number): void => {
      if (depth > 8 || typeof x !== "object" || x === null || seen.has(x)) return;
      seen.add(x);
      const err = x as { message?: unknown; stack?: unknown; cause?: unknown; errors?: unknown; applied?: unknown };
      try {
        if (typeof err.message === "string") err.message = text(err.message);
        if (typeof err.stack === "string") err.stack = text(err.stack);
        const applied = err.applied as { notes?: unknown } | undefined;
        if (applied && Array.isArray(applied.notes)) {
          err.applied = { ...applied, notes: applied.notes.map((n) => (typeof n === "string" ? text(n) : n)) };
        }
      } catch {
        // a frozen or exotic error: its text cannot be changed; nothing better to do here
      }
      visit(err.cause, depth + 1);
      if (Array.isArray(err.errors)) for (const inner of err.errors) visit(inner, depth + 1);
    };
    visit(e, 0);
    return e;
  };

  const value = (v: unknown, depth = 0): unknown => {
    if (typeof v === "string") return text(v);
    if (depth > 8 || typeof v !== "object" || v === null) return v;
    if (v instanceof Error) return error(v);
    if (Array.isArray(v)) return v.map((x) => value(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x, depth + 1)]));
  };

  return { text, error, value: (v) => value(v) };
}
