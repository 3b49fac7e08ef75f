/**
 * A bench fleet: one SMTP, IMAP and/or POP3 listener per loopback address 127.1.x.y (every
 * 127/8 address is usable on Linux without configuration), the same port on each, a configurable
 * greeting delay, optional STARTTLS (a self-signed certificate made with openssl at start). Lean
 * on purpose (no per-connection log) so that the fleet, which shares the cores with the tool
 * under test, costs as little as it can. Loopback only; bounded lifetime; stops by itself.
 *
 * Run on its own: node dist/bench/fleet.js   (env below). When ready it prints one JSON line on
 * stdout: {"ready":true,"ports":{"smtp":P},"count":N,"addresses":[first,last],"pid":…}. Lines on
 * stdin control it: "stop ADDR" / "start ADDR" (a listener goes away / comes back), "stats"
 * (prints {"stats":{…}}), "quit". It exits when stdin closes (its parent died), on SIGTERM or
 * SIGINT, or after FLEET_LIFETIME_S.
 *
 * FLEET_COUNT (10000) addresses · FLEET_PROTOCOLS ("smtp"; or "smtp,imap,pop3") ·
 * FLEET_GREETING_DELAY_MS (50) · FLEET_STARTTLS (0|1) · FLEET_LIFETIME_S (900) · FLEET_PORT (0: pick).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createSecureContext, TLSSocket, type SecureContext } from "node:tls";

type Protocol = "smtp" | "imap" | "pop3";

/** The i-th fleet address (0-based): 127.1.0.1 … 127.1.0.250, 127.1.1.1 …; 250 per /24, then 127.2 …. */
export const fleetAddress = (i: number): string =>
  `127.${1 + Math.floor(i / 62_500)}.${Math.floor(i / 250) % 250}.${1 + (i % 250)}`;

/** A self-signed certificate for fleet.test, made with the openssl CLI in a temporary folder. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "mailpool-fleet-"));
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
        "-subj", "/CN=fleet.test", "-addext", "subjectAltName=DNS:fleet.test",
        "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MAX_LINE = 4096;

const stats = { connections: 0, completed: 0, tls: 0, errors: 0, active: 0, peakActive: 0 };

/** Serves one connection: banner after the delay, then line commands until QUIT/LOGOUT. */
function serve(raw: Socket, protocol: Protocol, delayMs: number, tls: SecureContext | undefined): void {
  stats.connections++;
  stats.active++;
  if (stats.active > stats.peakActive) stats.peakActive = stats.active;
  let stream: Socket | TLSSocket = raw;
  let buffer = "";
  let closed = false;
  raw.setNoDelay(true);
  const close = () => {
    if (closed) return;
    closed = true;
    stats.active--;
    clearTimeout(timer);
  };
  raw.on("close", close);
  raw.on("error", () => {
    stats.errors++;
    raw.destroy();
  });
  const say = (text: string) => {
    if (!stream.destroyed) stream.write(text);
  };
  const caps = {
    smtp: `250-fleet.test\r\n250-PIPELINING\r\n${tls ? "250-STARTTLS\r\n" : ""}250 8BITMIME\r\n`,
    imap: `* CAPABILITY IMAP4rev1${tls ? " STARTTLS" : ""}\r\n`,
    pop3: `+OK\r\nUSER\r\n${tls ? "STLS\r\n" : ""}.\r\n`,
  }[protocol];
  const upgrade = () => {
    stream.off("data", onData);
    const secure = new TLSSocket(raw, { isServer: true, secureContext: tls! });
    secure.on("error", () => {
      stats.errors++;
      raw.destroy();
    });
    secure.on("secure", () => stats.tls++);
    stream = secure;
    buffer = "";
    secure.on("data", onData);
  };
  const command = (line: string) => {
    const upper = line.toUpperCase();
    if (protocol === "smtp") {
      if (upper.startsWith("EHLO")) say(caps);
      else if (upper.startsWith("HELO")) say("250 fleet.test\r\n");
      else if (upper === "STARTTLS" && tls && stream === raw) {
        say("220 2.0.0 ready to start TLS\r\n");
        upgrade();
      } else if (upper === "QUIT") {
        stats.completed++;
        say("221 2.0.0 bye\r\n");
        stream.end();
      } else say("250 2.0.0 ok\r\n");
      return;
    }
    if (protocol === "imap") {
      const [tag = "*", verb = ""] = line.split(" ");
      const v = verb.toUpperCase();
      if (v === "CAPABILITY") say(`${caps}${tag} OK done\r\n`);
      else if (v === "STARTTLS" && tls && stream === raw) {
        say(`${tag} OK begin TLS\r\n`);
        upgrade();
      } else if (v === "LOGOUT") {
        stats.completed++;
        say(`* BYE fleet\r\n${tag} OK bye\r\n`);
        stream.end();
      } else say(`${tag} BAD unknown\r\n`);
      return;
    }
    if (upper === "CAPA") say(caps);
    else if (upper === "STLS" && tls && stream === raw) {
      say("+OK begin TLS\r\n");
      upgrade();
    } else if (upper === "QUIT") {
      stats.completed++;
      say("+OK bye\r\n");
      stream.end();
    } else say("-ERR unknown\r\n");
  };
  const onData = (data: Buffer) => {
    buffer += data.toString("latin1");
    for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
      const before = stream;
      command(line);
      if (stream !== before) return; // switched to TLS: the rest is the client's handshake
    }
    if (buffer.length > MAX_LINE) raw.destroy();
  };
  stream.on("data", onData);
  const banner = {
    smtp: "220 fleet.test ESMTP bench\r\n",
    imap: `* OK [CAPABILITY IMAP4rev1${tls ? " STARTTLS" : ""}] fleet ready\r\n`,
    pop3: "+OK fleet ready\r\n",
  }[protocol];
  const timer = setTimeout(() => say(banner), delayMs);
}

async function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, backlog: 1024 }, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

async function main(): Promise<void> {
  const count = Number(process.env.FLEET_COUNT ?? 10_000);
  const protocols = (process.env.FLEET_PROTOCOLS ?? "smtp").split(",").map((p) => p.trim()) as Protocol[];
  const delayMs = Number(process.env.FLEET_GREETING_DELAY_MS ?? 50);
  const lifetimeS = Number(process.env.FLEET_LIFETIME_S ?? 900);
  const startTls = process.env.FLEET_STARTTLS === "1";
  if (!Number.isInteger(count) || count < 1 || count > 60_000) throw new Error(`FLEET_COUNT ${count}: 1–60000`);
  if (count * protocols.length > 18_000) throw new Error(`FLEET_COUNT × protocols = ${count * protocols.length} listeners: above 18000 (the open-file limit)`);
  for (const p of protocols) if (!["smtp", "imap", "pop3"].includes(p)) throw new Error(`unknown protocol ${p}`);
  const tls = startTls ? createSecureContext(selfSignedCert()) : undefined;

  const servers = new Map<string, Server[]>();
  const ports: Partial<Record<Protocol, number>> = {};
  for (const protocol of protocols) {
    // Pick the port on the first address, then take the same port everywhere else (127.1/16 is
    // ours: nothing else listens there).
    let port = Number(process.env.FLEET_PORT ?? 0);
    for (let i = 0; i < count; i++) {
      const host = fleetAddress(i);
      const server = createServer((socket) => serve(socket, protocol, delayMs, tls));
      port = await listen(server, host, port);
      const list = servers.get(host) ?? [];
      list.push(server);
      servers.set(host, list);
    }
    ports[protocol] = port;
  }

  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`fleet: stopping (${why}); ${JSON.stringify(stats)}\n`);
    for (const list of servers.values()) for (const s of list) s.close();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  setTimeout(() => stop(`lifetime ${lifetimeS} s`), lifetimeS * 1000).unref();

  const lines = createInterface({ input: process.stdin });
  lines.on("close", () => stop("stdin closed"));
  lines.on("line", (line) => {
    const [verb, host = ""] = line.trim().split(/\s+/);
    if (verb === "quit") return stop("quit");
    if (verb === "stats") return void process.stdout.write(`${JSON.stringify({ stats })}\n`);
    const list = servers.get(host);
    if (!list) return;
    if (verb === "stop") {
      for (const s of list) s.close();
      process.stdout.write(`${JSON.stringify({ stopped: host })}\n`);
    } else if (verb === "start") {
      void Promise.all(list.map((s, k) => listen(s, host, ports[protocols[k]!]!))).then(() =>
        process.stdout.write(`${JSON.stringify({ started: host })}\n`),
      );
    }
  });
  // Keep the process alive while stdin is open (the interval is the only ref'd handle besides servers).
  process.stdout.write(
    `${JSON.stringify({ ready: true, ports, count, addresses: [fleetAddress(0), fleetAddress(count - 1)], pid: process.pid, delayMs, startTls })}\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`fleet: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
