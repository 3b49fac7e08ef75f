import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { fastParseYaml } from "../../src/config/fast-yaml.js";

/** What the slow path (the `yaml` library, as load.ts uses it) makes of a text. */
const slow = (text: string): unknown => parseDocument(text, { uniqueKeys: false }).toJS({ maxAliasCount: 100 });

const SCALARS = [
  "0o14", "0x1F", "012", "+12", "-0", "1e3", "1.", ".5", "0.5e-3", "1_000", "0b101", ".inf", "-.Inf", ".NaN", ".nan",
  "yes", "no", "on", "off", "y", "n", "True", "FALSE", "~", "null", "Null", "", "2026-01-01", "2026-01-01T10:00:00Z",
  "1:30", "190:20:30", "'quoted'", '"dq \\u00e9"', "2001:db8::10", "192.0.2.1", "*/30 * * * *", '"*/30 * * * * *"',
  "a b", "- x", "[1, 2]", "{a: 1}", "0x", "00", "-", "=", "<<", "!!str 12", "!!int '7'", "12abc", "1,000",
];

describe("config fast path (js-yaml) agrees with the yaml library or steps aside", () => {
  it.each(SCALARS)("scalar %s", (scalar) => {
    const text = `key: ${scalar}\nlist:\n  - ${scalar}\n`;
    let expected: unknown;
    try {
      expected = slow(text);
    } catch {
      return; // not a value either way
    }
    const fast = fastParseYaml(text);
    if (fast) expect(fast.value).toEqual(expected);
  });

  it("reads the shipped example as the yaml library does", () => {
    const text = readFileSync(new URL("../../config/example.yaml", import.meta.url), "utf8");
    const fast = fastParseYaml(text);
    expect(fast).toBeDefined();
    expect(fast!.value).toEqual(slow(text));
  });

  it("steps aside for aliases, duplicate keys and syntax errors", () => {
    expect(fastParseYaml("a: &x {b: 1}\nc: *x\n")).toBeUndefined();
    expect(fastParseYaml("a: 1\na: 2\n")).toBeUndefined();
    expect(fastParseYaml("a: [1, 2\n")).toBeUndefined();
    expect(fastParseYaml("a: !custom 1\n")).toBeUndefined();
  });

  it("agrees on generated plain maps of strings, numbers, booleans and nulls", () => {
    const scalar = fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.string({ maxLength: 12 }),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small" }, scalar, fc.array(tie("node"), { maxLength: 4 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), tie("node"), { maxKeys: 4 })),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value, { maxKeys: 5 }), fc.boolean(), (obj, flow) => {
        // The text as a person would write it: block or flow style, scalars plain where possible.
        const doc = parseDocument("");
        doc.contents = doc.createNode(obj, { flow }) as never;
        const text = doc.toString();
        const fast = fastParseYaml(text);
        if (fast) expect(fast.value).toEqual(slow(text));
      }),
      { numRuns: 300 },
    );
  });
});
