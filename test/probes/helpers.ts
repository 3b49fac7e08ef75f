/** Shared set-up for the probe tests: checks with short deadlines, listeners stopped after each test. */
import { onTestFinished } from "vitest";
import { startMailListener, type MailListener, type MailListenerOptions } from "../../src/demo/mail-listener.js";
import { BUILTIN_CHECKS } from "../../src/probes/builtin-checks.js";
import type { CheckSpec, Protocol, ProbeTarget, TlsMode, TlsRules } from "../../src/probes/types.js";

const NAMES: Record<Protocol, Record<TlsMode, string>> = {
  smtp: { none: "smtp", starttls: "submission", implicit: "smtps" },
  imap: { none: "imap", starttls: "imap", implicit: "imaps" },
  pop3: { none: "pop3", starttls: "pop3", implicit: "pop3s" },
};

/** The built-in check for protocol + TLS mode, with test-sized deadlines. */
export function checkFor(
  protocol: Protocol,
  tls: TlsMode,
  overrides: Partial<Omit<CheckSpec, "tlsRules">> = {},
  rules: Partial<TlsRules> = {},
): CheckSpec {
  const name = NAMES[protocol][tls];
  const builtin = BUILTIN_CHECKS[name]!;
  return {
    ...builtin,
    name,
    tls,
    connectTimeoutMs: 2000,
    timeoutMs: 3000,
    ...overrides,
    tlsRules: { ...builtin.tlsRules, ...rules },
  };
}

/** A listener on 127.0.0.1 (unless told otherwise), stopped when the test ends. */
export async function listen(options: MailListenerOptions): Promise<MailListener> {
  const listener = await startMailListener(options);
  onTestFinished(() => listener.stop());
  return listener;
}

/** The listener's address, checked under the name mx1.example.net (null: under its IP address). */
export const targetOf = (listener: MailListener, serverName: string | null = "mx1.example.net"): ProbeTarget => ({
  host: listener.host,
  port: listener.port,
  ...(serverName !== null && { serverName }),
});

export const never = (): AbortSignal => new AbortController().signal;

/** Polls until `condition` holds (for server-side counters that lag the client by an event). */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
