/**
 * A UDP relay in front of the test's named: listens on another 127.0.0.x at named's port and
 * forwards each datagram unchanged to named from its own address, returning named's reply as is.
 * named binds only 127.0.0.1 (the one address on lo), so this is how a zone gets name servers in
 * several networks (127.0.0.0/24, 127.0.1.0/24 …) that all answer with named's own answers, AA
 * bit included. Because the relay sends from its own address, named's views (match-clients) can
 * answer it differently: REFUSED for a zone the "server" does not carry, a stale zone copy.
 * UDP only: the lint asks over TCP only after a truncated answer, and the test zones are small.
 */
import { createSocket, type RemoteInfo } from "node:dgram";

export interface DnsRelay {
  readonly host: string;
  readonly port: number;
  /** Datagrams forwarded so far. */
  readonly forwarded: number;
  stop(): Promise<void>;
}

export async function startDnsRelay(options: { host: string; port: number; upstream: { host: string; port: number }; timeoutMs?: number }): Promise<DnsRelay> {
  const { host, port, upstream } = options;
  const listener = createSocket("udp4");
  const open = new Set<ReturnType<typeof createSocket>>();
  let forwarded = 0;
  listener.on("message", (msg: Buffer, client: RemoteInfo) => {
    forwarded++;
    const out = createSocket("udp4");
    open.add(out);
    let closed = false;
    const done = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      open.delete(out);
      out.close();
    };
    const timer = setTimeout(done, options.timeoutMs ?? 3000);
    out.on("error", done);
    out.on("message", (reply) => {
      listener.send(reply, client.port, client.address);
      done();
    });
    out.bind({ address: host, port: 0 }, () => out.send(msg, upstream.port, upstream.host));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.bind({ address: host, port, exclusive: true }, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  return {
    host,
    port,
    get forwarded() {
      return forwarded;
    },
    async stop() {
      for (const s of open) s.close();
      open.clear();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
