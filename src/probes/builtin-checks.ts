import { BUILTIN_CHECK_MODES } from "./protocols.js";
import type { CheckSpec, Protocol, TlsMode, TlsRules } from "./types.js";

export const DEFAULT_TLS_RULES: TlsRules = Object.freeze({
  verify: true,
  minVersion: "TLSv1.2",
  certExpiryWarnDays: 14,
  certExpiryFailDays: 0,
});

/** The defaults every check starts from: what a built-in check or a dialogue does not set. */
export const CHECK_DEFAULTS = Object.freeze({
  connectTimeoutMs: 3000,
  timeoutMs: 10_000,
  ehloName: "mailpool.invalid",
  tlsRules: DEFAULT_TLS_RULES,
  maxLineBytes: 4096,
  maxTotalBytes: 65_536,
});

const builtin = (protocol: Protocol, port: number, tls: TlsMode): Omit<CheckSpec, "name"> =>
  Object.freeze({ protocol, port, tls, ...CHECK_DEFAULTS });

/** The built-in check modules, by name (like blackbox_exporter's modules), from protocols.ts. */
export const BUILTIN_CHECKS: Readonly<Record<string, Omit<CheckSpec, "name">>> = Object.freeze(
  Object.fromEntries(BUILTIN_CHECK_MODES.map(({ name, protocol, port, tls }) => [name, builtin(protocol, port, tls)])),
);

/** Port of each built-in check, by name. */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(Object.entries(BUILTIN_CHECKS).map(([name, check]) => [name, check.port])),
);

/** The built-in check `name` as a full CheckSpec, or undefined when there is none. */
export function builtinCheck(name: string): CheckSpec | undefined {
  const check = Object.hasOwn(BUILTIN_CHECKS, name) ? BUILTIN_CHECKS[name] : undefined;
  return check && { name, ...check };
}
