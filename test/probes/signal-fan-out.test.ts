import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { SignalFanOut } from "../../src/probes/signal-fan-out.js";

describe("SignalFanOut", () => {
  it("aborts every live child with the parent's reason through one listener on the parent", () => {
    const fan = new SignalFanOut();
    const parent = new AbortController();
    const children = Array.from({ length: 20 }, () => fan.child(parent.signal));
    const finished = children.pop()!;
    finished.done();
    expect(getEventListeners(parent.signal, "abort")).toHaveLength(1);
    const reason = new Error("SIGINT");
    parent.abort(reason);
    expect(children.every((c) => c.signal.aborted && c.signal.reason === reason)).toBe(true);
    expect(finished.signal.aborted).toBe(false); // done before the abort: left alone
  });

  it("hands out an aborted signal when the parent has already aborted", () => {
    const parent = new AbortController();
    parent.abort(new Error("late"));
    const child = new SignalFanOut().child(parent.signal);
    expect(child.signal.aborted).toBe(true);
    expect((child.signal.reason as Error).message).toBe("late");
    expect(getEventListeners(parent.signal, "abort")).toHaveLength(0);
  });
});
