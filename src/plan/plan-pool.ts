/**
 * The planner: current RRsets × member health → actions, each with its reason. Pure: no I/O, no
 * clock. Safety rules are not applied here (see guard.ts): the plan says what health asks for.
 */
import type { AddressType, RRset } from "../../providers/types.js";
import { memberHealthAddress, type Action, type AdoptAction, type HealthView, type MemberSpec, type PoolSpec } from "../model.js";
import { recordTypeOf } from "../util/ip.js";

export interface CurrentRRsets {
  readonly A?: RRset;
  readonly AAAA?: RRset;
  readonly marker?: RRset;
}

const TYPES: readonly AddressType[] = ["A", "AAAA"];

/** An action of an A/AAAA RRset, before the pool and type are filled in (each kind with its own fields). */
type Planned = Exclude<Action, AdoptAction> extends infer A ? (A extends Action ? Omit<A, "pool" | "type"> : never) : never;

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
  // An RRset holding none of our addresses' family is left entirely alone (its values are
  // reported as strangers); so are its TTL and drift.
  if (members.length === 0) return [];
  const live = new Set(rrset?.values ?? []);
  const actions: Action[] = [];
  const act = (a: Planned) => actions.push({ pool: pool.name, type, ...a });
  const verdict = (address: string) => health(pool.name, address);
  const who = (m: MemberSpec) => (m.label === m.address ? m.address : `${m.label} (${m.address})`);

  // Each standby and the members it covers (one standby may cover several).
  const covers = new Map<string, MemberSpec[]>();
  for (const m of members) if (m.standby !== undefined) covers.set(m.standby, [...(covers.get(m.standby) ?? []), m]);
  /** A standby stays while any member it covers is down. */
  const stillNeeded = (s: string) => covers.get(s)!.some((m) => verdict(memberHealthAddress(m)).health === "down");

  // Decisions are taken against the live RRset, never against each other's results, so the
  // outcome does not depend on member order: no address is both added and removed.
  for (const m of members) {
    // The member is the machine: with IP takeover it is judged on its own host address, since
    // its floating address answers from whichever host holds it.
    const v = verdict(memberHealthAddress(m));
    if (v.health === "unknown") continue;
    const s = m.standby;
    const sv = s === undefined ? undefined : verdict(s);
    // IP takeover without a DNS standby: the address stays in DNS, served by the IP standby
    // once it moved (plan-ip-takeover.ts); removed only when that standby is not up either.
    if (v.health === "down" && s === undefined && m.ipTakeover !== undefined && verdict(m.ipTakeover.standby).health === "up") continue;

    if (v.health === "down") {
      if (s !== undefined && sv?.health === "up" && (live.has(m.address) || !live.has(s))) {
        const already = live.has(s) ? " (already in the pool)" : "";
        act({ kind: "takeover", address: m.address, standby: s, reason: `${who(m)} is down: ${v.reason}; standby ${s} is up${already}` });
      } else if (live.has(m.address)) {
        const why = s === undefined ? "" : `; standby ${s} is ${sv?.health === "down" ? "down too" : "not yet judged"}`;
        act({ kind: "remove", address: m.address, reason: `${who(m)} is down: ${v.reason}${why}` });
      }
      continue;
    }

    // The member is up: back in the pool, and its standby steps aside unless it still covers
    // another member that is down.
    const standbyLeaves = s !== undefined && live.has(s) && !stillNeeded(s);
    if (standbyLeaves) {
      act({ kind: "restore", address: m.address, standby: s, reason: `${who(m)} is up: ${v.reason}` });
    } else if (!live.has(m.address)) {
      const stays = s !== undefined && live.has(s) ? `; standby ${s} stays while another member it covers is down` : "";
      act({ kind: "reinstate", address: m.address, reason: `${who(m)} is up again: ${v.reason}${stays}` });
    }
  }

  // A standby in the pool that is itself down leaves (once, however many members it covers).
  for (const [s, covered] of covers) {
    const sv = verdict(s);
    if (live.has(s) && sv.health === "down") {
      act({ kind: "remove", address: s, reason: `standby ${s} (for ${covered.map(who).join(", ")}) is down: ${sv.reason}` });
    }
  }

  if (rrset) {
    const known = knownAddresses(pool);
    const others = rrset.values.filter((v) => !known.has(v));
    if (rrset.records) {
      // A record per value: only ours are judged; a stranger keeps its TTL and flags.
      const ours = rrset.records.filter((r) => known.has(r.value));
      const wrong = ours.filter((r) => r.ttl !== pool.ttl);
      if (wrong.length > 0) {
        const each = wrong.map((r) => `${r.value} ${r.ttl} s`).join(", ");
        act({ kind: "ttl", fromTtl: wrong[0]!.ttl, toTtl: pool.ttl, reason: `live TTL differs from the configured ${pool.ttl} s (${each})` });
      }
      for (const r of ours) for (const drift of r.drift) act({ kind: "repair", reason: drift });
    } else if (rrset.ttl !== pool.ttl) {
      const touches =
        others.length === 0
          ? ""
          : `; the RRset has one TTL, so this also changes the TTL of ${others.join(", ")}, which ${others.length === 1 ? "is" : "are"} not mailpool's`;
      act({ kind: "ttl", fromTtl: rrset.ttl, toTtl: pool.ttl, reason: `live TTL ${rrset.ttl} s differs from the configured ${pool.ttl} s${touches}` });
    }
  }
  for (const drift of rrset?.drift ?? []) act({ kind: "repair", reason: drift });
  return actions;
}

/** Every address the pool manages: its members and their standbys. */
export function knownAddresses(pool: PoolSpec): Set<string> {
  const known = new Set<string>();
  for (const m of pool.members) {
    known.add(m.address);
    if (m.standby !== undefined) known.add(m.standby);
  }
  return known;
}

/** Addresses in the live RRsets that are neither members nor standbys: left alone, reported. */
export function strangers(pool: PoolSpec, current: CurrentRRsets): string[] {
  const known = knownAddresses(pool);
  return [...(current.A?.values ?? []), ...(current.AAAA?.values ?? [])].filter((v) => !known.has(v));
}

/**
 * What a stranger's record breaks for the whole name (a proxied A record makes Cloudflare proxy
 * every record at the name, and mail cannot be proxied): "" when nothing, else the words.
 */
export function strangerHarm(current: CurrentRRsets, address: string): string {
  const r = [...(current.A?.records ?? []), ...(current.AAAA?.records ?? [])].find((x) => x.value === address);
  return r?.breaksName ?? "";
}
