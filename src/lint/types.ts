/**
 * `mailpool lint`: the words. Gathering (I/O) records every DNS answer and SMTP dialogue into an
 * Observations value; each rule is a pure function from Observations to Findings, so rules are
 * tested on recorded answers and every finding can say how it was observed.
 */

export type Severity = "error" | "warning" | "info";
export const SEVERITIES: readonly Severity[] = ["error", "warning", "info"];
export const severityRank = (s: Severity): number => (s === "error" ? 2 : s === "warning" ? 1 : 0);

export interface Finding {
  /** Stable id, e.g. "mx-cname"; the README lists each one. */
  readonly id: string;
  readonly severity: Severity;
  /** The name (or address) the finding is about. */
  readonly subject: string;
  readonly message: string;
  /** How it was observed: which query to which server and the answer, or the SMTP replies. */
  readonly evidence: readonly string[];
  readonly fix: string;
  /** The standard behind the advice, e.g. "RFC 2181 §10.3". */
  readonly rfc: string;
}

/** One resource record, names lower case without the trailing dot; the root is "". */
export interface Rr {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  /**
   * Presentation text of the data: A/AAAA the address, CNAME/NS/PTR the name, MX "10 mx.example.com"
   * ("0 ." for a null MX), SRV "priority weight port target", SOA "mname rname serial refresh retry
   * expire minimum".
   */
  readonly data: string;
}

/** One DNS query and what came back (or why nothing did). */
export interface DnsAnswer {
  /** "127.0.0.1:53". */
  readonly server: string;
  readonly name: string;
  readonly type: string;
  /** RD bit sent: true to the resolver, false to a domain's own name server. */
  readonly recursion: boolean;
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED …; absent when no answer came. */
  readonly rcode?: string;
  /** The AA bit of the response. */
  readonly aa?: boolean;
  readonly answers: readonly Rr[];
  readonly authorities: readonly Rr[];
  /** Why no answer came: "timeout after 2000 ms", "query budget of 300 used up", … */
  readonly error?: string;
}

/** A host name and the address lookups made for it (CNAMEs followed through the resolver). */
export interface HostObservation {
  readonly name: string;
  readonly lookups: readonly DnsAnswer[];
}

export interface NameServerObservation {
  /** The NS target name. */
  readonly name: string;
  /** Its A/AAAA lookups (through the resolver). */
  readonly host: HostObservation;
  /** SOA of the domain asked of each of its addresses without recursion (lameness, serial). */
  readonly soa: readonly DnsAnswer[];
}

/** The RCPT dialogue with one fallback MX address. */
export interface RcptObservation {
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly recipient: string;
  readonly ok: boolean;
  /** "ok" or why not, e.g. "RCPT TO:<postmaster@example.com> refused: 550 5.7.1 relay denied". */
  readonly reason: string;
  /** The RCPT reply when one came, e.g. "250 2.1.5 Ok". */
  readonly rcptReply?: string;
}

/** A pool from the config, for the coverage rules. */
export interface PoolRef {
  readonly name: string;
}

export interface Observations {
  readonly domain: string;
  readonly resolver: string;
  readonly mx: DnsAnswer;
  readonly ns: DnsAnswer;
  readonly nameServers: readonly NameServerObservation[];
  /** Every looked-up host (MX targets, service names, SRV targets, PTR names), by name. */
  readonly hosts: Readonly<Record<string, HostObservation>>;
  /** SRV lookups by owner name, e.g. "_imaps._tcp.example.com". */
  readonly srv: Readonly<Record<string, DnsAnswer>>;
  /** PTR lookups of MX host addresses, by address. */
  readonly ptr: Readonly<Record<string, DnsAnswer>>;
  readonly rcpt: readonly RcptObservation[];
  /** Pools of the config in this domain; undefined when linting without a config. */
  readonly pools?: readonly PoolRef[];
  /** Every query made, in order (what the lookup-failure rule reads). */
  readonly queries: readonly DnsAnswer[];
  readonly budget: { readonly limit: number; readonly used: number; readonly exhausted: boolean };
}

export type Rule = (obs: Observations) => Finding[];
