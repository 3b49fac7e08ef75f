/**
 * The safety rules, in precedence order: the guard (../guard.ts) runs them in this order, and an
 * action is held by the first rule that holds it. Pool rules come first, then the rules that
 * judge each action on its own, then the rules that weigh what the actions do to an RRset
 * together (./rule.ts; a test checks the stages are in that order).
 *
 * Adding a rule: one file in this folder (its name, config schema and default, pure check) and
 * one line below; its config key appears under `safety` (docs/extending.md "Adding a safety rule").
 */
import type { z } from "zod";
import { changeWindow } from "./change-window.js";
import { failOpen } from "./fail-open.js";
import { maxRemovePercent } from "./max-remove-percent.js";
import { minHealthy } from "./min-healthy.js";
import { neverEmpty } from "./never-empty.js";
import { ownership } from "./ownership.js";
import { proberIsolation } from "./prober-isolation.js";
import type { SafetyRuleDef } from "./rule.js";

export const RULES = [
  ownership, // the marker names this controller; never bypassed
  changeWindow, // outside the window, removals and takeovers wait
  failOpen, // every address of the pool down: the prober is the likelier culprit
  proberIsolation, // most members of all pools down at once
  neverEmpty, // a pool never loses its last address
  minHealthy, // no fewer than minHealthy addresses
  maxRemovePercent, // at most this share leaves in one cycle
] as const satisfies readonly SafetyRuleDef[];

type Rule = (typeof RULES)[number];

/** A rule's name, as it appears in plans (`held by <rule>`), JSON and metrics. */
export type SafetyRule = Rule["name"];

type ConfigOf<R> = R extends { readonly config: infer C } ? C : never;
type PoolConfig = Extract<ConfigOf<Rule>, { readonly scope: "pool" }>;
type GlobalConfig = Extract<ConfigOf<Rule>, { readonly scope: "global" }>;

/** A pool's safety settings, resolved: keys with a default are always set. */
export type SafetySpec = { readonly [C in PoolConfig as C extends { readonly default: unknown } ? C["key"] : never]: z.output<C["schema"]> } & {
  readonly [C in PoolConfig as C extends { readonly default: unknown } ? never : C["key"]]?: z.output<C["schema"]>;
};

/** The `safety` block's keys and their schemas (the config schema wraps them: src/config/schema.ts). */
export const SAFETY_CONFIG_SHAPE = Object.fromEntries(
  RULES.flatMap((r) => ("config" in r && r.config.scope === "pool" ? [[r.config.key, r.config.schema]] : [])),
) as { readonly [C in PoolConfig as C["key"]]: C["schema"] };

/** The top-level config blocks of global rules (proberIsolation). */
export const GLOBAL_RULE_CONFIG_SHAPE = Object.fromEntries(
  RULES.flatMap((r) => ("config" in r && r.config.scope === "global" ? [[r.config.key, r.config.schema]] : [])),
) as { readonly [C in GlobalConfig as C["key"]]: C["schema"] };

/** What a pool gets for every safety key neither the config nor the pool sets. */
export const DEFAULT_SAFETY: SafetySpec = Object.fromEntries(
  RULES.flatMap((r) => ("config" in r && r.config.scope === "pool" && "default" in r.config ? [[r.config.key, r.config.default]] : [])),
) as unknown as SafetySpec;
