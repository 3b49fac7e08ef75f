/**
 * `mailpool lint [DOMAIN…]` and `mailpool lint -c mailpool.yaml`: gather, judge, print. Exit 0
 * when no finding is at or above --fail-on, 1 otherwise; bad options are usage errors (64) and a
 * bad config a config error (78), both raised for main.ts to map.
 */
import { getServers } from "node:dns";
import type { Config } from "../config/load.js";
import { UsageError } from "../cli/usage-error.js";
import { invalidNameReason, isInZone, normalizeName } from "../util/names.js";
import { parseServer, type DnsQuery } from "./dns-query.js";
import { gather } from "./gather.js";
import { renderLintJson, renderLintText, type DomainReport } from "./render.js";
import { lint } from "./rules/index.js";
import { SEVERITIES, severityRank, type PoolRef, type Severity } from "./types.js";
import type { Prober } from "../probes/types.js";

export interface LintFlags {
  resolver?: string;
  timeout?: number;
  nsPort?: number;
  smtpPort?: number;
  rcpt?: boolean;
  queryBudget?: number;
  concurrency?: number;
  failOn?: string;
  ehloName?: string;
}

export interface LintContext {
  readonly output: "text" | "json";
  /** Loads the config; called only when one was given (-c or MAILPOOL_CONFIG). */
  readonly loadConfig?: () => Config;
  readonly out?: NodeJS.WritableStream;
  readonly color?: boolean;
  readonly signal?: AbortSignal;
  /** The system's resolvers (node:dns getServers), for the default --resolver. */
  readonly systemResolvers?: () => string[];
  readonly query?: DnsQuery;
  readonly probe?: Prober;
}

export const LINT_DEFAULTS = { timeoutMs: 3000, nsPort: 53, smtpPort: 25, queryBudget: 300, concurrency: 8 } as const;

/** The domains a config's pools live in: each pool's provider zone (origin/zoneName) when set, else the pool name's parent. */
export function configDomains(config: Config): string[] {
  const out = new Set<string>();
  for (const pool of config.pools) {
    const p = config.providers[pool.provider] as { origin?: string; zoneName?: string } | undefined;
    const zone = p?.origin ?? p?.zoneName;
    const z = zone !== undefined ? normalizeName(zone) : undefined;
    out.add(z !== undefined && isInZone(pool.name, z) ? z : pool.name.split(".").slice(1).join("."));
  }
  return [...out].filter((d) => d.includes(".")).sort();
}

export async function runLintCommand(domainArgs: readonly string[], flags: LintFlags, ctx: LintContext): Promise<number> {
  const out = ctx.out ?? process.stdout;
  const failOn = (flags.failOn ?? "error") as Severity;
  if (!SEVERITIES.includes(failOn)) throw new UsageError(`--fail-on: ${JSON.stringify(flags.failOn)} is not one of ${SEVERITIES.join(", ")}`);
  const system = (ctx.systemResolvers ?? getServers)();
  const resolverText = flags.resolver ?? system[0];
  if (resolverText === undefined) throw new UsageError("--resolver: the system has no resolver configured; give one, e.g. --resolver 127.0.0.1:53");
  const resolver = parseServer(resolverText);
  if (!resolver) throw new UsageError(`--resolver: ${JSON.stringify(resolverText)} is not an IP address with an optional port (127.0.0.1:5353, [::1]:53)`);

  const config = ctx.loadConfig?.();
  const domains = domainArgs.length > 0 ? domainArgs.map(normalizeName) : config ? configDomains(config) : [];
  if (domains.length === 0) throw new UsageError(config ? "lint: the config has no pool whose domain could be told; name the domain" : "lint: name a DOMAIN, or give -c mailpool.yaml to lint every configured domain");
  for (const d of domains) {
    const why = invalidNameReason(d);
    if (why) throw new UsageError(`lint: ${JSON.stringify(d)} ${why}`);
  }

  const signal = ctx.signal ?? new AbortController().signal;
  const reports: DomainReport[] = [];
  for (const domain of domains) {
    const pools: PoolRef[] | undefined = config?.pools.filter((p) => isInZone(p.name, domain)).map((p) => ({ name: p.name }));
    const obs = await gather({
      domain,
      resolver,
      nsPort: flags.nsPort ?? LINT_DEFAULTS.nsPort,
      smtpPort: flags.smtpPort ?? LINT_DEFAULTS.smtpPort,
      timeoutMs: flags.timeout ?? LINT_DEFAULTS.timeoutMs,
      queryBudget: flags.queryBudget ?? LINT_DEFAULTS.queryBudget,
      concurrency: flags.concurrency ?? LINT_DEFAULTS.concurrency,
      signal,
      rcpt: flags.rcpt !== false,
      ...(flags.ehloName !== undefined ? { ehloName: flags.ehloName } : {}),
      ...(pools !== undefined ? { pools } : {}),
      ...(ctx.query ? { query: ctx.query } : {}),
      ...(ctx.probe ? { probe: ctx.probe } : {}),
    });
    // Interrupted: the answers are cut short, so judging them would invent failures.
    if (signal.aborted) throw new Error(`lint of ${domain} interrupted`);
    reports.push({ domain, findings: lint(obs), queries: { used: obs.budget.used, limit: obs.budget.limit }, rcptChecks: obs.rcpt.length });
  }
  out.write(ctx.output === "json" ? renderLintJson(reports) : renderLintText(reports, { color: ctx.color ?? false }));
  const worst = Math.max(-1, ...reports.flatMap((r) => r.findings.map((f) => severityRank(f.severity))));
  return worst >= severityRank(failOn) ? 1 : 0;
}
