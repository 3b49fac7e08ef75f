/**
 * The daemon's judge: rolling rise/fall counters in memory. An address starts unknown; `fall`
 * failed rounds in a row make it down, `rise` passed rounds in a row make it up. Unknown
 * addresses cause no change.
 */
import type { Health, HealthView, PoolSpec, Verdict } from "../model.js";
import { addressKey, probedAddresses, splitKey, type AddressResult } from "./probe-round.js";

interface State {
  health: Health;
  passes: number;
  failures: number;
  last?: AddressResult;
}

export class HysteresisJudge {
  readonly #states = new Map<string, State>();

  /** Feeds one round's results; returns the addresses whose health changed. */
  observe(pools: readonly PoolSpec[], results: ReadonlyMap<string, AddressResult>): { pool: string; address: string; from: Health; to: Health }[] {
    const changed: { pool: string; address: string; from: Health; to: Health }[] = [];
    const byPool = new Map(pools.map((p) => [p.name, p]));
    for (const [key, result] of results) {
      const [poolName, address] = splitKey(key);
      const pool = byPool.get(poolName);
      if (!pool) continue;
      const s = this.#states.get(key) ?? { health: "unknown", passes: 0, failures: 0 };
      const from = s.health;
      if (result.ok) {
        s.passes += 1;
        s.failures = 0;
        if (s.passes >= pool.rise) s.health = "up";
      } else {
        s.failures += 1;
        s.passes = 0;
        if (s.failures >= pool.fall) s.health = "down";
      }
      s.last = result;
      this.#states.set(key, s);
      if (from !== s.health) changed.push({ pool: poolName, address, from, to: s.health });
    }
    return changed;
  }

  verdict(pool: string, address: string): Verdict {
    const s = this.#states.get(addressKey(pool, address));
    if (!s?.last) return { health: "unknown", reason: "not probed yet" };
    const streak = s.last.ok ? `${s.passes} pass(es) in a row` : `${s.failures} failure(s) in a row`;
    const reason = s.last.ok ? streak : `${streak}: ${s.last.reason}`;
    return { health: s.health, reason: s.health === "unknown" ? `not yet judged (${reason})` : reason, observations: s.last.observations };
  }

  readonly view: HealthView = (pool, address) => this.verdict(pool, address);

  /** Forget addresses no longer configured (after a config reload). */
  retain(pools: readonly PoolSpec[]): void {
    const keep = new Set(pools.flatMap((p) => probedAddresses(p).map((a) => addressKey(p.name, a.address))));
    for (const k of this.#states.keys()) if (!keep.has(k)) this.#states.delete(k);
  }
}
