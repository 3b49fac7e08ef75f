/**
 * `mailpool probe <url | pool>`: an ad-hoc handshake of one host, or of every member and standby
 * of a configured pool with the pool's checks. Exit 0 when every handshake passed, 1 otherwise.
 */
import { readFileSync } from "node:fs";
import type { Config } from "../config/load.js";
import { probedAddresses } from "../health/probe-round.js";
import { createProbeRunner, formatObservation, parseProbeUrl, ProbeUrlError } from "../probes/index.js";
import type { CheckSpec, Observation, ProbeTarget } from "../probes/types.js";
import { normalizeName } from "../util/names.js";
import { onInterrupt, SIGNAL_EXIT } from "./interrupt.js";
import { UsageError } from "./usage-error.js";

export interface ProbeFlags {
  starttls?: boolean;
  implicitTls?: boolean;
  serverName?: string;
  insecure?: boolean;
  caFile?: string;
  timeout?: number;
}

export interface ProbeCommandContext {
  readonly output: "text" | "json";
  readonly loadConfig: () => Config;
  readonly configGiven: boolean;
  readonly out?: NodeJS.WritableStream;
}

export async function runProbeCommand(targetText: string, flags: ProbeFlags, ctx: ProbeCommandContext): Promise<number> {
  const out = ctx.out ?? process.stdout;
  const jobs: { heading: string; target: ProbeTarget; check: CheckSpec }[] = [];
  if (targetText.includes("://")) {
    let caPem: string | undefined;
    if (flags.caFile !== undefined) {
      try {
        caPem = readFileSync(flags.caFile, "utf8");
      } catch (err) {
        throw new UsageError(`--ca-file ${flags.caFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    try {
      const { target, check } = parseProbeUrl(targetText, {
        ...(flags.starttls ? { starttls: true } : {}),
        ...(flags.implicitTls ? { implicitTls: true } : {}),
        ...(flags.serverName !== undefined ? { serverName: flags.serverName } : {}),
        ...(flags.insecure ? { insecure: true } : {}),
        ...(caPem !== undefined ? { caPem } : {}),
        ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
      });
      jobs.push({ heading: targetText, target, check });
    } catch (err) {
      if (err instanceof ProbeUrlError) throw new UsageError(err.message);
      throw err;
    }
  } else {
    const config = ctx.loadConfig();
    const name = normalizeName(targetText);
    const pool = config.pools.find((p) => p.name === name);
    if (!pool) {
      throw new UsageError(
        `${JSON.stringify(targetText)} is neither a probe URL (e.g. smtp://mx1.example.net:25) nor a pool in the config (${config.pools.map((p) => p.name).join(", ")})`,
      );
    }
    for (const { address, serverName } of probedAddresses(pool)) {
      for (const checkName of pool.checks) {
        const check = config.checks[checkName]!;
        const target: ProbeTarget = { host: address, port: check.port, serverName };
        jobs.push({ heading: `${pool.name} ${address}:${check.port} (${checkName})`, target, check });
      }
    }
  }
  const run = createProbeRunner({ concurrency: 16 });
  const interrupt = onInterrupt();
  let results: Observation[];
  try {
    results = await Promise.all(jobs.map((j) => run(j.target, j.check, interrupt.signal)));
  } catch (err) {
    const signal = interrupt.received();
    if (signal !== undefined) return SIGNAL_EXIT[signal];
    throw err;
  } finally {
    interrupt.dispose();
  }
  // An interrupted handshake is no verdict on the host: exit as stopped, print nothing.
  const signal = interrupt.received();
  if (signal !== undefined) return SIGNAL_EXIT[signal];
  if (ctx.output === "json") {
    out.write(
      JSON.stringify(
        jobs.map((j, i) => ({ target: j.heading, host: j.target.host, port: j.target.port, check: j.check.name, ...results[i] })),
        null,
        2,
      ) + "\n",
    );
  } else {
    out.write(jobs.map((j, i) => formatObservation(results[i]!, j.heading)).join("\n") + "\n");
  }
  return results.every((r) => r.ok) ? 0 : 1;
}
