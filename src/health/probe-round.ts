/**
 * One round of probes: every member and standby of every pool × the pool's checks, concurrently
 * (the runner enforces the global bound). An address passes a round when it passes every check.
 */
import type { PoolSpec } from "../model.js";
import type { CheckSpec, Observation, ProbeTarget } from "../probes/types.js";

export type ProbeFn = (target: ProbeTarget, check: CheckSpec, signal: AbortSignal) => Promise<Observation>;

export interface AddressResult {
  readonly ok: boolean;
  /** "ok", or every failed check's reason: "smtp: timeout waiting for banner after 5000 ms". */
  readonly reason: string;
  readonly observations: Readonly<Record<string, Observation>>;
}

/** Key of an address within a pool: health is per pool, because checks are. */
export const addressKey = (pool: string, address: string): string => `${pool}|${address}`;

export function splitKey(key: string): [pool: string, address: string] {
  const i = key.indexOf("|");
  return [key.slice(0, i), key.slice(i + 1)];
}

/** Every address a pool probes (members, then standbys), each with its TLS server name. */
export function probedAddresses(pool: PoolSpec): { address: string; serverName: string }[] {
  const out = new Map<string, string>();
  for (const m of pool.members) out.set(m.address, m.serverName ?? pool.name);
  for (const m of pool.members) {
    if (m.standby !== undefined && !out.has(m.standby)) out.set(m.standby, m.serverName ?? pool.name);
  }
  // IP takeover: the member's host and its standby, each on its own address (never moving).
  for (const m of pool.members) {
    for (const a of [m.hostAddress, m.ipTakeover?.standby]) if (a !== undefined && !out.has(a)) out.set(a, m.serverName ?? pool.name);
  }
  return [...out].map(([address, serverName]) => ({ address, serverName }));
}

export async function probeAddress(
  pool: PoolSpec,
  address: string,
  serverName: string,
  checks: Readonly<Record<string, CheckSpec>>,
  probe: ProbeFn,
  signal: AbortSignal,
): Promise<AddressResult> {
  const observations: Record<string, Observation> = {};
  await Promise.all(
    pool.checks.map(async (name) => {
      const check = checks[name]!;
      observations[name] = await probe({ host: address, port: check.port, serverName }, check, signal);
    }),
  );
  const failed = pool.checks.filter((n) => !observations[n]!.ok);
  return {
    ok: failed.length === 0,
    reason: failed.length === 0 ? "ok" : failed.map((n) => `${n}: ${observations[n]!.reason}`).join("; "),
    observations,
  };
}

/** Probes the given pools' addresses (all of them, or those `only` selects) once. */
export async function probeRound(
  pools: readonly PoolSpec[],
  checks: Readonly<Record<string, CheckSpec>>,
  probe: ProbeFn,
  signal: AbortSignal,
  only?: (pool: string, address: string) => boolean,
): Promise<Map<string, AddressResult>> {
  const results = new Map<string, AddressResult>();
  await Promise.all(
    pools.flatMap((pool) =>
      probedAddresses(pool)
        .filter(({ address }) => only?.(pool.name, address) ?? true)
        .map(async ({ address, serverName }) => {
          results.set(addressKey(pool.name, address), await probeAddress(pool, address, serverName, checks, probe, signal));
        }),
    ),
  );
  return results;
}
