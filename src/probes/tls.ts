import { isIP } from "node:net";
import {
  checkServerIdentity,
  createSecureContext,
  rootCertificates,
  type ConnectionOptions,
  type SecureContext,
  type TLSSocket,
} from "node:tls";
import type { ProbeTarget, TlsFacts, TlsRules } from "./types.js";

const DAY_MS = 86_400_000;

/** The name the certificate must carry: the target's serverName, else its host (name or IP). */
export const certificateName = (target: ProbeTarget): string => target.serverName ?? target.host;

/** SNI to send: the certificate name unless it is an IP address (TLS forbids IPs in SNI). */
export const sniFor = (target: ProbeTarget): string | undefined => {
  const name = certificateName(target);
  return isIP(name) === 0 ? name : undefined;
};

/** Where a name-check failure is kept: Node keeps only its code, we want its message. */
export interface IdentityNote {
  error?: string;
}

/** Secure contexts with a custom CA, by CA text and minimum version (a config has a few). */
const contexts = new Map<string, SecureContext>();
const MAX_CONTEXTS = 32;

/**
 * Node's roots plus `ca`, parsed once: building a context from ~140 root certificates takes tens
 * of milliseconds of blocked event loop, which, per probe, made a few hundred TLS probes at once
 * miss their deadlines ("timeout waiting for banner" from members that had answered).
 */
export function secureContextWithCa(ca: string, minVersion: TlsRules["minVersion"]): SecureContext {
  const key = `${minVersion}\n${ca}`;
  let context = contexts.get(key);
  if (context === undefined) {
    context = createSecureContext({ ca: [...rootCertificates, ca], minVersion });
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value!);
    contexts.set(key, context);
  }
  return context;
}

/** Node's roots alone, per minimum version: without it tls.connect builds a context per probe (issue 10). */
const defaults = new Map<string, SecureContext>();
export function defaultContext(minVersion: TlsRules["minVersion"]): SecureContext {
  let context = defaults.get(minVersion);
  if (context === undefined) {
    context = createSecureContext({ minVersion });
    defaults.set(minVersion, context);
  }
  return context;
}

/**
 * Options for tls.connect. The chain and name are always checked, but never enforced by Node:
 * the probe judges afterwards (judgeTls) so that a failed probe still reports the certificate.
 * A custom CA is added to Node's roots, not put in their place.
 */
export function tlsConnectOptions(target: ProbeTarget, rules: TlsRules, note: IdentityNote): ConnectionOptions {
  const servername = sniFor(target);
  return {
    ...(servername !== undefined && { servername }),
    host: certificateName(target),
    secureContext: rules.ca !== undefined ? secureContextWithCa(rules.ca, rules.minVersion) : defaultContext(rules.minVersion),
    rejectUnauthorized: false,
    minVersion: rules.minVersion,
    checkServerIdentity: (host, cert) => {
      const error = checkServerIdentity(host, cert);
      if (error) note.error = error.message;
      return error;
    },
  };
}

/** OpenSSL's words for the verification codes Node reports (Node keeps the code only). */
const VERIFY_MESSAGES: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: "certificate has expired",
  CERT_NOT_YET_VALID: "certificate is not yet valid",
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "self-signed certificate in certificate chain",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unable to verify the first certificate",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unable to get local issuer certificate",
  UNABLE_TO_GET_ISSUER_CERT: "unable to get issuer certificate",
  CERT_REVOKED: "certificate revoked",
  CERT_SIGNATURE_FAILURE: "certificate signature failure",
  INVALID_CA: "invalid CA certificate",
  INVALID_PURPOSE: "unsupported certificate purpose",
  CERT_UNTRUSTED: "certificate not trusted",
  CERT_REJECTED: "certificate rejected",
};

const text = (value: unknown): string => (Array.isArray(value) ? value.join(", ") : String(value ?? ""));

/** What a finished handshake tells about the connection and the server's certificate. */
export function tlsFacts(socket: TLSSocket, note: IdentityNote, nowMs: number): TlsFacts {
  const cert = socket.getPeerCertificate();
  const validTo = Date.parse(cert.valid_to ?? "");
  const msLeft = validTo - nowMs;
  const daysLeft = Number.isNaN(msLeft) ? 0 : Math.sign(msLeft) * Math.floor(Math.abs(msLeft) / DAY_MS) || 0;
  const code = socket.authorizationError as unknown as string | undefined;
  const authorizationError = socket.authorized ? undefined : (note.error ?? VERIFY_MESSAGES[code ?? ""] ?? text(code));
  return {
    protocol: socket.getProtocol() ?? "unknown",
    cipher: socket.getCipher()?.name ?? "unknown",
    subject: text(cert.subject?.CN),
    issuer: text(cert.issuer?.CN),
    subjectAltNames: cert.subjectaltname ?? "",
    validTo: Number.isNaN(validTo) ? "" : new Date(validTo).toISOString(),
    daysLeft,
    authorized: socket.authorized,
    ...(authorizationError !== undefined && { authorizationError }),
  };
}

const days = (n: number): string => `${n} day${n === 1 ? "" : "s"}`;

/** "expires in 12 days", "expires in less than a day", "expired 2 days ago". */
export function expiryPhrase(validToIso: string, nowMs: number): string {
  const ms = Date.parse(validToIso) - nowMs;
  const whole = Math.floor(Math.abs(ms) / DAY_MS);
  if (ms < 0) return whole === 0 ? "expired less than a day ago" : `expired ${days(whole)} ago`;
  return whole === 0 ? "expires in less than a day" : `expires in ${days(whole)}`;
}

/** Applies the rules to the facts: a reason to fail, or a warning, or neither. */
export function judgeTls(
  facts: TlsFacts,
  target: ProbeTarget,
  rules: TlsRules,
  nowMs: number,
): { readonly failure?: string; readonly warning?: string } {
  const name = certificateName(target);
  if (rules.verify && !facts.authorized) {
    return { failure: `certificate verification failed for ${name}: ${facts.authorizationError ?? "unknown error"}` };
  }
  if (facts.validTo === "") return { failure: `certificate for ${name} has no readable expiry date` };
  const phrase = `certificate for ${name} ${expiryPhrase(facts.validTo, nowMs)}`;
  if (facts.daysLeft <= rules.certExpiryFailDays) return { failure: phrase };
  if (facts.daysLeft <= rules.certExpiryWarnDays) return { warning: phrase };
  return {};
}
