/**
 * The daemon's Prometheus metrics, with prom-client on a registry of its own (never the global
 * one, so two daemons in one process — tests — do not share series). Counters and histograms
 * are fed as things happen; the per-address gauges are computed at scrape time from the last
 * report of each schedule group, so an address that leaves the config leaves /metrics too.
 * README "Metrics" lists every series; the names of the hand-written exposition this replaces
 * are kept, but for two: mailpool_probe_duration_seconds is now a histogram by check and
 * result (the per-address last duration is mailpool_probe_last_duration_seconds), and
 * mailpool_tls_cert_days_left gave way to mailpool_tls_cert_not_after_timestamp_seconds
 * (Prometheus wants base units; promtool rejects "days").
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CycleReport } from "../plan/report.js";
import type { Observation } from "../probes/types.js";

export const PROBE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const CYCLE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** "ok", "conflict", "transient", "error" or "aborted": the outcome of one provider call. */
export type ProviderCode = "ok" | "conflict" | "transient" | "error" | "aborted";

export interface MetricsOptions {
  readonly version: string;
  /** Also collect prom-client's default process and Node.js metrics (default true). */
  readonly defaultMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  /** The last report of each schedule group (the gauges are built from these). */
  readonly #reports = new Map<string, CycleReport>();

  readonly cycles: Counter<"result">;
  readonly cycleDuration: Histogram<"result">;
  readonly lastCycle: Gauge;
  readonly lastCycleDuration: Gauge;
  readonly lastSuccess: Gauge;
  readonly skippedTicks: Counter<"schedule">;
  readonly probeDuration: Histogram<"check" | "result">;
  readonly probes: Counter<"check" | "result">;
  readonly applied: Counter<"kind">;
  readonly held: Counter<"kind" | "rule">;
  readonly providerRequests: Counter<"provider" | "operation" | "code">;
  readonly providerErrors: Counter<"provider" | "operation" | "code">;
  readonly leader: Gauge;
  readonly alerts: Counter<"kind" | "outcome">;
  readonly ipMoves: Counter<"kind" | "result">;

  constructor(options: MetricsOptions) {
    const r = [this.registry];
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: "" });
      // prom-client names three gauges *_total, which Prometheus reserves for counters (promtool
      // rejects them); the same counts stay available by type in nodejs_active_{handles,requests,resources}.
      for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) this.registry.removeSingleMetric(name);
    }
    new Gauge({
      name: "mailpool_build_info",
      help: "Always 1; the labels say which mailpool and Node.js run.",
      labelNames: ["version", "nodejs"],
      registers: r,
    }).set({ version: options.version, nodejs: process.versions.node }, 1);

    this.cycles = new Counter({ name: "mailpool_cycles_total", help: "Cycles finished, by result (ok, error: a provider failed or the cycle was aborted).", labelNames: ["result"], registers: r });
    this.cycles.inc({ result: "ok" }, 0);
    this.cycles.inc({ result: "error" }, 0);
    this.cycleDuration = new Histogram({ name: "mailpool_cycle_duration_seconds", help: "Duration of a whole cycle (probes, plan, apply), by result.", labelNames: ["result"], buckets: CYCLE_BUCKETS, registers: r });
    this.lastCycle = new Gauge({ name: "mailpool_last_cycle_timestamp_seconds", help: "When the last cycle finished (Unix time), whatever its result.", registers: r });
    this.lastCycleDuration = new Gauge({ name: "mailpool_last_cycle_duration_seconds", help: "How long the last cycle took.", registers: r });
    this.lastSuccess = new Gauge({ name: "mailpool_last_successful_cycle_timestamp_seconds", help: "When the last cycle without any provider error finished (Unix time).", registers: r });
    this.skippedTicks = new Counter({ name: "mailpool_skipped_ticks_total", help: "Scheduled ticks skipped because the previous cycle of the same schedule was still running.", labelNames: ["schedule"], registers: r });
    this.probeDuration = new Histogram({ name: "mailpool_probe_duration_seconds", help: "Handshake duration of each probe, by check and result (ok, fail).", labelNames: ["check", "result"], buckets: PROBE_BUCKETS, registers: r });
    this.probes = new Counter({ name: "mailpool_probes_total", help: "Probes run, by check and result (ok, fail).", labelNames: ["check", "result"], registers: r });
    this.applied = new Counter({ name: "mailpool_changes_applied_total", help: "Plan actions written to DNS, by kind.", labelNames: ["kind"], registers: r });
    this.held = new Counter({ name: "mailpool_changes_held_total", help: "Planned actions a safety rule held, by kind and rule (counted every cycle they stay held).", labelNames: ["kind", "rule"], registers: r });
    this.providerRequests = new Counter({ name: "mailpool_provider_requests_total", help: "Provider calls, by provider, operation (read, apply, finishPending) and code (ok, conflict, transient, error, aborted).", labelNames: ["provider", "operation", "code"], registers: r });
    this.providerErrors = new Counter({ name: "mailpool_provider_errors_total", help: "Provider calls that failed, by provider, operation and code.", labelNames: ["provider", "operation", "code"], registers: r });
    this.leader = new Gauge({ name: "mailpool_leader", help: "1 while this process may apply changes (the Lease holder, or leader election off), else 0.", registers: r });
    this.alerts = new Counter({ name: "mailpool_alerts_total", help: "Alert events by kind and outcome (sent, failed, deduplicated, rate_limited, queue_full).", labelNames: ["kind", "outcome"], registers: r });

    this.ipMoves = new Counter({
      name: "mailpool_ip_moves_total",
      help: "IP takeover moves carried out, by kind (takeover-ip, return-ip) and result (ok: the new holder answers on the address; unverified: moved, but it did not answer; conflict: moved by someone else since the read, nothing changed; error).",
      labelNames: ["kind", "result"],
      registers: r,
    });
    const self = this;
    const each = function* () {
      for (const report of self.#reports.values()) yield report;
    };
    new Gauge({
      name: "mailpool_address_up",
      help: "Judged health of each member and standby: 1 up, 0 down (unknown addresses are absent).",
      labelNames: ["pool", "address", "role"],
      registers: r,
      collect() {
        this.reset();
        for (const rep of each()) for (const h of rep.health) if (h.verdict.health !== "unknown") this.set({ pool: h.pool, address: h.address, role: h.role }, h.verdict.health === "up" ? 1 : 0);
      },
    });
    const perObservation = (name: string, help: string, value: (o: Observation) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ["pool", "address", "check"],
        registers: r,
        collect() {
          this.reset();
          for (const rep of each()) {
            for (const h of rep.health) {
              for (const [check, o] of Object.entries(h.verdict.observations ?? {})) {
                const v = value(o);
                if (v !== undefined && Number.isFinite(v)) this.set({ pool: h.pool, address: h.address, check }, v);
              }
            }
          }
        },
      });
    perObservation("mailpool_probe_success", "Last probe result per address and check: 1 passed, 0 failed.", (o) => (o.ok ? 1 : 0));
    perObservation("mailpool_probe_last_duration_seconds", "Last probe's handshake duration per address and check.", (o) => o.latencyMs / 1000);
    perObservation("mailpool_tls_cert_not_after_timestamp_seconds", "notAfter of the certificate the address presented (Unix time), as blackbox_exporter's probe_ssl_earliest_cert_expiry.", (o) =>
      o.tls ? Date.parse(o.tls.validTo) / 1000 : undefined,
    );
    new Gauge({
      name: "mailpool_ip_address_holder",
      help: "Who holds each IP takeover address, as read in the last cycle (and moved by it): 1 for the holder (member, standby, none, other, unknown).",
      labelNames: ["pool", "address", "holder"],
      registers: r,
      collect() {
        this.reset();
        for (const rep of each()) for (const a of rep.ipTakeover?.addresses ?? []) this.set({ pool: a.pool, address: a.address, holder: a.holder }, 1);
      },
    });
    new Gauge({
      name: "mailpool_prober_isolated",
      help: "1 when the last cycle judged the prober cut off (every removal held).",
      registers: r,
      collect() {
        this.set([...each()].some((rep) => rep.proberIsolation !== undefined) ? 1 : 0);
      },
    });
    new Gauge({
      name: "mailpool_held_changes",
      help: "Changes a safety rule held in the last cycle, by pool and rule.",
      labelNames: ["pool", "rule"],
      registers: r,
      collect() {
        this.reset();
        for (const rep of each()) for (const res of rep.results) for (const p of res.plans) for (const h of p.held) this.inc({ pool: p.pool, rule: h.rule });
      },
    });
  }

  observeProbe(check: string, o: Observation): void {
    const result = o.ok ? "ok" : "fail";
    this.probes.inc({ check, result });
    this.probeDuration.observe({ check, result }, o.latencyMs / 1000);
  }

  providerCall(provider: string, operation: string, code: ProviderCode): void {
    this.providerRequests.inc({ provider, operation, code });
    if (code !== "ok") this.providerErrors.inc({ provider, operation, code });
  }

  /** A cycle of schedule group `group` returned a report at `finishedAt` (ms) after `durationMs`. */
  record(group: string, report: CycleReport, finishedAt: number, durationMs: number): void {
    const failed = report.results.some((r) => r.error);
    const result = failed ? "error" : "ok";
    this.cycles.inc({ result });
    this.cycleDuration.observe({ result }, durationMs / 1000);
    this.lastCycle.set(finishedAt / 1000);
    this.lastCycleDuration.set(durationMs / 1000);
    if (!failed) this.lastSuccess.set(finishedAt / 1000);
    for (const r of report.results) {
      if (!report.dryRun && r.applied) for (const p of r.plans) for (const a of p.actions) this.applied.inc({ kind: a.kind });
      for (const p of r.plans) for (const h of p.held) this.held.inc({ kind: h.action.kind, rule: h.rule });
    }
    for (const h of report.ipTakeover?.held ?? []) this.held.inc({ kind: h.action.kind, rule: h.rule });
    for (const m of report.ipTakeover?.moves ?? []) {
      this.ipMoves.inc({ kind: m.action.kind, result: !m.ok ? (m.conflict ? "conflict" : "error") : m.verify?.ok ? "ok" : "unverified" });
    }
    this.#reports.set(group, report);
  }

  /** A cycle that threw (aborted by its timeout or by a lost leadership). */
  recordFailure(finishedAt: number, durationMs: number): void {
    this.cycles.inc({ result: "error" });
    this.cycleDuration.observe({ result: "error" }, durationMs / 1000);
    this.lastCycle.set(finishedAt / 1000);
    this.lastCycleDuration.set(durationMs / 1000);
  }

  /** Groups no longer configured (after a reload) leave the gauges. */
  retainGroups(groups: readonly string[]): void {
    for (const g of this.#reports.keys()) if (!groups.includes(g)) this.#reports.delete(g);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
