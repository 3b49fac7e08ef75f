/**
 * The words of mailpool (DESIGN.md, "Words") as types: pools and members as configured, the
 * verdicts the judge gives, the plan the planner makes and the guard checks.
 */
import type { AddressType, RRset } from "../providers/types.js";
import type { ProviderPoolOptions } from "../providers/registry.js";
import type { Observation } from "./probes/types.js";

export interface SafetySpec {
  /** A pool never loses its last address. */
  readonly neverEmpty: boolean;
  /** Removals that would leave fewer addresses than this are held. */
  readonly minHealthy: number;
  /** When every member of a pool fails, change nothing and alarm. */
  readonly failOpen: boolean;
  /** Removals beyond this share of the pool in one cycle wait for the next. */
  readonly maxRemovePercent: number;
  /** Outside this window removals and takeovers are held (rule changeWindow); absent: always open. */
  readonly changeWindow?: ChangeWindowSpec;
}

/** When removals and takeovers may happen: a cron-started window, or a freeze. */
export interface ChangeWindowSpec {
  /** 5-field cron expression: the minutes a window opens. */
  readonly cron?: string;
  /** How long each window stays open, minutes. */
  readonly durationMinutes?: number;
  /** IANA time zone the cron fields are read in. Default UTC. */
  readonly timezone?: string;
  /** The window is never open. */
  readonly freeze?: boolean;
  /** Reinstatements and restores of healthy members pass outside the window. Default true. */
  readonly allowReinstate?: boolean;
}

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

export type ActionKind =
  | "remove" // a dead member's address leaves the RRset
  | "reinstate" // a recovered member's address returns
  | "takeover" // a dead member's address is replaced by its healthy standby's
  | "restore" // the member is back; its standby steps aside
  | "ttl" // the live TTL differs from the configured one
  | "repair" // the provider reported drift (e.g. proxied records)
  | "adopt"; // the ownership marker is written

/** One step of a plan, in a person's terms. */
export interface Action {
  readonly pool: string;
  readonly type: AddressType | "TXT";
  readonly kind: ActionKind;
  /** The address the action is about (the member's, for takeover/restore). */
  readonly address?: string;
  /** takeover: the standby that takes the address's place; restore: the standby that leaves. */
  readonly standby?: string;
  /** ttl: the old and new TTL. */
  readonly fromTtl?: number;
  readonly toTtl?: number;
  readonly reason: string;
}

/** A change a safety rule stopped, with the rule's name and its own words. */
export interface HeldAction {
  readonly action: Action;
  readonly rule: SafetyRule;
  readonly why: string;
}

export type SafetyRule =
  | "ownership"
  | "neverEmpty"
  | "minHealthy"
  | "failOpen"
  | "maxRemovePercent"
  | "proberIsolation"
  | "changeWindow";

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
