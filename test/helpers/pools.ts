import type { RRset } from "../../providers/types.js";
import type { Health, HealthView, PoolSpec, SafetySpec } from "../../src/model.js";
import { markerValue } from "../../src/ownership.js";

export const SAFE: SafetySpec = { neverEmpty: true, minHealthy: 1, failOpen: true, maxRemovePercent: 50 };

export function pool(over: Partial<PoolSpec> & { addresses?: string[]; standbys?: Record<string, string> } = {}): PoolSpec {
  const addresses = over.addresses ?? ["192.0.2.10", "192.0.2.11", "192.0.2.12"];
  const { addresses: _a, standbys, ...rest } = over;
  return {
    name: "smtp.example.com",
    provider: "p",
    ttl: 300,
    checks: ["smtp"],
    rise: 1,
    fall: 1,
    confirmIntervalMs: 0,
    recordStyle: "simple",
    safety: SAFE,
    members: addresses.map((address) => ({
      address,
      label: address,
      ...(standbys?.[address] ? { standby: standbys[address] } : {}),
    })),
    ...rest,
  };
}

export const rr = (type: "A" | "AAAA", values: string[], ttl = 300, name = "smtp.example.com"): RRset => ({ name, type, ttl, values });

export const marker = (owner = "test", name = "smtp.example.com"): RRset => ({
  name: `_mailpool.${name}`,
  type: "TXT",
  ttl: 300,
  values: [markerValue(owner)],
});

/** Health from a table: listed addresses get that health, the rest are up. */
export function health(table: Record<string, Health>, fallback: Health = "up"): HealthView {
  return (_pool, address) => {
    const h = table[address] ?? fallback;
    return { health: h, reason: h === "down" ? "3 of 3 probe(s) failed: smtp: connection refused" : h === "up" ? "3 of 3 probe(s) passed" : "not yet judged" };
  };
}
