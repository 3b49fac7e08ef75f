/**
 * The words of mailpool (DESIGN.md, "Words") as types: pools and members as configured, the
 * verdicts the judge gives, the plan the planner makes and the guard checks.
 */
import type { AddressType, RRset } from "../providers/types.js";
import type { ProviderPoolOptions } from "../providers/registry.js";
import type { Observation } from "./probes/types.js";

/** A pool's safety settings and the rule names derive from the rule registry (src/plan/rules/). */
export type { SafetyRule, SafetySpec } from "./plan/rules/index.js";
export type { ChangeWindowSpec } from "./plan/rules/change-window.js";
import type { SafetyRule, SafetySpec } from "./plan/rules/index.js";

export interface MemberSpec {
  /** Canonical IP address: the value in the pool's A or AAAA RRset. */
  readonly address: string;
  /** A label for reports (defaults to the address). */
  readonly label: string;
  /** Canonical IP of a standby that takes this member's place in DNS while it is down. */
  readonly standby?: string;
  /** TLS server name for this member's probes (defaults to the pool name). */
  readonly serverName?: string;
  /**
   * With `ipTakeover`: the member host's own address, which never moves. The member's health is
   * judged here, because once `address` moved, probing `address` reaches the standby.
   */
  readonly hostAddress?: string;
  /** Network-level takeover: `address` itself moves to the standby host while the member is down. */
  readonly ipTakeover?: IpTakeoverSpec;
}

export interface IpTakeoverSpec {
  /** Name of the adapter block under the config's top-level `ipTakeover`. */
  readonly via: string;
  /** Canonical IP of the standby host, probed on this, its own address. */
  readonly standby: string;
}

/** The address whose verdict says whether the member (the machine) is healthy. */
export const memberHealthAddress = (m: MemberSpec): string => m.hostAddress ?? m.address;

/** Besides the core's keys, a pool carries the keys its providers declare (Route 53's recordStyle). */
export interface PoolSpec extends ProviderPoolOptions {
  /** Normalized DNS name: "smtp.example.com". */
  readonly name: string;
  /** Name of the provider block in the config. */
  readonly provider: string;
  readonly ttl: number;
  readonly members: readonly MemberSpec[];
  /** Names of the checks every member must pass. */
  readonly checks: readonly string[];
  /** Consecutive passes for a down member to come back. */
  readonly rise: number;
  /** Consecutive failures for an up member to go down. */
  readonly fall: number;
  /** One-shot mode: time between confirmation probes, ms. */
  readonly confirmIntervalMs: number;
  readonly safety: SafetySpec;
  /** Daemon mode: the pool's own cron schedule (absent: the config's). */
  readonly schedule?: string;
}

export type Health = "up" | "down" | "unknown";

/** A member's (or standby's) health after hysteresis, with the evidence. */
export interface Verdict {
  readonly health: Health;
  /** Why, in words: "3 of 3 probes failed: timeout waiting for banner after 5000 ms". */
  readonly reason: string;
  /** The latest observation per check name. */
  readonly observations?: Readonly<Record<string, Observation>>;
}

/** Health of every probed address of a pool: members and standbys. */
export type HealthView = (pool: string, address: string) => Verdict;

interface ActionBase {
  readonly pool: string;
  readonly reason: string;
}

/**
 * The fields only some kinds carry. A kind without one declares it absent, so reading it on any
 * Action is typed (`string | undefined`), while a switch on `kind` narrows to the kind's own.
 */
interface KindFields {
  readonly address: string;
  readonly standby: string;
  readonly fromTtl: number;
  readonly toTtl: number;
}
type Absent<K extends keyof KindFields> = { readonly [P in K]?: undefined };

/** A dead member's address (or a dead standby's) leaves the RRset. */
export interface RemoveAction extends ActionBase, Absent<"standby" | "fromTtl" | "toTtl"> {
  readonly kind: "remove";
  readonly type: AddressType;
  readonly address: string;
}

/** A recovered member's address returns. */
export interface ReinstateAction extends ActionBase, Absent<"standby" | "fromTtl" | "toTtl"> {
  readonly kind: "reinstate";
  readonly type: AddressType;
  readonly address: string;
}

/** A dead member's address is replaced by its healthy standby's. */
export interface TakeoverAction extends ActionBase, Absent<"fromTtl" | "toTtl"> {
  readonly kind: "takeover";
  readonly type: AddressType;
  /** The member's address. */
  readonly address: string;
  /** The standby that takes the address's place. */
  readonly standby: string;
}

/** The member is back; its standby steps aside. */
export interface RestoreAction extends ActionBase, Absent<"fromTtl" | "toTtl"> {
  readonly kind: "restore";
  readonly type: AddressType;
  /** The member's address. */
  readonly address: string;
  /** The standby that leaves. */
  readonly standby: string;
}

/** The live TTL differs from the configured one. */
export interface TtlAction extends ActionBase, Absent<"address" | "standby"> {
  readonly kind: "ttl";
  readonly type: AddressType;
  readonly fromTtl: number;
  readonly toTtl: number;
}

/** The provider reported drift (e.g. proxied records); the reason is the provider's words. */
export interface RepairAction extends ActionBase, Absent<keyof KindFields> {
  readonly kind: "repair";
  readonly type: AddressType;
}

/** The ownership marker is written. */
export interface AdoptAction extends ActionBase, Absent<keyof KindFields> {
  readonly kind: "adopt";
  readonly type: "TXT";
}

/** One step of a plan, in a person's terms; `kind` says which fields it carries. */
export type Action = RemoveAction | ReinstateAction | TakeoverAction | RestoreAction | TtlAction | RepairAction | AdoptAction;

export type ActionKind = Action["kind"];

/** For the `default` of an exhaustive switch: a new variant is a compile error there. */
export function unreachable(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}

/** A change a safety rule stopped, with the rule's name and its own words. */
export interface HeldAction {
  readonly action: Action;
  readonly rule: SafetyRule;
  readonly why: string;
}

/** What the planner saw and decided for one pool. */
export interface PoolPlan {
  readonly pool: string;
  readonly provider: string;
  /** The live RRsets read (A, AAAA, marker TXT), absent when they do not exist. */
  readonly current: { readonly A?: RRset; readonly AAAA?: RRset; readonly marker?: RRset };
  readonly actions: readonly Action[];
  readonly held: readonly HeldAction[];
  /** Pool-level alarms that are not tied to one action ("every member is down"). */
  readonly alarms: readonly string[];
}
