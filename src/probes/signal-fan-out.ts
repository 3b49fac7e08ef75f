/**
 * Many operations, one caller signal: each operation gets a signal of its own, and the caller's
 * signal carries one listener however many operations share it. A cycle's probes all hang off
 * one signal; with a listener each (every queued probe, every read of every running one), a pool
 * of a few dozen members would pass Node's limit of 10 and print MaxListenersExceededWarning,
 * and lifting that limit on the caller's signal would hide a real leak anywhere else.
 */
export interface FannedSignal {
  readonly signal: AbortSignal;
  /** The operation is over: forget its signal. */
  done(): void;
}

/** Anything that can be told the parent aborted: an AbortController, a queued slot request. */
export interface Abortable {
  abort(reason: unknown): void;
}

export class SignalFanOut {
  readonly #children = new WeakMap<AbortSignal, Set<Abortable>>();

  /** A signal that aborts, with the same reason, when `parent` does. Call `done()` after. */
  child(parent: AbortSignal): FannedSignal {
    const own = new AbortController();
    if (parent.aborted) {
      own.abort(parent.reason);
      return { signal: own.signal, done: () => {} };
    }
    const set = this.#setOf(parent);
    set.add(own);
    return { signal: own.signal, done: () => void set.delete(own) };
  }

  /**
   * Calls `target.abort(reason)` once when `parent` aborts, through the same single listener as
   * the children; returns the set to delete `target` from when it no longer needs telling (no
   * closure per target). The caller checks `parent.aborted` first: a parent that has already
   * aborted never calls back.
   */
  watch(parent: AbortSignal, target: Abortable): Set<Abortable> {
    const set = this.#setOf(parent);
    set.add(target);
    return set;
  }

  #setOf(parent: AbortSignal): Set<Abortable> {
    let live = this.#children.get(parent);
    if (!live) {
      const set = new Set<Abortable>();
      live = set;
      this.#children.set(parent, set);
      parent.addEventListener(
        "abort",
        () => {
          for (const c of set) c.abort(parent.reason);
          set.clear();
        },
        { once: true },
      );
    }
    return live;
  }
}
