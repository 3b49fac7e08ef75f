import { isIP } from "node:net";
import { BUILTIN_CHECKS } from "./builtin-checks.js";
import { BUILTIN_CHECK_NAMES } from "./protocols.js";
import type { CheckSpec, ProbeTarget, TlsMode } from "./types.js";

/** A probe URL or option a person typed is unusable; the message says what to type instead. */
export class ProbeUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProbeUrlError";
  }
}

/** The flags of `mailpool probe <url>`. */
export interface ProbeUrlOptions {
  /** Force STARTTLS (smtp://, imap://, pop3://). */
  readonly starttls?: boolean;
  /** Force TLS from the first byte. */
  readonly implicitTls?: boolean;
  /** Name for SNI and the certificate check (when the URL holds an IP address). */
  readonly serverName?: string;
  /** Do not verify the certificate chain and name. */
  readonly insecure?: boolean;
  /** Extra trusted CA certificates, PEM text. */
  readonly caPem?: string;
  /** Deadline for the whole handshake. */
  readonly timeoutMs?: number;
}

const SCHEMES: readonly string[] = BUILTIN_CHECK_NAMES;
const LABEL = /^[a-z0-9_](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const isHostName = (name: string): boolean =>
  name.length > 0 && name.length <= 253 && name.replace(/\.$/, "").split(".").every((label) => LABEL.test(label));

/**
 * `smtp://mx1.example.net:25`, `imaps://[2001:db8::1]`, `submission://192.0.2.7` → the built-in
 * check of that name (the scheme), pointed at the URL's host and port (default: the check's).
 */
export function parseProbeUrl(text: string, options: ProbeUrlOptions = {}): { target: ProbeTarget; check: CheckSpec } {
  const example = "e.g. smtp://mx1.example.net:25";
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) throw new ProbeUrlError(`${JSON.stringify(text)} is not a probe URL (${example})`);
  const builtin = Object.hasOwn(BUILTIN_CHECKS, scheme) ? BUILTIN_CHECKS[scheme] : undefined;
  if (!builtin) {
    throw new ProbeUrlError(`unknown probe scheme "${scheme}://" in ${JSON.stringify(text)}: use one of ${SCHEMES.join(", ")}`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ProbeUrlError(`${JSON.stringify(text)} is not a valid URL (${example}; ports are 1–65535)`);
  }
  if (url.username || url.password || (url.pathname !== "" && url.pathname !== "/") || url.search || url.hash) {
    throw new ProbeUrlError(`${JSON.stringify(text)} must be just scheme://host[:port] (${example})`);
  }
  const bracketed = url.hostname.startsWith("[");
  const host = (bracketed ? url.hostname.slice(1, -1) : url.hostname).toLowerCase();
  if (host === "") throw new ProbeUrlError(`${JSON.stringify(text)} has no host (${example})`);
  if (!(bracketed ? isIP(host) === 6 : isIP(host) === 4 || isHostName(host))) {
    throw new ProbeUrlError(`${JSON.stringify(host)} in ${JSON.stringify(text)} is neither an IP address nor a host name`);
  }
  const port = url.port === "" ? builtin.port : Number(url.port);
  if (port < 1) throw new ProbeUrlError(`port ${port} in ${JSON.stringify(text)} is not usable: ports are 1–65535`);

  if (options.starttls && options.implicitTls) throw new ProbeUrlError("--starttls and --implicit-tls exclude each other");
  if (options.starttls && builtin.tls === "implicit") {
    throw new ProbeUrlError(`--starttls conflicts with ${scheme}://, which is TLS from the first byte`);
  }
  const tls: TlsMode = options.starttls ? "starttls" : options.implicitTls ? "implicit" : builtin.tls;

  const { serverName, caPem, timeoutMs } = options;
  if (serverName !== undefined && !isHostName(serverName.toLowerCase())) {
    throw new ProbeUrlError(`--server-name ${JSON.stringify(serverName)} is not a host name`);
  }
  if (caPem !== undefined && !caPem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ProbeUrlError("--ca-file does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)");
  }
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    throw new ProbeUrlError(`--timeout must be a positive whole number of milliseconds, got ${timeoutMs}`);
  }

  const check: CheckSpec = {
    ...builtin,
    name: scheme,
    port,
    tls,
    ...(timeoutMs !== undefined && { timeoutMs, connectTimeoutMs: Math.min(builtin.connectTimeoutMs, timeoutMs) }),
    tlsRules: {
      ...builtin.tlsRules,
      ...(options.insecure && { verify: false }),
      ...(caPem !== undefined && { ca: caPem }),
    },
  };
  const target: ProbeTarget = { host, port, ...(serverName !== undefined && { serverName: serverName.toLowerCase() }) };
  return { target, check };
}
