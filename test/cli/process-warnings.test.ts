import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { logWarningsTo, routeProcessWarnings } from "../../src/cli/process-warnings.js";

function recorder() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, ...(msg !== undefined ? { msg } : {}) });
  return { lines, logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } };
}

describe("routeProcessWarnings", () => {
  it("takes warnings from Node's printer and logs them as lines; the SDK's Node notice at debug", () => {
    const proc = new EventEmitter();
    const printed: Error[] = [];
    proc.on("warning", (w: Error) => printed.push(w)); // stands for Node's own printer
    const early = recorder();
    const undo = routeProcessWarnings(proc as never, () => early.logger);
    const listeners = Object.assign(new Error("Possible EventTarget memory leak detected. 11 abort listeners added to [AbortSignal]."), { name: "MaxListenersExceededWarning" });
    proc.emit("warning", listeners);
    const cmd = recorder();
    logWarningsTo(cmd.logger);
    const sdk = Object.assign(new Error("NodeVersionSupportWarning: The AWS SDK for JavaScript (v3) …"), { name: "Warning" });
    proc.emit("warning", sdk);
    expect(printed).toEqual([]);
    expect(early.lines).toEqual([{ level: "warn", obj: { warning: { name: "MaxListenersExceededWarning", message: listeners.message } }, msg: "process warning" }]);
    expect(cmd.lines).toEqual([{ level: "debug", obj: { warning: { name: "Warning", message: sdk.message } }, msg: "process warning" }]);
    undo();
    proc.emit("warning", sdk);
    expect(printed).toEqual([sdk]);
  });

  it("adds the stack under --trace-warnings", () => {
    const proc = new EventEmitter();
    const log = recorder();
    logWarningsTo(log.logger);
    const undo = routeProcessWarnings(proc as never, () => log.logger, () => true);
    const warning = new Error("something odd");
    proc.emit("warning", warning);
    undo();
    expect(log.lines[0]?.obj).toEqual({ warning: { name: "Error", message: "something odd", stack: warning.stack } });
  });
});
