/** A lint report for people (text, grouped by severity) and for programs (JSON): two renderings of one value. */
import { SEVERITIES, type Finding, type Severity } from "./types.js";

export interface DomainReport {
  readonly domain: string;
  readonly findings: readonly Finding[];
  /** DNS queries made, and the budget. */
  readonly queries: { readonly used: number; readonly limit: number };
  /** SMTP RCPT dialogues held. */
  readonly rcptChecks: number;
}

export type LintSummary = Record<Severity, number>;

export function summarizeLint(reports: readonly DomainReport[]): LintSummary {
  const out: LintSummary = { error: 0, warning: 0, info: 0 };
  for (const r of reports) for (const f of r.findings) out[f.severity]++;
  return out;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function renderLintText(reports: readonly DomainReport[], options: { color: boolean }): string {
  const paint = (code: string) => (text: string) => (options.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const tone: Record<Severity, (t: string) => string> = { error: paint("31;1"), warning: paint("33;1"), info: paint("36") };
  const dim = paint("2");
  const lines: string[] = [];
  for (const r of reports) {
    const s = summarizeLint([r]);
    lines.push(
      `${r.domain}: ${r.findings.length === 0 ? "no findings" : `${plural(s.error, "error")}, ${plural(s.warning, "warning")}, ${s.info} info`}` +
        dim(` (${r.queries.used} DNS queries of ${r.queries.limit}, ${plural(r.rcptChecks, "RCPT check")})`),
    );
    for (const severity of SEVERITIES) {
      const group = r.findings.filter((f) => f.severity === severity);
      if (group.length === 0) continue;
      lines.push(`  ${tone[severity](severity)}`);
      for (const f of group) {
        lines.push(`    ${tone[severity](f.id)}  ${f.subject}`);
        lines.push(`      ${f.message}`);
        for (const e of f.evidence) lines.push(dim(`      observed: ${e}`));
        lines.push(`      fix: ${f.fix}`);
        lines.push(dim(`      see: ${f.rfc}`));
      }
    }
  }
  const total = summarizeLint(reports);
  lines.push(`${plural(reports.length, "domain")}: ${plural(total.error, "error")}, ${plural(total.warning, "warning")}, ${total.info} info`);
  return `${lines.join("\n")}\n`;
}

/** The JSON shape (version 1): { version, domains: [{ domain, findings, queries, rcptChecks }], summary }. */
export function renderLintJson(reports: readonly DomainReport[]): string {
  return `${JSON.stringify({ version: 1, domains: reports, summary: summarizeLint(reports) }, null, 2)}\n`;
}
