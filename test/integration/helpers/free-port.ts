/** Ports free on every given loopback address (TCP, and UDP when asked), for servers to bind. */
import { createSocket } from "node:dgram";
import { connect, createServer } from "node:net";

const bindTcp = (host: string, port: number): Promise<{ port: number; close: () => Promise<void> } | undefined> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : 0;
      resolve({ port: bound, close: () => new Promise((done) => server.close(() => done())) });
    });
  });

const udpFree = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });

/**
 * A port that is free right now on every host in `hosts` (TCP; UDP as well with `udp`), avoiding
 * the ports in `avoid`. The kernel picks it on the first host; the others are checked. A server
 * started right after may still lose a race with another program, which then shows in its log.
 */
export async function freePort(hosts: readonly string[], options: { udp?: boolean; avoid?: readonly number[] } = {}): Promise<number> {
  const [first, ...rest] = hosts;
  if (first === undefined) throw new TypeError("freePort needs at least one host");
  for (let attempt = 0; attempt < 50; attempt++) {
    const held = await bindTcp(first, 0);
    if (!held) continue;
    const { port } = held;
    const others: { close: () => Promise<void> }[] = [];
    let ok = !(options.avoid ?? []).includes(port);
    for (const host of rest) {
      if (!ok) break;
      const other = await bindTcp(host, port);
      if (other) others.push(other);
      else ok = false;
    }
    await Promise.all([held, ...others].map((s) => s.close()));
    if (ok && options.udp) {
      for (const host of hosts) {
        if (!(await udpFree(host, port))) {
          ok = false;
          break;
        }
      }
    }
    if (ok) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(", ")} after 50 attempts`);
}

/** True when a TCP connect to host:port is refused right now (nothing listens). */
export function connectionRefused(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === "ECONNREFUSED");
    });
  });
}
