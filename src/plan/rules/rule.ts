/**
 * What a safety rule is: a name, what it reads of the config (a zod schema and its default),
 * and a pure check. The guard (../guard.ts) runs the rules of the registry (./index.ts) in list
 * order; that order is the precedence: an action is held by the first rule that holds it.
 *
 * A rule judges at one of three stages, which the guard runs in this order (the registry lists
 * them so):
 *  - pool: the pool as a whole; a rule that holds, holds every action and ends the guard
 *    (ownership).
 *  - action: each action on its own, in plan order (changeWindow, failOpen, proberIsolation). The
 *    IP takeover guard runs these too, on each move as its DNS counterpart (a takeover-ip as a
 *    takeover, a return-ip as a restore).
 *  - rrset: what the actions still pending do to an A/AAAA RRset together (neverEmpty,
 *    minHealthy, maxRemovePercent). The guard weighs them per RRset type, growing actions first,
 *    then the rest in address order, each against the set as the actions allowed before it left
 *    it, and asks these rules only about a step that shrinks the set.
 */
import type { z } from "zod";
import type { AddressType } from "../../../providers/types.js";
import type { Action, ActionKind, HealthView, PoolSpec } from "../../model.js";
import type { CurrentRRsets } from "../plan-pool.js";

/** What a rule reads of the config. */
export interface RuleConfig<Z extends z.ZodType = z.ZodType> {
  /**
   * pool: a key under `safety`, set config-wide and overridden per pool key by key; the guard
   * hands the pool's value to the check. global: a top-level block, read by the controller
   * (proberIsolation: the cross-pool judgement), which hands the rule its finding.
   */
  readonly scope: "pool" | "global";
  readonly key: string;
  readonly schema: Z;
  /** What a pool gets when neither the config nor the pool sets the key; absent: it stays unset. */
  readonly default?: z.output<Z>;
}

/** What the controller tells the guard for a whole round. */
export interface GuardContext {
  readonly controllerId: string;
  readonly force: boolean;
  /** Set by the controller when most members of all pools failed at once. */
  readonly proberIsolation?: string | undefined;
  /** The instant the plan is made (the changeWindow rule); absent: no window is checked. */
  readonly now?: Date;
}

interface RuleBase {
  readonly name: string;
  /** One line for people (docs, `held by` context). */
  readonly summary: string;
  /** force: `--force` bypasses the rule; never: it holds even then (ownership). */
  readonly bypass: "force" | "never";
  readonly config?: RuleConfig;
}

export interface PoolRuleInput {
  readonly pool: PoolSpec;
  readonly current: CurrentRRsets;
  readonly actions: readonly Action[];
  readonly ctx: GuardContext;
}

/** A pool rule's finding: every action is held with `why`; `alarm` is reported for the pool. */
export interface PoolHold {
  readonly why: string;
  readonly alarm?: string;
}

export interface PoolRule extends RuleBase {
  readonly judges: "pool";
  check(input: PoolRuleInput): PoolHold | undefined;
}

/** What an action rule judges: a DNS action, or an IP takeover move as its DNS counterpart. */
export interface ActionSubject {
  readonly kind: ActionKind;
  /** The address the action is about (the member's, for takeover/restore; the floating one, for a move). */
  readonly address?: string | undefined;
  /** true: an IP takeover move (takeover-ip as "takeover", return-ip as "restore"). */
  readonly ipMove?: boolean;
}

export interface ActionRuleInput<C> {
  readonly pool: PoolSpec;
  readonly health: HealthView;
  /** The pool's value of the rule's `safety` key (pool-scope rules). */
  readonly config: C;
  readonly ctx: Omit<GuardContext, "controllerId">;
}

export interface ActionRule<C = unknown> extends RuleBase {
  readonly judges: "action";
  /** Why the action is held, or undefined when it may pass. */
  check(subject: ActionSubject, input: ActionRuleInput<C>): string | undefined;
  /** A pool-level alarm, reported even under --force (when no pool rule ended the guard). */
  alarm?(input: ActionRuleInput<C>): string | undefined;
}

/** One action that would shrink an RRset, as the guard weighs it. */
export interface RRsetStep {
  readonly action: Action;
  readonly type: AddressType;
  /** The RRset's size as read. */
  readonly liveSize: number;
  /** The set's size after this action, given the actions allowed before it. */
  readonly sizeAfter: number;
  /** How many addresses this action takes out of the set (1 for every kind today). */
  readonly shrink: number;
  /** Addresses the actions allowed before it already took out of this RRset this cycle. */
  readonly shrunk: number;
  /** The step in words: "removing 192.0.2.11", "takeover of … by … (already in the pool)". */
  readonly what: string;
}

export interface RRsetRuleInput<C> {
  readonly pool: PoolSpec;
  readonly config: C;
}

export interface RRsetRule<C = unknown> extends RuleBase {
  readonly judges: "rrset";
  check(step: RRsetStep, input: RRsetRuleInput<C>): string | undefined;
}

export type SafetyRuleDef = PoolRule | ActionRule<never> | RRsetRule<never>;

/** Removals and takeovers: what a prober's own failure would cause. */
export const isFailureDriven = (kind: ActionKind): boolean => kind === "remove" || kind === "takeover";
