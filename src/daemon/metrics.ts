/**
 * Prometheus text exposition of what the daemon knows, built from the last cycle's report and a
 * few counters. No client library: the format is small and this keeps start-up cheap.
 */
import type { CycleReport } from "../controller/cycle.js";
import type { ActionKind } from "../model.js";

const esc = (v: string): string => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const labels = (l: Record<string, string>): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
};

export class Metrics {
  cycles = { ok: 0, error: 0 };
  readonly changes = new Map<ActionKind, number>();
  readonly providerErrors = new Map<string, number>();
  last?: { report: CycleReport; finishedAt: number; durationMs: number };

  record(report: CycleReport, finishedAt: number, durationMs: number): void {
    const failed = report.results.some((r) => r.error);
    if (failed) this.cycles.error += 1;
    else this.cycles.ok += 1;
    for (const r of report.results) {
      if (r.error) this.providerErrors.set(r.provider, (this.providerErrors.get(r.provider) ?? 0) + 1);
      if (!report.dryRun && r.applied) {
        for (const p of r.plans) for (const a of p.actions) this.changes.set(a.kind, (this.changes.get(a.kind) ?? 0) + 1);
      }
    }
    this.last = { report, finishedAt, durationMs };
  }

  recordFailure(): void {
    this.cycles.error += 1;
  }

  render(): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, rows: [Record<string, string>, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [l, v] of rows) out.push(`${name}${labels(l)} ${Number.isFinite(v) ? v : "NaN"}`);
    };
    metric("mailpool_cycles_total", "counter", "Cycles completed, by result.", [
      [{ result: "ok" }, this.cycles.ok],
      [{ result: "error" }, this.cycles.error],
    ]);
    metric("mailpool_changes_applied_total", "counter", "Plan actions applied, by kind.", [...this.changes].map(([k, v]) => [{ kind: k }, v]));
    metric("mailpool_provider_errors_total", "counter", "Cycles in which a provider failed.", [...this.providerErrors].map(([k, v]) => [{ provider: k }, v]));
    const last = this.last;
    if (last) {
      metric("mailpool_last_cycle_timestamp_seconds", "gauge", "When the last cycle finished.", [[{}, last.finishedAt / 1000]]);
      metric("mailpool_last_cycle_duration_seconds", "gauge", "How long the last cycle took.", [[{}, last.durationMs / 1000]]);
      metric("mailpool_prober_isolated", "gauge", "1 when the last cycle judged the prober cut off.", [[{}, last.report.proberIsolation ? 1 : 0]]);
      metric(
        "mailpool_address_up",
        "gauge",
        "Judged health of each member and standby: 1 up, 0 down (unknown addresses are absent).",
        last.report.health
          .filter((h) => h.verdict.health !== "unknown")
          .map((h) => [{ pool: h.pool, address: h.address, role: h.role }, h.verdict.health === "up" ? 1 : 0]),
      );
      const probes: [Record<string, string>, number][] = [];
      const latency: [Record<string, string>, number][] = [];
      const expiry: [Record<string, string>, number][] = [];
      for (const h of last.report.health) {
        for (const [check, o] of Object.entries(h.verdict.observations ?? {})) {
          const l = { pool: h.pool, address: h.address, check };
          probes.push([l, o.ok ? 1 : 0]);
          latency.push([l, o.latencyMs / 1000]);
          if (o.tls) expiry.push([l, o.tls.daysLeft]);
        }
      }
      metric("mailpool_probe_success", "gauge", "Last probe result per address and check.", probes);
      metric("mailpool_probe_duration_seconds", "gauge", "Last probe's handshake duration.", latency);
      metric("mailpool_tls_cert_days_left", "gauge", "Days until the presented certificate expires.", expiry);
      const held = new Map<string, number>();
      for (const r of last.report.results) for (const p of r.plans) for (const h of p.held) held.set(`${p.pool}\u0000${h.rule}`, (held.get(`${p.pool}\u0000${h.rule}`) ?? 0) + 1);
      metric(
        "mailpool_held_changes",
        "gauge",
        "Changes a safety rule held in the last cycle.",
        [...held].map(([k, v]) => {
          const [pool, rule] = k.split("\u0000") as [string, string];
          return [{ pool, rule }, v];
        }),
      );
    }
    return out.join("\n") + "\n";
  }
}
