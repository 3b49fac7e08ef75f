/**
 * An in-process IP takeover adapter for controller tests: who holds each address lives in a map,
 * and a move is compare-and-swap on a version token, as the real adapters' are.
 */
import { IpConflictError, type Holder, type IpAdapter, type IpHolding, type IpMove, type IpTarget } from "../../providers/ip/types.js";

export class MemoryIpAdapter implements IpAdapter {
  readonly kind = "memory";
  readonly #holders = new Map<string, { holder: Holder; version: number }>();
  readonly moves: IpMove[] = [];
  reads = 0;
  /** Runs after each read (a concurrent mover). */
  afterRead: (() => void) | undefined;

  set(address: string, holder: Holder): void {
    const v = this.#holders.get(address)?.version ?? 0;
    this.#holders.set(address, { holder, version: v + 1 });
  }

  holder(address: string): Holder | undefined {
    return this.#holders.get(address)?.holder;
  }

  async read(targets: readonly IpTarget[]): Promise<IpHolding[]> {
    this.reads += 1;
    const out = targets.map((t) => {
      const h = this.#holders.get(t.address) ?? { holder: { kind: "none" } as Holder, version: 0 };
      return { address: t.address, holder: h.holder, detail: `version ${h.version}`, token: String(h.version) };
    });
    this.afterRead?.();
    return out;
  }

  async move(move: IpMove): Promise<{ notes: string[] }> {
    const now = String(this.#holders.get(move.target.address)?.version ?? 0);
    if (now !== move.expected.token) throw new IpConflictError(`${move.target.address}: version ${now}, not ${move.expected.token}`);
    this.moves.push(move);
    this.set(move.target.address, { kind: "host", host: move.to });
    return { notes: [`moved to ${move.to}`] };
  }
}
