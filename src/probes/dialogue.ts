import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { clip, LineReader } from "./line-reader.js";
import { judgeTls, tlsConnectOptions, tlsFacts, type IdentityNote } from "./tls.js";
import type { CheckSpec, Observation, Phase, Prober, ProbeTarget, TlsFacts } from "./types.js";

/** A handshake step failed; `reason` is what the observation reports. Never leaves a prober. */
export class ProbeFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "ProbeFailure";
  }
}

export const fail = (reason: string): never => {
  throw new ProbeFailure(reason);
};

/** "127.0.0.1:25", "[2001:db8::1]:25". */
export const hostPort = (target: ProbeTarget): string =>
  isIP(target.host) === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;

const round1 = (ms: number): number => Math.round(ms * 10) / 10;

function connectFailure(error: NodeJS.ErrnoException, target: ProbeTarget): string {
  const where = hostPort(target);
  switch (error.code) {
    case "ECONNREFUSED":
      return `connection refused by ${where}`;
    case "ECONNRESET":
      // Accepted, then reset before Node saw the connect complete: not a failure to connect.
      return `connection reset by ${where} while connecting`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot resolve ${target.host} (${error.code})`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `${where} is unreachable (${error.code})`;
    default:
      return `cannot connect to ${where}: ${error.message}`;
  }
}

/**
 * One probe's connection: connect, read lines, send lines, switch to TLS, all under one overall
 * deadline (check.timeoutMs) and the caller's AbortSignal. Every wait names what it waits for,
 * which becomes the reason when it times out or the server hangs up.
 */
export class Dialogue {
  readonly phases: Phase[] = [];
  readonly warnings: string[] = [];
  greeting: string | undefined;
  capabilities: readonly string[] | undefined;
  tls: TlsFacts | undefined;
  rcptReply: string | undefined;
  /** Commands sent so far (IMAP tags). */
  commands = 0;
  readonly #reader: LineReader;
  readonly #started = performance.now();
  readonly #deadline: number;
  #raw: Socket | undefined;
  #secure: TLSSocket | undefined;

  constructor(
    readonly target: ProbeTarget,
    readonly check: CheckSpec,
    readonly signal: AbortSignal,
    readonly now: () => number,
  ) {
    this.#deadline = this.#started + check.timeoutMs;
    this.#reader = new LineReader(check.maxLineBytes, check.maxTotalBytes);
  }

  /** Times `work` as the phase `name` (recorded whether it resolves or fails). No async frame of its own. */
  phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const record = () => void this.phases.push({ name, ms: round1(performance.now() - start) });
    let running: Promise<T>;
    try {
      running = work();
    } catch (error) {
      record();
      return Promise.reject(error);
    }
    return running.then(
      (value) => (record(), value),
      (error: unknown) => {
        record();
        throw error;
      },
    );
  }

  /** TCP connect, bounded by connectTimeoutMs; then, for implicit TLS, nothing is read in clear. */
  async connect(): Promise<void> {
    const { connectTimeoutMs, timeoutMs } = this.check;
    const socket = netConnect({ host: this.target.host, port: this.target.port });
    this.#raw = socket;
    socket.on("error", () => {}); // reported through the waits below; never unhandled
    const reason = `connect timeout after ${Math.min(connectTimeoutMs, timeoutMs)} ms to ${hostPort(this.target)}`;
    await this.#race<void>(reason, Math.min(connectTimeoutMs, this.#left()), (ok, no) => {
      const onError = (error: NodeJS.ErrnoException) => no(connectFailure(error, this.target));
      socket.once("connect", ok).once("error", onError);
      return () => socket.off("connect", ok).off("error", onError);
    });
    socket.setNoDelay(true);
    if (this.check.tls !== "implicit") this.#reader.attach(socket);
  }

  /** The TLS handshake over the connection (implicit TLS, or after a STARTTLS reply), then the rules. */
  async startTls(): Promise<void> {
    const raw = this.#raw ?? fail("no connection");
    if (this.#reader.detach() > 0) fail("server sent data after the STARTTLS reply, before the TLS handshake");
    const note: IdentityNote = {};
    const secure = tlsConnect({ ...tlsConnectOptions(this.target, this.check.tlsRules, note), socket: raw });
    this.#secure = secure;
    secure.on("error", () => {});
    await this.#race<void>(this.#timeoutReason("TLS handshake"), this.#left(), (ok, no) => {
      const onError = (error: NodeJS.ErrnoException) =>
        no(
          error.code === "ECONNRESET" || error.code === "EPIPE"
            ? "connection reset by server during the TLS handshake"
            : `TLS handshake failed: ${tlsErrorText(error)}`,
        );
      const onClose = () => no("connection closed by server during the TLS handshake");
      secure.once("secureConnect", ok).once("error", onError).once("close", onClose);
      return () => secure.off("secureConnect", ok).off("error", onError).off("close", onClose);
    });
    const nowMs = this.now();
    this.tls = tlsFacts(secure, note, nowMs);
    const verdict = judgeTls(this.tls, this.target, this.check.tlsRules, nowMs);
    if (verdict.warning) this.warnings.push(verdict.warning);
    if (verdict.failure) fail(verdict.failure);
    this.#reader.attach(secure);
  }

  /**
   * A line already received, taken without a wait (no promise, no race): a multi-line reply
   * (EHLO's) mostly arrives in one segment. undefined when none is buffered or the probe was
   * aborted; then `read` waits as usual.
   */
  bufferedLine(): string | undefined {
    return this.signal.aborted ? undefined : this.#reader.shift();
  }

  /** The next line from the server. */
  read(what: string): Promise<string> {
    const reader = this.#reader;
    return this.#race<string>(this.#timeoutReason(what), this.#left(), (ok, no) => {
      const poll = () => {
        const line = reader.shift();
        if (line !== undefined) return ok(line);
        const stopped = reader.stopReason(what);
        if (stopped !== undefined) no(stopped);
      };
      reader.onChange = poll;
      poll();
      return () => (reader.onChange = undefined);
    });
  }

  send(line: string): void {
    if (/[\r\n]/.test(line)) fail(`refusing to send a command containing CR or LF: ${JSON.stringify(line)}`);
    (this.#secure ?? this.#raw)?.write(`${line}\r\n`);
  }

  close(): void {
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    if (this.#listening) this.signal.removeEventListener("abort", this.#onAbort);
    this.#listening = false;
    this.#secure?.destroy();
    this.#raw?.destroy();
  }

  observe(ok: boolean, reason: string): Observation {
    return {
      ok,
      reason,
      latencyMs: round1(performance.now() - this.#started),
      phases: [...this.phases],
      warnings: [...this.warnings],
      ...(this.tls && { tls: this.tls }),
      ...(this.greeting !== undefined && { greeting: this.greeting }),
      ...(this.capabilities && { capabilities: this.capabilities }),
      ...(this.rcptReply !== undefined && { rcptReply: this.rcptReply }),
    };
  }

  #left(): number {
    return Math.max(0, this.#deadline - performance.now());
  }

  #timeoutReason(what: string): string {
    return `timeout waiting for ${what} after ${this.check.timeoutMs} ms`;
  }

  /**
   * Runs `work` (which returns its cleanup) against a deadline and the abort signal; the loser
   * of the race is cleaned up. Rejects with ProbeFailure only. The probe-wide deadline and the
   * abort are one timer and one listener per dialogue, shared by its waits (a probe makes half
   * a dozen waits; a timer and a listener each were a fifth of a plain probe's CPU, issue 10);
   * only a shorter bound (the connect timeout) gets a timer of its own.
   */
  #race<T>(
    timeoutReason: string,
    ms: number,
    work: (ok: (value: T) => void, no: (reason: string) => void) => () => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let cleanup: (() => void) | undefined;
      let own: NodeJS.Timeout | undefined;
      const settle = (finish: () => void) => {
        if (done) return;
        done = true;
        if (own !== undefined) clearTimeout(own);
        this.#waits.delete(no);
        cleanup?.();
        finish();
      };
      const no = (reason: string) => settle(() => reject(new ProbeFailure(reason)));
      if (this.signal.aborted) return no("aborted");
      if (!this.#listening) {
        this.#listening = true;
        this.signal.addEventListener("abort", this.#onAbort, { once: true });
      }
      this.#waits.set(no, timeoutReason);
      const left = this.#left();
      if (ms < left) own = setTimeout(() => no(timeoutReason), ms);
      else this.#deadlineTimer ??= setTimeout(this.#onDeadline, left);
      cleanup = work((value) => settle(() => resolve(value)), no);
      if (done) cleanup();
    });
  }

  /** Waits in progress, each with the reason it fails with at the deadline. */
  readonly #waits = new Map<(reason: string) => void, string>();
  #deadlineTimer: NodeJS.Timeout | undefined;
  #listening = false;
  readonly #onAbort = (): void => {
    for (const no of [...this.#waits.keys()]) no("aborted");
  };
  readonly #onDeadline = (): void => {
    this.#deadlineTimer = undefined;
    for (const [no, reason] of [...this.#waits]) no(reason);
  };
}

/**
 * One protocol's half of the handshake. The shared flow (mailProber) runs:
 * connect → [tls] → greeting → capabilities → [starttls → tls → capabilities] → quit.
 */
export interface Dialect {
  /** Phase name of the capability step: "ehlo", "capability", "capa". */
  readonly capabilityPhase: string;
  /** Name of the closing command, for the warning when it fails. */
  readonly quitCommand: string;
  /** Reads the banner into d.greeting; fails unless the server says it is ready. */
  greet(d: Dialogue): Promise<void>;
  /** Asks for capabilities; undefined when the server has no way to list them. */
  capabilities(d: Dialogue): Promise<readonly string[] | undefined>;
  /** Checks STARTTLS is advertised, asks for it, fails unless the server agrees. */
  startTls(d: Dialogue, capabilities: readonly string[] | undefined): Promise<void>;
  /**
   * Optional step after the capabilities (and TLS), before quit: SMTP's RCPT check. Resolves with
   * a failure reason when the server refused something after which the session still ends
   * politely (quit is sent, then the probe fails with that reason).
   */
  transact?(d: Dialogue): Promise<string | undefined>;
  quit(d: Dialogue): Promise<void>;
}

export const reasonOf = (error: unknown): string =>
  error instanceof ProbeFailure ? error.reason : `internal error: ${error instanceof Error ? error.message : String(error)}`;

/** An observation for a probe that never started (aborted while queued, say). */
export const abortedObservation = (): Observation => ({ ok: false, reason: "aborted", latencyMs: 0, phases: [], warnings: [] });

/** Builds a Prober from a dialect. Never throws; always destroys its sockets. */
export const mailProber =
  (dialect: Dialect): Prober =>
  async (target, check, signal, deps = {}) => {
    if (signal.aborted) return abortedObservation();
    const d = new Dialogue(target, check, signal, deps.now ?? Date.now);
    try {
      await d.phase("connect", () => d.connect());
      if (check.tls === "implicit") await d.phase("tls", () => d.startTls());
      await d.phase("greeting", () => dialect.greet(d));
      if (check.expectGreeting !== undefined && !new RegExp(check.expectGreeting).test(d.greeting ?? "")) {
        fail(`greeting does not match /${check.expectGreeting}/: ${clip(d.greeting ?? "")}`);
      }
      d.capabilities = await d.phase(dialect.capabilityPhase, () => dialect.capabilities(d));
      if (check.tls === "starttls") {
        await d.phase("starttls", () => dialect.startTls(d, d.capabilities));
        await d.phase("tls", () => d.startTls());
        d.capabilities = await d.phase(dialect.capabilityPhase, () => dialect.capabilities(d));
      }
      const refused = dialect.transact ? await dialect.transact(d) : undefined;
      try {
        await d.phase("quit", () => dialect.quit(d));
      } catch (error) {
        if (signal.aborted) throw error;
        d.warnings.push(`${dialect.quitCommand} failed: ${reasonOf(error)}`);
      }
      return refused === undefined ? d.observe(true, "ok") : d.observe(false, refused);
    } catch (error) {
      return d.observe(false, reasonOf(error));
    } finally {
      d.close();
    }
  };

/**
 * OpenSSL's error text, shortened to what an operator can act on: "wrong version number" from a
 * plain-text port is the classic; the rest keep their reason without the source location.
 */
export function tlsErrorText(error: Error & { code?: string; reason?: string }): string {
  const reason = error.reason ?? /:([^:]+):[^:]*\.c:\d+/.exec(error.message)?.[1] ?? error.message.trim();
  if (/wrong version number|packet length too long|http request/i.test(reason)) {
    return `the server did not answer in TLS (${reason}); is this a plain-text or STARTTLS port?`;
  }
  if (/protocol version|unsupported protocol/i.test(reason)) {
    return `no TLS version in common with the server (${reason}); check tlsRules.minVersion`;
  }
  return reason;
}
