/**
 * The planner: current RRsets × member health → actions, each with its reason. Pure: no I/O, no
 * clock. Safety rules are not applied here (see guard.ts): the plan says what health asks for.
 */
import type { AddressType, RRset } from "../../providers/types.js";
import type { Action, HealthView, MemberSpec, PoolSpec } from "../model.js";
import { recordTypeOf } from "../util/ip.js";

export interface CurrentRRsets {
  readonly A?: RRset;
  readonly AAAA?: RRset;
  readonly marker?: RRset;
}

const TYPES: readonly AddressType[] = ["A", "AAAA"];

/** The actions health asks for in one pool, A before AAAA, members in config order. */
export function planPool(pool: PoolSpec, current: CurrentRRsets, health: HealthView): Action[] {
  const actions: Action[] = [];
  for (const type of TYPES) {
    const members = pool.members.filter((m) => recordTypeOf(m.address) === type);
    const rrset = current[type];
    if (members.length === 0 && !rrset) continue;
    actions.push(...planRRset(pool, type, members, rrset, health));
  }
  return actions;
}

function planRRset(
  pool: PoolSpec,
  type: AddressType,
  members: readonly MemberSpec[],
  rrset: RRset | undefined,
  health: HealthView,
): Action[] {
  const live = new Set(rrset?.values ?? []);
  const memberAddresses = new Set(members.map((m) => m.address));
  const actions: Action[] = [];
  const act = (a: Omit<Action, "pool" | "type">) => actions.push({ pool: pool.name, type, ...a });

  for (const m of members) {
    const v = health(pool.name, m.address);
    if (v.health === "unknown") continue;
    const s = m.standby;
    const sv = s === undefined ? undefined : health(pool.name, s);
    const standbyLive = s !== undefined && live.has(s) && !memberAddresses.has(s);
    const who = m.label === m.address ? m.address : `${m.label} (${m.address})`;

    if (v.health === "down") {
      if (live.has(m.address)) {
        if (s !== undefined && sv?.health === "up") {
          act({ kind: "takeover", address: m.address, standby: s, reason: `${who} is down: ${v.reason}; standby ${s} is up` });
        } else {
          const why = s === undefined ? "" : `; standby ${s} is ${sv?.health === "down" ? `down too: ${sv.reason}` : "not yet judged"}`;
          act({ kind: "remove", address: m.address, reason: `${who} is down: ${v.reason}${why}` });
        }
      } else if (s !== undefined && !live.has(s) && sv?.health === "up") {
        act({ kind: "takeover", address: m.address, standby: s, reason: `${who} is down: ${v.reason}; standby ${s} is up` });
      } else if (standbyLive && sv?.health === "down") {
        act({ kind: "remove", address: s, reason: `standby ${s} for ${who} is down: ${sv.reason}` });
      }
      continue;
    }

    // The member is up.
    if (standbyLive) {
      act({ kind: "restore", address: m.address, standby: s, reason: `${who} is up again: ${v.reason}; standby ${s} steps aside` });
    } else if (!live.has(m.address)) {
      act({ kind: "reinstate", address: m.address, reason: `${who} is up again: ${v.reason}` });
    }
  }

  if (rrset && rrset.ttl !== pool.ttl) {
    actions.push({
      pool: pool.name,
      type,
      kind: "ttl",
      fromTtl: rrset.ttl,
      toTtl: pool.ttl,
      reason: `live TTL ${rrset.ttl} s differs from the configured ${pool.ttl} s`,
    });
  }
  for (const drift of rrset?.drift ?? []) {
    actions.push({ pool: pool.name, type, kind: "repair", reason: drift });
  }
  return actions;
}

/** Addresses in the live RRsets that are neither members nor standbys: left alone, reported. */
export function strangers(pool: PoolSpec, current: CurrentRRsets): string[] {
  const known = new Set<string>();
  for (const m of pool.members) {
    known.add(m.address);
    if (m.standby !== undefined) known.add(m.standby);
  }
  return [...(current.A?.values ?? []), ...(current.AAAA?.values ?? [])].filter((v) => !known.has(v));
}
