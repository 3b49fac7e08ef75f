/**
 * What a cycle reports, as values: the plans and results per provider, the health judged, the IP
 * takeover moves. The controller fills them in; the renderings (render.ts), the saved plan, the
 * daemon's /status and /metrics and the alerts read them. They live here, beside the plan, so
 * that reading a report needs nothing of the controller.
 */
import type { ApplyResult, RRsetChange } from "../../providers/types.js";
import type { PoolPlan, Verdict } from "../model.js";
import type { HeldIpAction, IpAction, IpAddressState } from "./plan-ip-takeover.js";

export interface ReconcileResult {
  readonly provider: string;
  readonly plans: PoolPlan[];
  readonly applied: ApplyResult | null;
  /** Read-plan-apply rounds. */
  readonly attempts: number;
  readonly error?: Error;
  /** The compare-and-swap changes of the last round's plan (a saved plan keeps them). */
  readonly changes?: readonly RRsetChange[];
}

export interface HealthEntry {
  readonly pool: string;
  readonly address: string;
  /** host: an IP-takeover member's own address (its health); standby: a DNS or IP standby. */
  readonly role: "member" | "standby" | "host";
  readonly label: string;
  readonly verdict: Verdict;
}

export interface IpVerify {
  /** The new holder answered the pool's checks on the moved address. */
  readonly ok: boolean;
  readonly attempts: number;
  readonly reason: string;
}

export interface IpMoveOutcome {
  readonly action: IpAction;
  readonly ok: boolean;
  /** The adapter refused because the address moved since the read (nothing changed). */
  readonly conflict: boolean;
  readonly error?: string;
  readonly notes: readonly string[];
  /** Absent when the move failed. */
  readonly verify?: IpVerify;
}

export interface IpTakeoverReport {
  /** Who holds each address: as read, updated by the moves that succeeded. */
  readonly addresses: readonly IpAddressState[];
  /** Moves allowed by the guard (carried out unless dry run). */
  readonly actions: readonly IpAction[];
  readonly held: readonly HeldIpAction[];
  readonly alarms: readonly { readonly pool: string; readonly text: string }[];
  readonly moves: readonly IpMoveOutcome[];
}

export interface CycleReport {
  readonly dryRun: boolean;
  readonly results: readonly ReconcileResult[];
  readonly health: readonly HealthEntry[];
  readonly proberIsolation?: string;
  /** Present when a pool has members with ipTakeover. */
  readonly ipTakeover?: IpTakeoverReport;
}
