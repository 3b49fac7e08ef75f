/**
 * The daemon's HTTP endpoint: /healthz (alive, scheduler ticking), /readyz (a first cycle
 * completed; provider failures do not flap it), /status (JSON), /metrics (Prometheus) and
 * /probe (multi-target exporter). GET and HEAD only.
 */
import { createServer, type Server } from "node:http";
import type { Logger } from "pino";
import type { Config } from "../config/load.js";
import type { ProbeFn } from "../health/probe-round.js";
import type { Metrics } from "./metrics.js";
import { handleProbe } from "./probe-endpoint.js";

export interface DaemonView {
  config(): Config;
  readonly metrics: Metrics;
  probe(): ProbeFn;
  healthy(): { ok: boolean; why: string };
  ready(): boolean;
  status(): object;
}

export function listen(address: string, view: DaemonView, log: Logger, onListening?: (a: { host: string; port: number }) => void): Promise<Server> {
  const i = address.lastIndexOf(":");
  const host = address.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(i + 1));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://mailpool.invalid");
    const plain = (status: number, body: string) => res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(`${body}\n`);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    void (async () => {
      switch (url.pathname) {
        case "/healthz": {
          const h = view.healthy();
          return h.ok ? plain(200, "ok") : plain(503, h.why);
        }
        case "/readyz":
          return view.ready() ? plain(200, "ready") : plain(503, "no cycle completed yet");
        case "/status":
          return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(view.status(), null, 2) + "\n");
        case "/metrics":
          return res.writeHead(200, { "content-type": view.metrics.contentType }).end(await view.metrics.render());
        case "/probe": {
          const ac = new AbortController();
          res.on("close", () => ac.abort(new Error("client went away")));
          const scrape = Number(req.headers["x-prometheus-scrape-timeout-seconds"]);
          const r = await handleProbe(url.searchParams, view.config(), view.probe(), { signal: ac.signal, ...(Number.isFinite(scrape) ? { scrapeTimeoutSeconds: scrape } : {}) });
          return res.writeHead(r.status, { "content-type": r.contentType }).end(r.body);
        }
        default:
          return plain(404, "not found");
      }
    })().catch((err: Error) => {
      log.error({ err: err.message, path: url.pathname }, "endpoint failed");
      if (!res.headersSent) plain(500, "internal error");
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const a = server.address();
      const bound = typeof a === "object" && a ? { host, port: a.port } : { host, port };
      log.info(bound, "health and metrics endpoint listening");
      onListening?.(bound);
      resolve(server);
    });
  });
}
