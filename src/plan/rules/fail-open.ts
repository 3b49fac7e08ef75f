/**
 * failOpen: when every address a pool probes (members, standbys, IP takeover hosts and their
 * standbys) is down, the prober is the likelier culprit: removals and takeovers are held and
 * the pool alarms. A standby that answers proves the prober can reach the network.
 */
import { z } from "zod";
import type { HealthView, PoolSpec } from "../../model.js";
import { isFailureDriven, type ActionRule } from "./rule.js";

export const failOpen = {
  name: "failOpen",
  summary: "holds removals and takeovers when every address of the pool failed its probes",
  judges: "action",
  bypass: "force",
  config: {
    scope: "pool",
    key: "failOpen",
    schema: z
      .boolean()
      .describe("When every member and standby of a pool fails, change nothing and alarm (the prober is the likelier culprit). Default true."),
    default: true,
  },
  check(subject, { pool, health, config }) {
    if (!config || !isFailureDriven(subject.kind) || !everyProbedDown(pool, health)) return undefined;
    return subject.ipMove
      ? "every member, host and standby of the pool failed its probes; the prober may be the one cut off"
      : "every member and standby of the pool failed its probes; the prober may be the one cut off";
  },
  alarm({ pool, health, config }) {
    if (!config || !everyProbedDown(pool, health)) return undefined;
    return `every member of ${pool.name} is down; changing nothing (fail open): the prober may be the one cut off`;
  },
} as const satisfies ActionRule<boolean>;

/** Every address the pool probes is judged down (fail-open's trigger, counting IP hosts too). */
export function everyProbedDown(pool: PoolSpec, health: HealthView): boolean {
  const probed = new Set<string>();
  for (const m of pool.members) {
    probed.add(m.address);
    if (m.standby !== undefined) probed.add(m.standby);
    if (m.hostAddress !== undefined) probed.add(m.hostAddress);
    if (m.ipTakeover !== undefined) probed.add(m.ipTakeover.standby);
  }
  const verdicts = [...probed].map((a) => health(pool.name, a));
  return verdicts.length > 0 && verdicts.every((v) => v.health === "down");
}
