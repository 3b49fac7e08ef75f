/**
 * The probe seam: one protocol handshake against one address. Every prober has the same
 * signature and never throws for a failed handshake — a failure is an Observation with ok false
 * and a reason a person can act on.
 */

import type { Protocol } from "./protocols.js";
import type { CompiledDialogue } from "./scripted.js";

export type { Protocol } from "./protocols.js";
export type TlsMode = "none" | "starttls" | "implicit";

export interface TlsRules {
  /** Verify the certificate chain and name (default true). */
  readonly verify: boolean;
  /** Extra trusted CA certificates, PEM text (loaded from the config's caFile). */
  readonly ca?: string;
  readonly minVersion: "TLSv1.2" | "TLSv1.3";
  /** A certificate expiring within this many days gives a warning (still ok). */
  readonly certExpiryWarnDays: number;
  /** A certificate expiring within this many days fails the probe. */
  readonly certExpiryFailDays: number;
}

/** A named, reusable handshake module (like a blackbox_exporter module). */
export interface CheckSpec {
  readonly name: string;
  /** A dialect in code (protocols.ts), or "dialogue": the steps in `dialogue`. */
  readonly protocol: Protocol | "dialogue";
  /** With protocol "dialogue": the compiled steps (scripted.ts), from a built-in or config dialogue. */
  readonly dialogue?: CompiledDialogue;
  readonly port: number;
  readonly tls: TlsMode;
  readonly connectTimeoutMs: number;
  /** Deadline for the whole handshake, connect included. */
  readonly timeoutMs: number;
  /** Name sent in EHLO/HELO (SMTP). */
  readonly ehloName: string;
  /** Optional regular expression the greeting line must match. */
  readonly expectGreeting?: string;
  readonly tlsRules: TlsRules;
  /** Longest line accepted from the server, in bytes. */
  readonly maxLineBytes: number;
  /** Most bytes read from the server in one probe. */
  readonly maxTotalBytes: number;
  /**
   * SMTP: after EHLO (and STARTTLS), ask MAIL FROM:<> and RCPT TO:<this address>, then RSET; the
   * probe fails unless RCPT is accepted (2xx). Never DATA: nothing is sent. Proves a (fallback)
   * MX accepts mail for the domain rather than refusing it as relay.
   */
  readonly rcptTo?: string;
}

export interface ProbeTarget {
  /** IP address (or, for ad-hoc probes, a host name) to connect to. */
  readonly host: string;
  readonly port: number;
  /** TLS server name (SNI and certificate name check); defaults to host when it is a name. */
  readonly serverName?: string;
}

export interface Phase {
  /** "connect", "tls", "greeting", "ehlo", "starttls", "capability", "capa", "quit", … */
  readonly name: string;
  readonly ms: number;
}

export interface TlsFacts {
  readonly protocol: string;
  readonly cipher: string;
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltNames: string;
  /** ISO 8601. */
  readonly validTo: string;
  readonly daysLeft: number;
  readonly authorized: boolean;
  readonly authorizationError?: string;
}

export interface Observation {
  readonly ok: boolean;
  /** "ok" when ok; otherwise why not, e.g. "timeout waiting for banner after 5000 ms". */
  readonly reason: string;
  /** Whole handshake, ms. */
  readonly latencyMs: number;
  readonly phases: readonly Phase[];
  readonly tls?: TlsFacts;
  /** Things worth knowing that do not fail the probe ("certificate expires in 12 days"). */
  readonly warnings: readonly string[];
  /** The server's greeting line, for the report. */
  readonly greeting?: string;
  /** Capabilities/extensions the server advertised (last list seen, after TLS when used). */
  readonly capabilities?: readonly string[];
  /** With check.rcptTo: the RCPT TO reply, e.g. "250 2.1.5 Ok" or "550 5.7.1 relay denied". */
  readonly rcptReply?: string;
}

export interface ProbeDeps {
  /** Wall clock in ms since the epoch (certificate expiry); defaults to Date.now. */
  readonly now?: () => number;
}

export type Prober = (
  target: ProbeTarget,
  check: CheckSpec,
  signal: AbortSignal,
  deps?: ProbeDeps,
) => Promise<Observation>;
