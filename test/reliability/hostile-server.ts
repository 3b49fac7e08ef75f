/**
 * Hostile peers for the probes: real TCP (or TLS) servers on 127.0.0.x whose behaviour is one
 * small function of the accepted socket. Unlike src/demo/mail-listener.ts, which speaks the
 * protocols correctly unless told otherwise, these never do: silence, endless or huge lines,
 * endless continuations, garbage, hang-ups and resets, one byte a second. Every server counts
 * its open sockets, so a test can check the probe left nothing open.
 */
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TlsOptions } from "node:tls";
import type { Protocol } from "../../src/probes/types.js";

export interface HostileServer {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Sockets open now. */
  readonly active: number;
  stop(): Promise<void>;
}

export interface HostileOptions {
  /** Loopback address to listen on. */
  readonly host: string;
  /** Implicit TLS with these options (certificates, versions, ciphers); plain TCP when absent. */
  readonly tls?: TlsOptions;
}

/** What a hostile peer does with one accepted socket (plain, or after the TLS handshake). */
export type Behaviour = (socket: Socket) => void;

export async function startHostileServer(options: HostileOptions, behaviour: Behaviour): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = options.tls
    ? createTlsServer(options.tls, (socket) => behaviour(socket))
    : createNetServer((socket) => behaviour(socket));
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("error", () => socket.destroy());
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host, port: 0 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: options.host,
    port,
    get connections() {
      return connections;
    },
    get active() {
      return sockets.size;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes `chunk` until the peer goes away, at the pace the peer reads (never buffers ahead). */
export function pump(socket: Socket, chunk: Buffer | string): void {
  const go = () => {
    while (!socket.destroyed && socket.write(chunk));
    if (!socket.destroyed) socket.once("drain", go);
  };
  go();
}

/** Calls `then` with the first chunk the client sends (a command, or a ClientHello). */
export const onFirstData = (socket: Socket, then: (data: Buffer) => void): void => {
  socket.once("data", then);
};

/** A correct banner per protocol, for peers that turn hostile later in the dialogue. */
export const GOOD_BANNER: Readonly<Record<Protocol, string>> = {
  smtp: "220 mx1.example.net ESMTP hostile\r\n",
  imap: "* OK mx1.example.net IMAP4rev1 hostile\r\n",
  pop3: "+OK mx1.example.net POP3 hostile\r\n",
};

/**
 * An endless reply to the capability command: "250-" continuations (SMTP), untagged lines
 * (IMAP), a CAPA list without its closing "." (POP3). The opening line, then the repeated one.
 */
export const ENDLESS_CAPABILITIES: Readonly<Record<Protocol, { readonly first: string; readonly repeat: string }>> = {
  smtp: { first: "250-mx1.example.net\r\n", repeat: "250-X-HOSTILE-EXTENSION keeps going\r\n" },
  imap: { first: "", repeat: "* OK [ALERT] keeps going\r\n" },
  pop3: { first: "+OK Capability list follows\r\n", repeat: "X-HOSTILE keeps going\r\n" },
};

/** Bytes from a fixed-seed generator (the same garbage on every run), every byte value possible. */
export function garbage(length: number, seed = 0x2545f491): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Sends `text` one byte every `everyMs`, and nothing else, until the peer goes away. */
export function dribble(socket: Socket, text: string, everyMs: number): void {
  const bytes = Buffer.from(text);
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= bytes.length) return clearInterval(timer);
    socket.write(bytes.subarray(i, ++i));
  }, everyMs);
  socket.once("close", () => clearInterval(timer));
}
