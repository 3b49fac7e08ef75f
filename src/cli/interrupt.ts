/**
 * SIGINT/SIGTERM for one-shot commands: the first signal aborts the command's work through an
 * AbortSignal (probes close their sockets, a provider gives up before its next write, the
 * zone-file lock is released), and the command then exits 128 + the signal's number, as a shell
 * expects of a program stopped by a signal. A second signal of the same kind finds no listener
 * and ends the process at once (Node's default).
 */
export const SIGNAL_EXIT: Readonly<Record<InterruptSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

export type InterruptSignal = "SIGINT" | "SIGTERM";

export class InterruptedError extends Error {
  override readonly name = "InterruptedError";
  constructor(readonly signal: InterruptSignal) {
    super(`interrupted by ${signal}`);
  }
}

export interface Interrupt {
  readonly signal: AbortSignal;
  /** The signal that arrived, if any. */
  received(): InterruptSignal | undefined;
  /** Stops listening (call when the command's work is done). */
  dispose(): void;
}

/** The process seam: `process` itself, or an EventEmitter in a test. */
export interface SignalSource {
  once(event: InterruptSignal, listener: (signal: InterruptSignal) => void): unknown;
  off(event: InterruptSignal, listener: (signal: InterruptSignal) => void): unknown;
}

export function onInterrupt(source: SignalSource = process): Interrupt {
  const ac = new AbortController();
  let received: InterruptSignal | undefined;
  const stop = (signal: InterruptSignal) => {
    received ??= signal;
    ac.abort(new InterruptedError(signal));
  };
  source.once("SIGINT", stop);
  source.once("SIGTERM", stop);
  return {
    signal: ac.signal,
    received: () => received,
    dispose() {
      source.off("SIGINT", stop);
      source.off("SIGTERM", stop);
    },
  };
}
