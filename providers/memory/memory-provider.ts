/**
 * A Provider that keeps RRsets in a Map, with the same compare-and-swap and all-or-nothing
 * semantics as the real ones, plus handles for tests: see what is stored, edit behind the
 * controller's back, make the next apply fail, count calls.
 */
import { normalizeName } from "../../src/util/names.js";
import { canonicalValues, checkBatch } from "../compare-and-swap.js";
import { ConflictError, ProviderError, keyOf } from "../types.js";
import type { ApplyResult, Provider, RRset, RRsetChange, RRsetKey, RRType } from "../types.js";

/** An RRset to store: name, type, TTL, values. */
export interface RRsetInit {
  readonly name: string;
  readonly type: RRType;
  readonly ttl: number;
  readonly values: readonly string[];
}

/** What `failNextApply` accepts: an error to throw, or a shorthand for a typical one. */
export type InjectedFailure = Error | "transient" | "conflict";

export class MemoryProvider implements Provider {
  readonly kind = "memory";
  readonly #store = new Map<string, RRset>();
  readonly #failures: Error[] = [];
  /** Calls of apply(), failed ones included. */
  applyCalls = 0;
  /** Calls of read(). */
  readCalls = 0;
  /** The batches written, in order (failed applies are not listed). */
  readonly history: (readonly RRsetChange[])[] = [];

  constructor(initial: readonly RRsetInit[] = []) {
    for (const r of initial) this.set(r);
  }

  async read(keys: readonly RRsetKey[], signal: AbortSignal): Promise<RRset[]> {
    signal.throwIfAborted();
    this.readCalls++;
    const out: RRset[] = [];
    for (const key of keys) {
      const found = this.#store.get(keyOf({ name: normalizeName(key.name), type: key.type }));
      if (found) out.push(copy(found));
    }
    return out;
  }

  async apply(changes: readonly RRsetChange[], signal: AbortSignal): Promise<ApplyResult> {
    this.applyCalls++;
    signal.throwIfAborted();
    const injected = this.#failures.shift();
    if (injected) throw injected;

    // Check everything first: nothing is written unless every change can be.
    const writes = checkBatch(changes, { live: (key) => this.#store.get(keyOf(key)) });
    for (const { key, after } of writes) {
      if (after === null) this.#store.delete(keyOf(key));
      else this.#store.set(keyOf(key), { ...key, ttl: after.ttl, values: after.values });
    }
    this.history.push(changes);
    return { applied: changes.length, notes: [`memory: ${changes.length} RRset change${changes.length === 1 ? "" : "s"}`] };
  }

  /** Every stored RRset, sorted by name and type. */
  snapshot(): RRset[] {
    return [...this.#store.values()].map(copy).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }

  /** One stored RRset, or undefined. */
  get(key: RRsetKey): RRset | undefined {
    const found = this.#store.get(keyOf({ name: normalizeName(key.name), type: key.type }));
    return found ? copy(found) : undefined;
  }

  /** Stores an RRset as someone else's edit would (no values: removes it). */
  set(rrset: RRsetInit): void {
    const key: RRsetKey = { name: normalizeName(rrset.name), type: rrset.type };
    if (rrset.values.length === 0) {
      this.#store.delete(keyOf(key));
      return;
    }
    this.#store.set(keyOf(key), { ...key, ttl: rrset.ttl, values: canonicalValues(key, rrset.values) });
  }

  /** Removes an RRset as someone else's edit would. */
  remove(key: RRsetKey): void {
    this.#store.delete(keyOf({ name: normalizeName(key.name), type: key.type }));
  }

  /** Makes the next apply() throw (one failure per call; queued in order). Nothing is written. */
  failNextApply(failure: InjectedFailure): void {
    this.#failures.push(
      failure === "transient"
        ? new ProviderError("injected transient failure (memory provider)", { transient: true })
        : failure === "conflict"
          ? new ConflictError("injected conflict (memory provider)")
          : failure,
    );
  }
}

const copy = (r: RRset): RRset => ({ name: r.name, type: r.type, ttl: r.ttl, values: [...r.values] });
