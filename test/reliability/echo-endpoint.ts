/**
 * A hostile API endpoint on loopback: it answers every request with an error whose text echoes
 * every request header — as is, and each header's words base64- and URL-encoded too — in the
 * error format of Route 53 (REST+XML `<ErrorResponse>`) or of Cloudflare (the JSON envelope).
 * Requests alternate between a transient failure (503: retried, logged on each attempt) and a
 * fatal one (403: reported in the plan, /readyz, the exit). It keeps the headers it saw, so a
 * test can prove the secrets really were sent to it.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type EchoFormat = "route53" | "cloudflare";

export interface EchoEndpoint {
  readonly url: string;
  /** Headers of every request so far. */
  readonly seen: readonly IncomingHttpHeaders[];
  stop(): Promise<void>;
}

const xmlEscape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** "name: value" per header, then each word of each value base64- and URL-encoded. */
export function echoText(headers: IncomingHttpHeaders): string {
  const lines: string[] = [];
  for (const [name, raw] of Object.entries(headers)) {
    const value = Array.isArray(raw) ? raw.join(", ") : String(raw ?? "");
    lines.push(`${name}: ${value}`);
    for (const word of value.split(/[\s,]+/).filter(Boolean)) {
      lines.push(`b64(${name})=${Buffer.from(word).toString("base64")} url(${name})=${encodeURIComponent(word)}`);
    }
  }
  return `you sent: ${lines.join(" | ")}`;
}

export async function startEchoEndpoint(format: EchoFormat, host = "127.0.0.1"): Promise<EchoEndpoint> {
  const seen: IncomingHttpHeaders[] = [];
  let count = 0;
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1 << 20) req.destroy();
    });
    req.on("end", () => {
      const transient = count++ % 2 === 0;
      const status = transient ? 503 : 403;
      const text = echoText(req.headers);
      if (format === "route53") {
        const code = transient ? "ServiceUnavailable" : "AccessDenied";
        const type = transient ? "Receiver" : "Sender";
        res.writeHead(status, { "content-type": "text/xml" }).end(
          `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${xmlEscape(text)}</Message></Error><RequestId>echo-${count}</RequestId></ErrorResponse>`,
        );
      } else {
        const code = transient ? 10013 : 10000;
        res
          .writeHead(status, { "content-type": "application/json" })
          .end(JSON.stringify({ success: false, errors: [{ code, message: text }], messages: [], result: null }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    seen,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
