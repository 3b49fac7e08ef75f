/**
 * The one list of probe protocols. Everything else derives from it: the `Protocol` type, the
 * prober table, the built-in checks (and so the config's `module` enum), the `mailpool probe`
 * URL schemes and their help text, and the demo listener's dialects (a Record over Protocol).
 *
 * Two kinds of entry:
 * - PROTOCOLS: a dialect in code, for a handshake with logic a list of steps cannot say (SMTP's
 *   HELO fallback and RCPT check, IMAP's PREAUTH and tagged replies, POP3 without CAPA). Adding
 *   one = its dialect file (like pop3.ts) + one line here.
 * - DIALOGUES: a line protocol as data (expect / send / starttls steps, scripted.ts), the same
 *   shape an operator writes under `dialogues:` in the config. Adding one = one entry here, or
 *   none at all: a config entry is enough.
 */
import { probeImap } from "./imap.js";
import { probePop3 } from "./pop3.js";
import type { DialogueSource } from "./scripted.js";
import { probeSmtp } from "./smtp.js";
import type { Prober, TlsMode } from "./types.js";

interface ProtocolEntry {
  readonly prober: Prober;
  /** Built-in checks speaking the protocol, by name; each name is also a `mailpool probe` URL scheme. */
  readonly checks: Readonly<Record<string, { readonly port: number; readonly tls: TlsMode }>>;
}

export const PROTOCOLS = {
  smtp: {
    prober: probeSmtp,
    checks: { smtp: { port: 25, tls: "none" }, submission: { port: 587, tls: "starttls" }, smtps: { port: 465, tls: "implicit" } },
  },
  imap: { prober: probeImap, checks: { imap: { port: 143, tls: "none" }, imaps: { port: 993, tls: "implicit" } } },
  pop3: { prober: probePop3, checks: { pop3: { port: 110, tls: "none" }, pop3s: { port: 995, tls: "implicit" } } },
} as const satisfies Readonly<Record<string, ProtocolEntry>>;

/** A protocol with a dialect in code. */
export type Protocol = keyof typeof PROTOCOLS;

/** The name of a built-in check: smtp, submission, smtps, imap, imaps, pop3, pop3s. */
export type BuiltinCheckName = { [P in Protocol]: keyof (typeof PROTOCOLS)[P]["checks"] }[Protocol];

const entries = Object.entries(PROTOCOLS) as [Protocol, ProtocolEntry][];

/** Built-in check names in list order; also the URL schemes of `mailpool probe`. */
export const BUILTIN_CHECK_NAMES = entries.flatMap(([, p]) => Object.keys(p.checks)) as [BuiltinCheckName, ...BuiltinCheckName[]];

/** Each built-in check's protocol, port and TLS mode, in list order. */
export const BUILTIN_CHECK_MODES: readonly { readonly name: BuiltinCheckName; readonly protocol: Protocol; readonly port: number; readonly tls: TlsMode }[] =
  entries.flatMap(([protocol, p]) =>
    Object.entries(p.checks).map(([name, { port, tls }]) => ({ name: name as BuiltinCheckName, protocol, port, tls })),
  );

/** "smtp://, submission://, …": the schemes for help text. */
export const PROBE_SCHEMES_TEXT = BUILTIN_CHECK_NAMES.map((name) => `${name}://`).join(", ");

/**
 * Built-in dialogues: line protocols whose whole handshake is a dialogue. A check uses one with
 * `dialogue: lmtp`; the config may add more under `dialogues:` in this same shape.
 */
export const DIALOGUES = {
  /** RFC 2033: 220 banner, LHLO (no HELO fallback), STARTTLS when asked, QUIT. */
  lmtp: {
    port: 24,
    tls: "none",
    steps: [
      { expect: "^220 ", continued: "^220-" },
      { send: "LHLO {ehloName}" },
      { expect: "^250 ", continued: "^250-", capabilities: "^250[- ]([A-Z0-9][A-Z0-9-]*(?: .*)?)$" },
      { send: "STARTTLS", requires: "STARTTLS", when: "starttls" },
      { expect: "^220 ", refused: "STARTTLS refused", when: "starttls" },
      { starttls: true },
      { send: "LHLO {ehloName}", when: "starttls" },
      { expect: "^250 ", continued: "^250-", capabilities: "^250[- ]([A-Z0-9][A-Z0-9-]*(?: .*)?)$", when: "starttls" },
      { send: "QUIT", quit: true },
      { expect: "^221 " },
    ],
  },
  /**
   * RFC 5804 (port 4190): the greeting is the capability list (quoted lines) ending in OK; after
   * STARTTLS the server sends the list again, unasked; LOGOUT.
   */
  managesieve: {
    port: 4190,
    tls: "none",
    steps: [
      { expect: "^OK\\b", continued: '^"', capabilities: '^"([^"]*)"' },
      { send: "STARTTLS", requires: "STARTTLS", when: "starttls" },
      { expect: "^OK\\b", refused: "STARTTLS refused", when: "starttls" },
      { starttls: true },
      { expect: "^OK\\b", continued: '^"', capabilities: '^"([^"]*)"', phase: "capability", when: "starttls" },
      { send: "LOGOUT", quit: true },
      { expect: "^OK\\b" },
    ],
  },
} as const satisfies Readonly<Record<string, DialogueSource>>;

export type BuiltinDialogueName = keyof typeof DIALOGUES;
