/** The confirmation question and its answer reader, on injected streams (never a real TTY). */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { problemJson } from "../../src/cli/main.js";
import { askYesNo, confirmQuestion, parseDuration } from "../../src/cli/saved-plan-commands.js";
import type { CycleReport } from "../../src/controller/cycle.js";
import type { Action, PoolPlan } from "../../src/model.js";

const action = (pool: string, address: string): Action => ({ pool, type: "A", kind: "remove", address, reason: "down" });
const plan = (pool: string, actions: Action[]): PoolPlan => ({ pool, provider: "p", current: {}, actions, held: [], alarms: [] });
const report = (plans: PoolPlan[]): CycleReport => ({ dryRun: true, results: [{ provider: "p", plans, applied: null, attempts: 1 }], health: [] });

describe("confirmQuestion", () => {
  it("counts changes and the pools they touch", () => {
    expect(confirmQuestion(report([plan("a", [action("a", "1"), action("a", "2")]), plan("b", [action("b", "3")]), plan("c", [])]))).toBe("Apply 3 changes to 2 pools? [y/N] ");
    expect(confirmQuestion(report([plan("a", [action("a", "1")])]))).toBe("Apply 1 change to 1 pool? [y/N] ");
    expect(confirmQuestion(report([plan("a", [])]))).toBeUndefined();
  });
});

describe("askYesNo", () => {
  const ask = (feed: (input: PassThrough) => void, signal = new AbortController().signal) => {
    const input = new PassThrough();
    const asked: string[] = [];
    const answer = askYesNo("Apply? [y/N] ", input, { write: (s: string) => asked.push(s) }, signal);
    feed(input);
    return answer.then((yes) => ({ yes, asked: asked.join("") }));
  };

  it("is yes only for y or yes, in any case", async () => {
    for (const [line, yes] of [["y\n", true], ["YES\n", true], [" y \n", true], ["n\n", false], ["\n", false], ["yess\n", false]] as const) {
      expect(await ask((i) => i.write(line)), line).toEqual({ yes, asked: "Apply? [y/N] " });
    }
  });

  it("is no at end of input, on abort, and for a line past 1 KiB", async () => {
    expect((await ask((i) => i.end())).yes).toBe(false);
    const ac = new AbortController();
    expect((await ask(() => ac.abort(), ac.signal)).yes).toBe(false);
    expect((await ask((i) => i.write("y".repeat(2000)))).yes).toBe(false);
  });
});

describe("small parsers", () => {
  it("parseDuration takes s, m and h", () => {
    expect([parseDuration("90s", "--max-age"), parseDuration("15m", "--max-age"), parseDuration("1h", "--max-age")]).toEqual([90_000, 900_000, 3_600_000]);
    expect(() => parseDuration("15", "--max-age")).toThrow('--max-age: "15" is not a duration such as 90s, 15m or 1h');
    expect(() => parseDuration("0m", "--max-age")).toThrow("must be above 0");
  });

  it("problemJson splits a config problem into path and message", () => {
    expect(problemJson("pools[1].ttl: 60 is outside 300–900")).toEqual({ path: "pools[1].ttl", message: "60 is outside 300–900" });
    expect(problemJson('providers["my zone"].path: is required')).toEqual({ path: 'providers["my zone"].path', message: "is required" });
    expect(problemJson("cannot read x.yaml: ENOENT")).toEqual({ path: null, message: "cannot read x.yaml: ENOENT" });
    expect(problemJson("YAML: bad indentation")).toEqual({ path: null, message: "YAML: bad indentation" });
  });
});
