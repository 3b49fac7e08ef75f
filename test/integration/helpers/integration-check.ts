/** CheckSpecs for the real servers: a built-in check (BUILTIN_CHECKS) with short test timeouts. */
import { BUILTIN_CHECKS, DEFAULT_TLS_RULES } from "../../../src/probes/index.js";
import type { CheckSpec, TlsRules } from "../../../src/probes/types.js";

/** The built-in check `module` on `port`, connect 1 s and whole handshake 3 s, optional TLS rules. */
export function integrationCheck(module: string, port: number, over: Partial<Omit<CheckSpec, "tlsRules">> & { tlsRules?: Partial<TlsRules> } = {}): CheckSpec {
  const builtin = Object.hasOwn(BUILTIN_CHECKS, module) ? BUILTIN_CHECKS[module] : undefined;
  if (!builtin) throw new TypeError(`no built-in check ${module}`);
  const { tlsRules, ...rest } = over;
  return {
    ...builtin,
    name: `it-${module}`,
    port,
    connectTimeoutMs: 1000,
    timeoutMs: 3000,
    ehloName: "prober.mailpool.test",
    ...rest,
    tlsRules: { ...DEFAULT_TLS_RULES, ...tlsRules },
  };
}
