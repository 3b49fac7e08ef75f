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
    const host = m.hostAddress;
    const standby = m.ipTakeover?.standby;
    if (host !== undefined && !out.has(host)) out.set(host, m.serverName ?? pool.name);
    if (standby !== undefined && !out.has(standby)) out.set(standby, m.serverName ?? pool.name);
  }
  return [...out].map(([address, serverName]) => ({ address, serverName }));
}

/**
 * Probes one address with every check of its pool. Written with callbacks, not async closures:
 * a round starts every address at once and the runner queues them (the bound sits there, after
 * the daemon's spread sleep), so what each waiting address holds is paid 10,000 times over.
 */
export function probeAddress(
  pool: PoolSpec,
  address: string,
  serverName: string,
  checks: Readonly<Record<string, CheckSpec>>,
  probe: ProbeFn,
  signal: AbortSignal,
): Promise<AddressResult> {
  const names = pool.checks;
  if (names.length === 1) {
    const name = names[0]!;
    const check = checks[name]!;
    return probe({ host: address, port: check.port, serverName }, check, signal).then((o) => resultOf(names, { [name]: o }));
  }
  return Promise.all(names.map((name) => probe({ host: address, port: checks[name]!.port, serverName }, checks[name]!, signal))).then((all) => {
    const observations: Record<string, Observation> = {};
    names.forEach((name, i) => (observations[name] = all[i]!));
    return resultOf(names, observations);
  });
}

function resultOf(names: readonly string[], observations: Record<string, Observation>): AddressResult {
  let reason: string | undefined;
  for (const n of names) {
    const o = observations[n]!;
    if (!o.ok) reason = reason === undefined ? `${n}: ${o.reason}` : `${reason}; ${n}: ${o.reason}`;
  }
  return { ok: reason === undefined, reason: reason ?? "ok", observations };
}

/** Probes the given pools' addresses (all of them, or those `only` selects) once. */
export function probeRound(
  pools: readonly PoolSpec[],
  checks: Readonly<Record<string, CheckSpec>>,
  probe: ProbeFn,
  signal: AbortSignal,
  only?: (pool: string, address: string) => boolean,
): Promise<Map<string, AddressResult>> {
  const results = new Map<string, AddressResult>();
  return new Promise((resolve, reject) => {
    let pending = 1; // this loop's own share, released after it
    const settle = () => {
      if (--pending === 0) resolve(results);
    };
    try {
      for (const pool of pools) {
        for (const { address, serverName } of probedAddresses(pool)) {
          if (only !== undefined && !only(pool.name, address)) continue;
          const key = addressKey(pool.name, address);
          pending++;
          probeAddress(pool, address, serverName, checks, probe, signal).then((r) => {
            results.set(key, r);
            settle();
          }, reject);
        }
      }
    } catch (error) {
      reject(error);
    }
    settle();
  });
}
