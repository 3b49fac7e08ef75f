/**
 * Turns a pool's allowed actions into compare-and-swap RRset changes: `before` is exactly what
 * was read, `after` what the RRset becomes. Pure.
 */
import type { AddressType, RRset, RRsetChange } from "../../providers/types.js";
import { unreachable, type Action, type PoolSpec } from "../model.js";
import { markerName, markerValue } from "../ownership.js";
import { knownAddresses, type CurrentRRsets } from "./plan-pool.js";

export function materialize(pool: PoolSpec, current: CurrentRRsets, allowed: readonly Action[]): RRsetChange[] {
  const changes: RRsetChange[] = [];
  for (const type of ["A", "AAAA"] as const) {
    const change = materializeRRset(pool, type, current[type], allowed.filter((a) => a.type === type));
    if (change) changes.push(change);
  }
  return changes;
}

function materializeRRset(
  pool: PoolSpec,
  type: AddressType,
  before: RRset | undefined,
  actions: readonly Action[],
): RRsetChange | undefined {
  if (actions.length === 0) return undefined;
  const values = new Set(before?.values ?? []);
  // With a record per value (before.records) a stranger's own TTL says nothing of ours (the
  // provider keeps it as it is): ours are written with the lowest TTL among our records.
  const known = knownAddresses(pool);
  const ours = before?.records?.filter((r) => known.has(r.value)).map((r) => r.ttl);
  let ttl = ours ? (ours.length > 0 ? Math.min(...ours) : pool.ttl) : (before?.ttl ?? pool.ttl);
  for (const a of actions) {
    applyAction(values, a);
    if (a.kind === "ttl") ttl = a.toTtl;
  }
  const after = values.size === 0 ? null : { ttl, values: sortAddresses([...values]) };
  if (!before && !after) return undefined;
  const leave = (after?.values ?? []).filter((v) => !known.has(v));
  return { key: { name: pool.name, type }, before: before ?? null, after, pool: pool.name, ...(leave.length > 0 ? { leave } : {}) };
}

/**
 * What an action does to an RRset's set of addresses (in place). The planner never emits two
 * actions that add and remove one address, so the order of application does not matter.
 */
export function applyAction(values: Set<string>, a: Action): Set<string> {
  switch (a.kind) {
    case "remove":
      values.delete(a.address);
      break;
    case "reinstate":
      values.add(a.address);
      break;
    case "takeover":
      values.delete(a.address);
      values.add(a.standby);
      break;
    case "restore":
      values.add(a.address);
      values.delete(a.standby);
      break;
    case "ttl":
    case "repair":
    case "adopt":
      break;
    default:
      unreachable(a);
  }
  return values;
}

/** The change that writes this controller's ownership marker for a pool. */
export function markerChange(pool: PoolSpec, current: RRset | undefined, controllerId: string): RRsetChange {
  return {
    key: { name: markerName(pool.name), type: "TXT" },
    before: current ?? null,
    after: { ttl: pool.ttl, values: [markerValue(controllerId)] },
    pool: pool.name,
  };
}

/** Stable order for addresses so written RRsets and printed plans are deterministic. */
export function sortAddresses(values: string[]): string[] {
  return values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
