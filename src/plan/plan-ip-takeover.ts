/**
 * IP takeover planning: who holds each floating address × the health of the member's host and
 * of its standby → `takeover-ip` and `return-ip` actions, each with its reason; then the guard's
 * rules that apply to moves. Pure: no I/O, no clock.
 *
 * Whose health: the member (the machine) is judged on its `hostAddress`, the standby on its own
 * address; never on the floating address, which answers from whichever host holds it.
 *  - takeover-ip: the member holds the address (or nobody does), the member's host is down and
 *    the standby is up. Never to a standby that is down or not yet judged.
 *  - return-ip: the standby holds the address (or nobody does) and the member's host is up,
 *    i.e. passed `rise` probes in a row on its own address.
 *  - an address held by anything else is never touched, only reported.
 */
import type { Holder, IpHolding } from "../../providers/ip/types.js";
import { describeHolder } from "../../providers/ip/types.js";
import type { HealthView, MemberSpec, PoolSpec, SafetyRule } from "../model.js";
import { actionHold } from "./guard.js";

export type IpActionKind = "takeover-ip" | "return-ip";

export interface IpAction {
  readonly pool: string;
  readonly kind: IpActionKind;
  /** The floating address. */
  readonly address: string;
  readonly member: string;
  /** The member host's own address. */
  readonly hostAddress: string;
  readonly standby: string;
  /** The adapter block. */
  readonly via: string;
  /** The host the address goes to (standby for takeover-ip, member host for return-ip). */
  readonly to: string;
  readonly reason: string;
}

export interface HeldIpAction {
  readonly action: IpAction;
  readonly rule: SafetyRule;
  readonly why: string;
}

/** What was read about one address: its holding, or why it could not be read. */
export type IpRead = { readonly holding: IpHolding } | { readonly error: string };

export interface IpAddressState {
  readonly pool: string;
  readonly address: string;
  readonly member: string;
  readonly hostAddress: string;
  readonly standby: string;
  readonly via: string;
  /** member | standby | none | other | unknown (not read). */
  readonly holder: "member" | "standby" | "none" | "other" | "unknown";
  /** The adapter's words, or the read error. */
  readonly detail: string;
}

export interface IpPlan {
  readonly addresses: IpAddressState[];
  readonly actions: IpAction[];
  readonly alarms: { readonly pool: string; readonly text: string }[];
}

export const ipMembers = (pool: PoolSpec): MemberSpec[] => pool.members.filter((m) => m.ipTakeover !== undefined && m.hostAddress !== undefined);

const who = (m: MemberSpec) => (m.label === m.address ? m.address : `${m.label} (${m.address})`);

export function roleOf(holder: Holder, m: MemberSpec): IpAddressState["holder"] {
  if (holder.kind === "none") return "none";
  if (holder.kind === "other") return "other";
  return holder.host === m.hostAddress ? "member" : holder.host === m.ipTakeover!.standby ? "standby" : "other";
}

/** The moves health asks for, pools and members in config order. */
export function planIpTakeover(pools: readonly PoolSpec[], reads: (address: string) => IpRead | undefined, health: HealthView): IpPlan {
  const plan: IpPlan = { addresses: [], actions: [], alarms: [] };
  for (const pool of pools) {
    for (const m of ipMembers(pool)) {
      const ip = m.ipTakeover!;
      const host = m.hostAddress!;
      const base = { pool: pool.name, address: m.address, member: m.label, hostAddress: host, standby: ip.standby, via: ip.via };
      const alarm = (text: string) => plan.alarms.push({ pool: pool.name, text });
      const read = reads(m.address);
      if (!read || "error" in read) {
        const why = read ? read.error : "not read";
        plan.addresses.push({ ...base, holder: "unknown", detail: why });
        alarm(`cannot tell who holds ${m.address} (${ip.via}): ${why}; no IP move this cycle`);
        continue;
      }
      const holder = roleOf(read.holding.holder, m);
      plan.addresses.push({ ...base, holder, detail: read.holding.detail });
      const mv = health(pool.name, host);
      const sv = health(pool.name, ip.standby);
      const act = (kind: IpActionKind, to: string, reason: string) => plan.actions.push({ ...base, kind, to, reason });

      if (holder === "other") {
        alarm(`${m.address} is held by ${describeHolder(read.holding.holder)} (${read.holding.detail}), neither ${who(m)}'s host ${host} nor standby ${ip.standby}; left alone`);
        continue;
      }
      const nobody = holder === "none" ? "; nobody holds it now" : "";
      if (holder === "member" || holder === "none") {
        if (mv.health === "down") {
          if (sv.health === "up") {
            act("takeover-ip", ip.standby, `${who(m)}'s host ${host} is down: ${mv.reason}; standby ${ip.standby} is up on its own address: ${sv.reason}${nobody}`);
          } else {
            alarm(`${who(m)}'s host ${host} is down, but standby ${ip.standby} is ${sv.health === "down" ? `down too (${sv.reason})` : `not yet judged (${sv.reason})`}: ${m.address} stays${holder === "none" ? " unassigned" : ""}`);
          }
          continue;
        }
      }
      if ((holder === "standby" || holder === "none") && mv.health === "up") {
        act("return-ip", host, `${who(m)}'s host ${host} is up on its own address: ${mv.reason}${nobody}`);
        continue;
      }
      if (holder === "standby" && sv.health === "down") {
        alarm(`standby ${ip.standby} holds ${m.address} but is down (${sv.reason}), and ${who(m)}'s host ${host} is ${mv.health}: no live host to move it to`);
      }
    }
  }
  return plan;
}

export interface IpGuardContext {
  readonly force: boolean;
  readonly proberIsolation?: string;
  /** The instant of the plan: outside the pool's change window a takeover waits (changeWindow). */
  readonly now?: Date;
}

/**
 * The guard's action rules (src/plan/rules/), run on each move as its DNS counterpart: a
 * takeover-ip as a takeover, a return-ip as a restore. So a takeover is failure-driven, and
 * fail-open (every member, host and standby of the pool failed) and prober isolation hold it; a
 * return is a recovery, never held by them, but waits outside a change window when
 * allowReinstate is false. `force` bypasses them. (Ownership's counterpart, an address held by a
 * host mailpool does not know, is decided in planning: it is never moved.)
 */
export function guardIpTakeover(
  pools: readonly PoolSpec[],
  actions: readonly IpAction[],
  health: HealthView,
  ctx: IpGuardContext,
): { allowed: IpAction[]; held: HeldIpAction[] } {
  const allowed: IpAction[] = [];
  const held: HeldIpAction[] = [];
  const byName = new Map(pools.map((p) => [p.name, p]));
  for (const a of actions) {
    const pool = byName.get(a.pool)!;
    const hold = actionHold({ kind: a.kind === "takeover-ip" ? "takeover" : "restore", address: a.address, ipMove: true }, pool, health, ctx);
    if (hold) held.push({ action: a, rule: hold.rule, why: hold.why });
    else allowed.push(a);
  }
  return { allowed, held };
}
