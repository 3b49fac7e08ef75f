import type { CheckSpec, Protocol, TlsMode, TlsRules } from "./types.js";

export const DEFAULT_TLS_RULES: TlsRules = Object.freeze({
  verify: true,
  minVersion: "TLSv1.2",
  certExpiryWarnDays: 14,
  certExpiryFailDays: 0,
});

const builtin = (protocol: Protocol, port: number, tls: TlsMode): Omit<CheckSpec, "name"> =>
  Object.freeze({
    protocol,
    port,
    tls,
    connectTimeoutMs: 3000,
    timeoutMs: 10_000,
    ehloName: "mailpool.invalid",
    tlsRules: DEFAULT_TLS_RULES,
    maxLineBytes: 4096,
    maxTotalBytes: 65_536,
  });

/** The built-in check modules, by name (like blackbox_exporter's modules). */
export const BUILTIN_CHECKS: Readonly<Record<string, Omit<CheckSpec, "name">>> = Object.freeze({
  smtp: builtin("smtp", 25, "none"),
  submission: builtin("smtp", 587, "starttls"),
  smtps: builtin("smtp", 465, "implicit"),
  imap: builtin("imap", 143, "none"),
  imaps: builtin("imap", 993, "implicit"),
  pop3: builtin("pop3", 110, "none"),
  pop3s: builtin("pop3", 995, "implicit"),
});

/** Port of each built-in check, by name. */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(Object.entries(BUILTIN_CHECKS).map(([name, check]) => [name, check.port])),
);

/** The built-in check `name` as a full CheckSpec, or undefined when there is none. */
export function builtinCheck(name: string): CheckSpec | undefined {
  const check = Object.hasOwn(BUILTIN_CHECKS, name) ? BUILTIN_CHECKS[name] : undefined;
  return check && { name, ...check };
}
