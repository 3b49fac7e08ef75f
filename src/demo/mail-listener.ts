/**
 * A small SMTP/IMAP/POP3 (and LMTP/ManageSieve) server for loopback: protocol-correct by default, and misbehaving on
 * request (bad banner, silence, refused STARTTLS, floods …) so tests and `mailpool demo` can show
 * every way a member fails a probe. It speaks just enough of each protocol for a handshake.
 */
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { createSecureContext, createServer as createTlsServer, TLSSocket, type SecureContext } from "node:tls";
import type { BuiltinDialogueName, Protocol } from "../probes/protocols.js";

/** Every probe protocol and built-in dialogue (src/probes/protocols.ts): adding one there asks for its dialect here. */
export type MailProtocol = Protocol | BuiltinDialogueName;

export interface Behaviour {
  /** Replaces the banner; "\n" separates lines, e.g. "421 4.3.2 shutting down" or "220-a\n220 b". */
  readonly greeting: string | undefined;
  /** Never send anything, not even a banner, and ignore what the client sends. */
  readonly silent: boolean;
  readonly greetingDelayMs: number;
  /** SMTP: answer EHLO with 502 (clients fall back to HELO). */
  readonly ehloRejected: boolean;
  /** Advertise STARTTLS/STLS (default: when TLS material is given and TLS is not implicit). */
  readonly advertiseStartTls: boolean;
  /** Answer STARTTLS/STLS with a refusal (454 / NO / -ERR "TLS not available"). */
  readonly refuseStartTls: boolean;
  /** POP3: answer CAPA with -ERR. */
  readonly capaUnsupported: boolean;
  /** Instead of a banner: endless short lines ("bytes") or one endless line ("line"). */
  readonly flood: "none" | "bytes" | "line";
  readonly closeAfterGreeting: boolean;
  /** Hang up on QUIT/LOGOUT without answering. */
  readonly closeOnQuit: boolean;
  /**
   * SMTP: the domains RCPT TO is accepted for (250); any other recipient gets "550 5.7.1 Relay
   * access denied", as a fallback MX with a relay-blocking policy answers. Default: every domain.
   */
  readonly rcptDomains: readonly string[] | undefined;
}

export interface MailListenerOptions {
  readonly protocol: MailProtocol;
  /** Loopback address to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** 0 (default) lets the system pick. */
  readonly port?: number;
  /** PEM key and certificate, for STARTTLS and implicit TLS. */
  readonly tls?: { readonly key: string; readonly cert: string; readonly maxVersion?: "TLSv1.2" | "TLSv1.3" };
  /** TLS from the first byte (smtps, imaps, pop3s). */
  readonly implicitTls?: boolean;
  readonly behaviour?: Partial<Behaviour>;
  /** Name in banners (default mx1.example.net). */
  readonly hostname?: string;
}

export interface MailListener {
  readonly protocol: MailProtocol;
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections open now. */
  readonly active: number;
  /**
   * Most conversations at once. A conversation runs from the accept (with implicit TLS: from the
   * end of the handshake) until QUIT/LOGOUT or the close, so it ends before the client can see
   * the goodbye: unlike open sockets, this count does not lag behind the client.
   */
  readonly peak: number;
  /** SNI of each TLS handshake, "" when the client sent none. */
  readonly serverNames: readonly string[];
  /** Every command line received, in order, across connections (SMTP: "MAIL FROM:<>", …). */
  readonly commands: readonly string[];
  /** Changes the behaviour for connections accepted from now on. */
  setBehaviour(partial: Partial<Behaviour>): void;
  /** Resolves once no connection is open. */
  whenIdle(): Promise<void>;
  /** Closes the listener and destroys open connections. */
  stop(): Promise<void>;
  /** Listens again on the same host and port. */
  start(): Promise<void>;
}

/** What a protocol handler may do with its connection. */
interface Conn {
  readonly b: Behaviour;
  readonly hostname: string;
  readonly secure: boolean;
  /** STARTTLS may be offered now. */
  readonly offersTls: boolean;
  write(...lines: string[]): void;
  startTls(ready: string, refused: string): void;
  quit(...lines: string[]): void;
}

interface Dialect {
  banner(hostname: string, c: Conn): string;
  floodLine: string;
  respond(line: string, c: Conn): void;
  /** Written once a STARTTLS upgrade is done, unasked (ManageSieve's capability list). */
  afterTls?(c: Conn): void;
}

/** ManageSieve's capability list (RFC 5804 §1.7), then its OK. */
const sieveCapabilities = (c: Conn, ok: string): string[] => [
  '"IMPLEMENTATION" "mailpool demo"',
  '"SIEVE" "fileinto vacation"',
  ...(c.secure ? ['"SASL" "PLAIN"'] : ['"SASL" ""']),
  ...(c.offersTls ? ['"STARTTLS"'] : []),
  '"VERSION" "1.0"',
  ok,
];

const DIALECTS: Record<MailProtocol, Dialect> = {
  smtp: {
    banner: (h) => `220 ${h} ESMTP mailpool demo`,
    floodLine: "220-flood",
    respond(line, c) {
      switch (line.split(" ")[0]?.toUpperCase()) {
        case "EHLO":
          if (c.b.ehloRejected) return c.write("502 5.5.2 EHLO not recognized");
          return c.write(`250-${c.hostname}`, "250-PIPELINING", "250-SIZE 10240000", ...(c.offersTls ? ["250-STARTTLS"] : []), "250 8BITMIME");
        case "HELO":
          return c.write(`250 ${c.hostname}`);
        case "STARTTLS":
          return c.startTls("220 2.0.0 Ready to start TLS", "454 TLS not available");
        case "NOOP":
          return c.write("250 2.0.0 OK");
        case "MAIL":
          return c.write("250 2.1.0 Ok");
        case "RCPT": {
          const domain = /@([^>\s]+)>/.exec(line)?.[1]?.toLowerCase();
          const allowed = c.b.rcptDomains === undefined || (domain !== undefined && c.b.rcptDomains.includes(domain));
          return c.write(allowed ? "250 2.1.5 Ok" : "550 5.7.1 Relay access denied");
        }
        case "RSET":
          return c.write("250 2.0.0 Ok");
        case "DATA":
          return c.write("554 5.5.1 mailpool demo listener takes no messages");
        case "QUIT":
          return c.quit("221 2.0.0 Bye");
        default:
          return c.write("500 5.5.1 command not recognized");
      }
    },
  },
  imap: {
    banner: (h) => `* OK ${h} IMAP4rev1 mailpool demo ready`,
    floodLine: "* OK flood",
    respond(line, c) {
      const [tag = "*", command = ""] = line.split(" ");
      switch (command.toUpperCase()) {
        case "CAPABILITY": {
          const extra = c.offersTls ? " STARTTLS LOGINDISABLED" : c.secure ? " AUTH=PLAIN" : "";
          return c.write(`* CAPABILITY IMAP4rev1 ID IDLE${extra}`, `${tag} OK CAPABILITY completed`);
        }
        case "STARTTLS":
          return c.startTls(`${tag} OK Begin TLS negotiation now`, `${tag} NO TLS not available`);
        case "NOOP":
          return c.write(`${tag} OK NOOP completed`);
        case "LOGOUT":
          return c.quit("* BYE logging out", `${tag} OK LOGOUT completed`);
        default:
          return c.write(`${tag} BAD unknown command`);
      }
    },
  },
  pop3: {
    banner: (h) => `+OK ${h} POP3 mailpool demo ready`,
    floodLine: "+OK flood",
    respond(line, c) {
      switch (line.split(" ")[0]?.toUpperCase()) {
        case "CAPA":
          if (c.b.capaUnsupported) return c.write("-ERR unknown command");
          return c.write("+OK Capability list follows", "TOP", "UIDL", ...(c.offersTls ? ["STLS"] : []), ...(c.secure ? ["USER"] : []), ".");
        case "STLS":
          return c.startTls("+OK Begin TLS negotiation", "-ERR TLS not available");
        case "NOOP":
          return c.write("+OK");
        case "QUIT":
          return c.quit("+OK bye");
        default:
          return c.write("-ERR unknown command");
      }
    },
  },
  lmtp: {
    banner: (h) => `220 ${h} LMTP mailpool demo`,
    floodLine: "220-flood",
    respond(line, c) {
      switch (line.split(" ")[0]?.toUpperCase()) {
        case "LHLO":
          return c.write(`250-${c.hostname}`, "250-PIPELINING", "250-ENHANCEDSTATUSCODES", ...(c.offersTls ? ["250-STARTTLS"] : []), "250 8BITMIME");
        case "STARTTLS":
          return c.startTls("220 2.0.0 Ready to start TLS", "454 4.7.0 TLS not available");
        case "NOOP":
          return c.write("250 2.0.0 OK");
        case "QUIT":
          return c.quit("221 2.0.0 Bye");
        default:
          return c.write("500 5.5.1 command not recognized (LMTP: LHLO, not EHLO/HELO)");
      }
    },
  },
  managesieve: {
    banner: (h, c) => sieveCapabilities(c, `OK "${h} ManageSieve mailpool demo ready"`).join("\n"),
    floodLine: '"FLOOD"',
    respond(line, c) {
      switch (line.split(" ")[0]?.toUpperCase()) {
        case "CAPABILITY":
          return c.write(...sieveCapabilities(c, 'OK "Capability completed."'));
        case "STARTTLS":
          return c.startTls('OK "Begin TLS negotiation now."', 'NO "TLS not available"');
        case "NOOP":
          return c.write('OK "NOOP completed."');
        case "LOGOUT":
          return c.quit('OK "Logout completed."');
        default:
          return c.write('NO "unknown command"');
      }
    },
    afterTls: (c) => c.write(...sieveCapabilities(c, 'OK "TLS negotiation successful."')),
  },
};

/** Writes `chunk` until the peer goes away, at the pace the peer reads. */
function flood(io: Duplex, chunk: Buffer): void {
  const pump = () => {
    while (!io.destroyed && io.write(chunk));
    if (!io.destroyed) io.once("drain", pump);
  };
  pump();
}

export async function startMailListener(options: MailListenerOptions): Promise<MailListener> {
  const { protocol, host = "127.0.0.1", tls, implicitTls = false, hostname = "mx1.example.net" } = options;
  const dialect = DIALECTS[protocol];
  const tlsOptions = tls && { key: tls.key, cert: tls.cert, ...(tls.maxVersion && { maxVersion: tls.maxVersion }) };
  const context: SecureContext | undefined = tlsOptions && createSecureContext(tlsOptions);
  if (implicitTls && !tlsOptions) throw new TypeError("implicitTls needs tls: { key, cert }");
  let behaviour: Behaviour = {
    greeting: undefined,
    silent: false,
    greetingDelayMs: 0,
    ehloRejected: false,
    advertiseStartTls: Boolean(tls) && !implicitTls,
    refuseStartTls: false,
    capaUnsupported: false,
    flood: "none",
    closeAfterGreeting: false,
    closeOnQuit: false,
    rcptDomains: undefined,
    ...options.behaviour,
  };
  const sockets = new Set<Socket>();
  const serverNames: string[] = [];
  const commands: string[] = [];
  let idle: Array<() => void> = [];
  let connections = 0;
  let conversations = 0;
  let peak = 0;

  /** One conversation, on a socket that is plain or already TLS. */
  const converse = (socket: Duplex, startsSecure: boolean) => {
    const b = behaviour;
    let ended = false;
    const end = () => {
      if (!ended) conversations--;
      ended = true;
    };
    peak = Math.max(peak, ++conversations);
    socket.once("close", end);
    let io = socket;
    let secure = startsSecure;
    let buffer = "";
    const write = (...lines: string[]) => {
      if (!io.destroyed) io.write(lines.map((l) => `${l}\r\n`).join(""));
    };
    const conn: Conn = {
      b,
      hostname,
      get secure() {
        return secure;
      },
      get offersTls() {
        return b.advertiseStartTls && !secure;
      },
      write,
      startTls(ready, refused) {
        if (b.refuseStartTls || !context || secure) return write(refused);
        write(ready);
        io.off("data", onData);
        buffer = "";
        const upgraded = new TLSSocket(io, { isServer: true, secureContext: context });
        upgraded.on("error", () => upgraded.destroy());
        upgraded.once("secure", () => {
          serverNames.push(upgraded.servername || "");
          dialect.afterTls?.(conn);
        });
        upgraded.on("data", onData);
        io = upgraded;
        secure = true;
      },
      quit(...lines) {
        end();
        if (!b.closeOnQuit) write(...lines);
        io.end();
      },
    };
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString("latin1");
      if (buffer.length > 8192) return io.destroy();
      const before = io;
      for (let nl = buffer.indexOf("\n"); nl !== -1 && io === before; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl).replace(/\r$/, "");
        buffer = buffer.slice(nl + 1);
        commands.push(line);
        dialect.respond(line, conn);
      }
    };
    // A silent or flooding server does not listen at all: only the client's bounds end the talk.
    if (b.silent || b.flood !== "none") {
      io.resume();
      if (b.flood === "none") return;
      const line = `${dialect.floodLine} ${"x".repeat(100)}\r\n`;
      return flood(io, b.flood === "line" ? Buffer.alloc(16_384, "x") : Buffer.from(line.repeat(100)));
    }
    io.on("data", onData);
    const timer = setTimeout(() => {
      write(...(b.greeting ?? dialect.banner(hostname, conn)).split("\n"));
      if (b.closeAfterGreeting) io.end();
    }, b.greetingDelayMs);
    socket.once("close", () => clearTimeout(timer));
  };

  const server: Server = implicitTls
    ? createTlsServer(tlsOptions ?? {}, (socket) => {
        serverNames.push(socket.servername || "");
        converse(socket, true);
      })
    : createNetServer((socket) => converse(socket, false));
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("error", () => socket.destroy());
    socket.once("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0) {
        const waiting = idle;
        idle = [];
        waiting.forEach((resolve) => resolve());
      }
    });
  });
  server.on("tlsClientError", (_error, socket) => socket.destroy());

  const whenIdle = (): Promise<void> =>
    sockets.size === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));

  let port = options.port ?? 0;
  // Starting a listener that is already up is a no-op (a listen() then would throw and leave
  // its error listener behind: one more per call).
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      if (server.listening) return resolve();
      const fail = (e: Error) => reject(e);
      server.once("error", fail);
      try {
        server.listen({ host, port }, () => {
          server.off("error", fail);
          port = (server.address() as AddressInfo).port;
          resolve();
        });
      } catch (e) {
        server.off("error", fail);
        reject(e as Error);
      }
    });
  await listen();

  return {
    protocol,
    host,
    get port() {
      return port;
    },
    get connections() {
      return connections;
    },
    get active() {
      return sockets.size;
    },
    get peak() {
      return peak;
    },
    serverNames,
    commands,
    setBehaviour(partial) {
      behaviour = { ...behaviour, ...partial };
    },
    whenIdle,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await whenIdle();
    },
    start: listen,
  };
}

/**
 * One listener per host, all on the same port (a check's port is per pool, so every member of a
 * pool must answer on it): picks a free port on the first host and retries when another host
 * has it taken.
 */
export async function startListenersOnOnePort(
  protocol: MailProtocol,
  hosts: readonly string[],
  options: Omit<MailListenerOptions, "protocol" | "host" | "port"> = {},
): Promise<MailListener[]> {
  const [head, ...rest] = hosts;
  if (head === undefined) throw new TypeError("startListenersOnOnePort needs at least one host");
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await startMailListener({ ...options, protocol, host: head, port: 0 });
    const started = [first];
    try {
      for (const host of rest) started.push(await startMailListener({ ...options, protocol, host, port: first.port }));
      return started;
    } catch {
      await Promise.all(started.map((l) => l.stop()));
    }
  }
  throw new Error(`could not find one free port on ${hosts.join(", ")}`);
}
