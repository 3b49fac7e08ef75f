/**
 * One DNS exchange over UDP, or several over one TCP connection (2-octet length framing,
 * RFC 1035 §4.2.2, RFC 7766). Every wait has a deadline and an AbortSignal; an answer is at most
 * 65535 octets by construction, and a TCP connection gives up after a bounded number of answers
 * with a foreign ID. Errors are DnsTransportError with a `transient` flag.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { isIP, Socket } from "node:net";

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export type TransportFailure = "timeout" | "refused" | "reset" | "closed" | "unreachable" | "unresolved" | "other";

export class DnsTransportError extends Error {
  override readonly name = "DnsTransportError";
  constructor(
    message: string,
    readonly failure: TransportFailure,
    readonly transient: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const where = (ep: Endpoint): string => (isIP(ep.host) === 6 ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`);

function fromSocketError(e: NodeJS.ErrnoException, ep: Endpoint, proto: string): DnsTransportError {
  const at = `${where(ep)} over ${proto}`;
  switch (e.code) {
    case "ECONNREFUSED":
      return new DnsTransportError(`connection refused by ${at} (is the name server running?)`, "refused", true, { cause: e });
    case "ECONNRESET":
    case "EPIPE":
      return new DnsTransportError(`connection reset by ${at}`, "reset", true, { cause: e });
    case "ETIMEDOUT":
      return new DnsTransportError(`connection to ${at} timed out`, "timeout", true, { cause: e });
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new DnsTransportError(`${at} is unreachable (${e.code})`, "unreachable", true, { cause: e });
    case "EAI_AGAIN":
      return new DnsTransportError(`cannot resolve ${ep.host} right now (EAI_AGAIN)`, "unresolved", true, { cause: e });
    case "ENOTFOUND":
      return new DnsTransportError(`cannot resolve ${ep.host} (ENOTFOUND)`, "unresolved", false, { cause: e });
    default:
      return new DnsTransportError(`${at}: ${e.code ?? ""} ${e.message}`.trim(), "other", false, { cause: e });
  }
}

const idOf = (b: Uint8Array): number => (b.length >= 2 ? (b[0]! << 8) | b[1]! : -1);

const abortReason = (signal: AbortSignal): unknown => signal.reason ?? Object.assign(new Error("aborted"), { name: "AbortError" });

export interface ExchangeOptions {
  readonly signal: AbortSignal;
  /** Deadline of the whole exchange (UDP: send to answer; TCP: write to answer), ms. */
  readonly timeoutMs: number;
  /**
   * UDP only: whether a datagram with the right ID is the answer (e.g. its TSIG verifies). A
   * forged one is ignored and the wait goes on, so an off-path spoofer cannot end the exchange.
   */
  readonly accept?: (answer: Uint8Array) => boolean;
}

/** Sends one datagram and waits for the answer with the same ID from the server's address. */
export function udpExchange(ep: Endpoint, message: Uint8Array, options: ExchangeOptions): Promise<Uint8Array> {
  const { signal, timeoutMs } = options;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  const id = idOf(message);
  return new Promise((resolve, reject) => {
    const socket: UdpSocket = createSocket(isIP(ep.host) === 6 ? "udp6" : "udp4");
    let done = false;
    const finish = (err: unknown, value?: Uint8Array) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      try {
        socket.close();
      } catch {
        // already closed
      }
      if (err === undefined) resolve(value!);
      else reject(err);
    };
    const onAbort = () => finish(abortReason(signal));
    const timer = setTimeout(
      () => finish(new DnsTransportError(`no answer from ${where(ep)} over UDP within ${timeoutMs} ms`, "timeout", true)),
      timeoutMs,
    );
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("error", (e) => finish(fromSocketError(e as NodeJS.ErrnoException, ep, "UDP")));
    // A connected socket takes datagrams from the server's address only, and ICMP
    // port-unreachable becomes ECONNREFUSED.
    socket.on("message", (msg) => {
      if (idOf(msg) !== id) return;
      const answer = new Uint8Array(msg);
      if (options.accept && !options.accept(answer)) return;
      finish(undefined, answer);
    });
    socket.connect(ep.port, ep.host, () => {
      if (done) return; // aborted or timed out while connecting: the socket is closed
      socket.send(message, (e) => {
        if (e) finish(fromSocketError(e as NodeJS.ErrnoException, ep, "UDP"));
      });
    });
  });
}

/** Answers with a foreign ID tolerated on one TCP connection before it is given up. */
const MAX_FOREIGN = 8;

/** A TCP connection to a name server for one exchange after another. */
export class TcpConnection {
  readonly #socket: Socket;
  readonly #ep: Endpoint;
  #buffer: Buffer = Buffer.alloc(0);
  #closed: DnsTransportError | undefined;
  #waiter: (() => void) | undefined;

  private constructor(socket: Socket, ep: Endpoint) {
    this.#socket = socket;
    this.#ep = ep;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      // Never hold more than one maximal answer plus its length prefix and one more chunk.
      if (this.#buffer.length > 2 * 65537) {
        this.#fail(new DnsTransportError(`${where(ep)} sent more than it was asked for over TCP`, "other", false));
      }
      this.#wake();
    });
    socket.on("error", (e) => this.#fail(fromSocketError(e as NodeJS.ErrnoException, ep, "TCP")));
    socket.on("close", () => this.#fail(new DnsTransportError(`${where(ep)} closed the TCP connection before answering`, "closed", true)));
  }

  #fail(e: DnsTransportError): void {
    this.#closed ??= e;
    this.#socket.destroy();
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  get isOpen(): boolean {
    return this.#closed === undefined;
  }

  static open(ep: Endpoint, options: { signal: AbortSignal; connectTimeoutMs: number }): Promise<TcpConnection> {
    const { signal, connectTimeoutMs } = options;
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      let done = false;
      const finish = (err: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        socket.removeListener("error", onError);
        if (err === undefined) {
          resolve(new TcpConnection(socket, ep));
        } else {
          socket.destroy();
          reject(err);
        }
      };
      const onAbort = () => finish(abortReason(signal));
      const onError = (e: Error) => finish(fromSocketError(e as NodeJS.ErrnoException, ep, "TCP"));
      const timer = setTimeout(
        () => finish(new DnsTransportError(`no TCP connection to ${where(ep)} within ${connectTimeoutMs} ms`, "timeout", true)),
        connectTimeoutMs,
      );
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("error", onError);
      socket.connect({ host: ep.host, port: ep.port }, () => finish(undefined));
    });
  }

  /** Writes one framed message and reads framed answers until one carries the same ID. */
  async exchange(message: Uint8Array, options: ExchangeOptions): Promise<Uint8Array> {
    const { signal, timeoutMs } = options;
    if (this.#closed) throw this.#closed;
    if (signal.aborted) throw abortReason(signal);
    if (message.length > 0xffff) throw new RangeError("a DNS message over TCP is at most 65535 octets");
    const id = idOf(message);
    const frame = Buffer.alloc(2 + message.length);
    frame.writeUInt16BE(message.length, 0);
    frame.set(message, 2);
    this.#socket.write(frame);
    const deadline = performance.now() + timeoutMs;
    let foreign = 0;
    for (;;) {
      if (this.#buffer.length >= 2) {
        const len = this.#buffer.readUInt16BE(0);
        if (this.#buffer.length >= 2 + len) {
          const answer = new Uint8Array(this.#buffer.subarray(2, 2 + len));
          this.#buffer = Buffer.from(this.#buffer.subarray(2 + len));
          if (idOf(answer) === id) return answer;
          if (++foreign > MAX_FOREIGN) {
            this.#fail(new DnsTransportError(`${where(this.#ep)} sent ${foreign} answers with a foreign ID over TCP`, "other", false));
            throw this.#closed!;
          }
          continue;
        }
      }
      if (this.#closed) throw this.#closed;
      await this.#wait(deadline - performance.now(), signal, timeoutMs);
    }
  }

  #wait(ms: number, signal: AbortSignal, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        clearTimeout(timer);
        this.#waiter = undefined;
        this.close();
        reject(abortReason(signal));
      };
      timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        this.#waiter = undefined;
        const e = new DnsTransportError(`no answer from ${where(this.#ep)} over TCP within ${timeoutMs} ms`, "timeout", true);
        this.#fail(e);
        reject(e);
      }, Math.max(0, ms));
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiter = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
    });
  }

  close(): void {
    this.#closed ??= new DnsTransportError(`the TCP connection to ${where(this.#ep)} was closed`, "closed", true);
    this.#socket.destroy();
  }
}
