import type { Observation } from "./types.js";

const ms = (value: number): string => `${Number.isInteger(value) ? value : value.toFixed(1)} ms`;

/**
 * An observation for a person (`mailpool probe`):
 *
 *   smtp://mx1.example.net:25: ok
 *     latency      23.4 ms (connect 0.6 ms, greeting 2.1 ms, ehlo 1 ms, quit 0.4 ms)
 *     greeting     220 mx1.example.net ESMTP
 *     …
 */
export function formatObservation(observation: Observation, heading?: string): string {
  const { ok, reason, tls } = observation;
  const status = ok ? "ok" : `FAILED: ${reason}`;
  const lines = [heading === undefined ? status : `${heading}: ${status}`];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(13)}${value}`);

  const phases = observation.phases.map((phase) => `${phase.name} ${ms(phase.ms)}`).join(", ");
  row("latency", phases ? `${ms(observation.latencyMs)} (${phases})` : ms(observation.latencyMs));
  observation.greeting?.split("\n").forEach((line, i) => row(i === 0 ? "greeting" : "", line));
  if (tls) {
    row("tls", `${tls.protocol} ${tls.cipher}`);
    const n = Math.abs(tls.daysLeft);
    const count = `${n} day${n === 1 ? "" : "s"}`;
    const days = tls.daysLeft < 0 ? `expired ${count} ago` : `${count} left`;
    row("certificate", `${tls.subject || "(no CN)"}, issued by ${tls.issuer || "(no CN)"}, valid to ${tls.validTo} (${days})`);
    if (tls.subjectAltNames) row("names", tls.subjectAltNames);
    row("verified", tls.authorized ? "yes" : `no: ${tls.authorizationError ?? "unknown error"}`);
  }
  if (observation.capabilities) row("capabilities", observation.capabilities.join(", ") || "(none)");
  for (const warning of observation.warnings) row("warning", warning);
  return lines.join("\n");
}
