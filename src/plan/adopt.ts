/**
 * The `adopt` command's decision for one pool, pure: write this controller's ownership marker,
 * or refuse because another controller's marker is there (unless forced: adoption is the
 * explicit act the ownership rule asks for), or nothing to do because the marker is ours.
 */
import type { RRset, RRsetChange } from "../../providers/types.js";
import type { Action, HeldAction, PoolSpec } from "../model.js";
import { markerName, markerOwner, markerValue } from "../ownership.js";
import { markerChange } from "./materialize.js";

export type Adoption =
  /** The marker already names this controller. */
  | { readonly kind: "owned" }
  /** Another controller's marker: the adoption is held by the ownership rule (`adopt` fails). */
  | { readonly kind: "refused"; readonly held: HeldAction }
  /** The marker is written; the pool is planned as if it were already (same batch). */
  | { readonly kind: "adopt"; readonly action: Action; readonly change: RRsetChange; readonly marker: RRset };

export function planAdoption(pool: PoolSpec, marker: RRset | undefined, controllerId: string, force: boolean): Adoption {
  const owner = markerOwner(marker);
  if (owner === controllerId) return { kind: "owned" };
  const action: Action = {
    pool: pool.name,
    type: "TXT",
    kind: "adopt",
    reason: `write ${markerName(pool.name)} TXT so controller ${controllerId} manages this pool`,
  };
  if (owner !== undefined && !force) {
    const why = `${markerName(pool.name)} names controller ${owner}; adopt does not take a pool from another controller (remove that marker first, or use --force)`;
    return { kind: "refused", held: { action, rule: "ownership", why } };
  }
  return {
    kind: "adopt",
    action,
    change: markerChange(pool, marker, controllerId),
    marker: { name: markerName(pool.name), type: "TXT", ttl: pool.ttl, values: [markerValue(controllerId)] },
  };
}
