/**
 * GET /probe?target=HOST:PORT&module=CHECK — blackbox_exporter's multi-target pattern: one
 * handshake with mailpool's own checks, answered as Prometheus metrics (probe_success,
 * probe_duration_seconds, phase durations, TLS facts). Runs through the daemon's probe runner,
 * so it shares the global concurrency bound with the cycles. Unless allowAnyTarget, the host
 * must be a configured member or standby address (mailpool is not an open port scanner).
 */
import { Gauge, Registry } from "prom-client";
import type { Config } from "../config/load.js";
import type { ProbeFn } from "../health/probe-round.js";
import type { CheckSpec, Observation } from "../probes/types.js";
import { canonicalIp, ipFamily } from "../util/ip.js";
import { probedAddresses } from "../health/probe-round.js";

export interface ProbeRequestResult {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

const text = (status: number, body: string): ProbeRequestResult => ({ status, contentType: "text/plain; charset=utf-8", body: `${body}\n` });

/** Parses HOST:PORT, [IPv6]:PORT; undefined when it is not one. */
export function parseTarget(target: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(target);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

export async function handleProbe(
  query: URLSearchParams,
  config: Config,
  probe: ProbeFn,
  options: { scrapeTimeoutSeconds?: number; signal: AbortSignal },
): Promise<ProbeRequestResult> {
  const targetText = query.get("target");
  const module = query.get("module");
  if (!targetText) return text(400, "target parameter is missing (target=HOST:PORT)");
  if (!module) return text(400, `module parameter is missing (module=CHECK: one of ${Object.keys(config.checks).join(", ")})`);
  const target = parseTarget(targetText);
  if (!target) return text(400, `target ${JSON.stringify(targetText)} is not HOST:PORT`);
  const check: CheckSpec | undefined = config.checks[module];
  if (!check) return text(400, `module ${JSON.stringify(module)} is not a check (known: ${Object.keys(config.checks).join(", ")})`);

  const isIp = ipFamily(target.host) !== 0;
  const host = isIp ? canonicalIp(target.host) : target.host.toLowerCase();
  // The TLS name of a configured address is what the pool would use; else the query's or the host.
  let serverName = query.get("server_name") ?? undefined;
  let configured = false;
  for (const pool of config.pools) {
    for (const a of probedAddresses(pool)) {
      if (a.address === host) {
        configured = true;
        serverName ??= a.serverName;
      }
    }
  }
  if (!configured && !config.daemon.probeEndpoint.allowAnyTarget) {
    return text(403, `target ${host} is not a member or standby address of a configured pool (daemon.probeEndpoint.allowAnyTarget is false)`);
  }

  // Stay inside Prometheus's scrape timeout (it sends it in a header), as blackbox_exporter does.
  let timeoutMs = check.timeoutMs;
  if (options.scrapeTimeoutSeconds !== undefined && Number.isFinite(options.scrapeTimeoutSeconds) && options.scrapeTimeoutSeconds > 0) {
    timeoutMs = Math.max(100, Math.min(timeoutMs, options.scrapeTimeoutSeconds * 1000 - 500));
  }
  const spec: CheckSpec = { ...check, port: target.port, timeoutMs, connectTimeoutMs: Math.min(check.connectTimeoutMs, timeoutMs) };
  const started = performance.now();
  const o = await probe({ host, port: target.port, ...(serverName !== undefined ? { serverName } : {}) }, spec, options.signal);
  const seconds = (performance.now() - started) / 1000;
  return { status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: await render(o, seconds) };
}

async function render(o: Observation, seconds: number): Promise<string> {
  const registry = new Registry();
  const r = [registry];
  new Gauge({ name: "probe_success", help: "Whether the handshake passed every rule of the check (1) or not (0).", registers: r }).set(o.ok ? 1 : 0);
  new Gauge({ name: "probe_duration_seconds", help: "How long the probe took, queueing for the concurrency bound included.", registers: r }).set(seconds);
  new Gauge({ name: "probe_handshake_duration_seconds", help: "How long the handshake itself took.", registers: r }).set(o.latencyMs / 1000);
  const phases = new Gauge({ name: "probe_phase_duration_seconds", help: "Duration of each handshake phase (connect, tls, greeting, ehlo, starttls, …).", labelNames: ["phase"], registers: r });
  const seen = new Map<string, number>();
  for (const p of o.phases) seen.set(p.name, (seen.get(p.name) ?? 0) + p.ms);
  for (const [phase, ms] of seen) phases.set({ phase }, ms / 1000);
  new Gauge({ name: "probe_warnings", help: "Warnings the probe gave that did not fail it (e.g. a certificate close to expiry).", registers: r }).set(o.warnings.length);
  if (o.tls) {
    new Gauge({ name: "probe_ssl_earliest_cert_expiry", help: "notAfter of the certificate presented (Unix time).", registers: r }).set(Date.parse(o.tls.validTo) / 1000);
    new Gauge({ name: "probe_tls_version_info", help: "The TLS version negotiated.", labelNames: ["version"], registers: r }).set({ version: o.tls.protocol }, 1);
    new Gauge({ name: "probe_tls_cipher_info", help: "The cipher negotiated.", labelNames: ["cipher"], registers: r }).set({ cipher: o.tls.cipher }, 1);
    new Gauge({ name: "probe_tls_cert_verified", help: "1 when the certificate chain and name verified.", registers: r }).set(o.tls.authorized ? 1 : 0);
  }
  // Why a probe failed, as a comment (Prometheus ignores it; a person reading /probe does not).
  const reason = o.ok ? "" : `# reason: ${o.reason.replace(/[\r\n]+/g, " ")}\n`;
  return reason + (await registry.metrics());
}
