/**
 * The IP takeover seam: an adapter reads who holds a floating address and moves it between the
 * member's host and its standby. Like the DNS provider seam (providers/types.ts) a move is
 * compare-and-swap: it carries the holding `read` returned, and the adapter refuses it with
 * IpConflictError when the address is no longer held that way, moving nothing.
 *
 * Hosts are named by their own (never moving) address: the member's `hostAddress`, the
 * standby's address; the adapter maps them to what it moves the address to (an EC2 instance or
 * network interface, a machine reached by the operator's hook).
 */

export interface IpTarget {
  /** The floating address (the member's `address`). */
  readonly address: string;
  /** The member host's own address. */
  readonly member: string;
  /** The standby host's own address. */
  readonly standby: string;
}

export type Holder =
  | { readonly kind: "host"; readonly host: string }
  | { readonly kind: "none" }
  /** Held by something that is neither the member's host nor the standby: never touched. */
  | { readonly kind: "other"; readonly what: string };

export interface IpHolding {
  readonly address: string;
  readonly holder: Holder;
  /** The adapter's own words, for reports ("eipassoc-0a1b… on i-0abc (eni-0def)"). */
  readonly detail: string;
  /** Opaque compare-and-swap token: the association id, the status hook's answer. */
  readonly token: string;
  /** Opaque to the core: what the adapter needs to move exactly this holding (an allocation id). */
  readonly native?: unknown;
}

export type IpMoveAction = "takeover" | "return";

export interface IpMove {
  readonly action: IpMoveAction;
  readonly target: IpTarget;
  /** The host the address goes to: the standby (takeover) or the member (return). */
  readonly to: string;
  /** Exactly what `read` returned for the address. */
  readonly expected: IpHolding;
}

export interface IpMoveResult {
  readonly notes: readonly string[];
}

export interface IpAdapter {
  readonly kind: string;
  /** Who holds each address; one entry per target, in order. */
  read(targets: readonly IpTarget[], signal: AbortSignal): Promise<IpHolding[]>;
  /** Moves one address; throws IpConflictError when `expected` is stale, IpAdapterError else. */
  move(move: IpMove, signal: AbortSignal): Promise<IpMoveResult>;
  close?(): Promise<void>;
}

export class IpAdapterError extends Error {
  override name = "IpAdapterError";
  constructor(
    message: string,
    readonly transient = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The address is no longer held as read: someone else moved it. Nothing was changed. */
export class IpConflictError extends IpAdapterError {
  override name = "IpConflictError";
}

export const isIpConflict = (e: unknown): e is IpConflictError => e instanceof IpConflictError;

export const describeHolder = (h: Holder): string => (h.kind === "host" ? h.host : h.kind === "none" ? "nobody" : h.what);
