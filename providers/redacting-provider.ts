/**
 * The one place provider text is cleaned of secrets: every error a provider throws (its message,
 * stack and causes), every note it returns and every line it logs passes through a redactor
 * built from its config block and the credential environment variables (src/util/redact.ts).
 * What an endpoint echoes (request headers, the session token) therefore never reaches the
 * logs, the plan, /readyz or an alert, whichever provider or SDK produced the text.
 */
import { createRedactor, secretValues, type Redactor } from "../src/util/redact.js";
import type { ApplyResult, MinimalLogger, Provider, ProviderContext } from "./types.js";

export const redactorFor = (config: unknown, ctx: ProviderContext): Redactor => createRedactor(secretValues(config, ctx.env));

export function redactingLogger(logger: MinimalLogger, r: Redactor): MinimalLogger {
  const wrap =
    (level: keyof MinimalLogger) =>
    (obj: object, msg?: string): void =>
      msg === undefined ? logger[level](r.value(obj) as object) : logger[level](r.value(obj) as object, r.text(msg));
  return { debug: wrap("debug"), info: wrap("info"), warn: wrap("warn"), error: wrap("error") };
}

const cleanResult = (result: ApplyResult, r: Redactor): ApplyResult => ({ ...result, notes: result.notes.map(r.text) });

export function redactingProvider(p: Provider, r: Redactor): Provider {
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      throw r.error(e);
    }
  };
  const finishPending = p.finishPending?.bind(p);
  const close = p.close?.bind(p);
  return {
    kind: p.kind,
    read: (keys, signal) => guard(() => p.read(keys, signal)),
    apply: (changes, signal) => guard(async () => cleanResult(await p.apply(changes, signal), r)),
    ...(finishPending && { finishPending: (signal: AbortSignal) => guard(async () => (await finishPending(signal)).map(r.text)) }),
    ...(close && { close: () => guard(close) }),
  };
}
