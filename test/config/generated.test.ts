/**
 * Generated configs (fast-check). Thousands of malformed variants of config/example.yaml, one
 * mutation each, must every one be refused with a ConfigError naming the mutated place (exit 78
 * in the CLI) and never any other error; and configs generated within the schema's rules load.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { ConfigError, formatPath, parseConfig } from "../../src/config/load.js";
import { configJsonSchema } from "../../src/config/schema.js";

const ROOT = join(import.meta.dirname, "../..");
const EXAMPLE = parseYaml(readFileSync(join(ROOT, "config/example.yaml"), "utf8")) as Record<string, unknown>;
const ENV = { CLOUDFLARE_API_TOKEN: "token-from-env", CF_API_TOKEN: "token", AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret" };
const SCHEMA = configJsonSchema() as JsonSchema;
const RUNS = 1500;

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
}

type Path = (string | number)[];

/** Every scalar leaf of a value, with its path. */
function leaves(value: unknown, path: Path = []): { path: Path; value: unknown }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [{ path, value }];
}

/** Every map of a value, with its path (unknown keys go there). */
function maps(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => maps(v, [...path, i]));
  if (value !== null && typeof value === "object") return [path, ...Object.entries(value).flatMap(([k, v]) => maps(v, [...path, k]))];
  return [];
}

const resolveRef = (s: JsonSchema): JsonSchema => {
  if (!s.$ref) return s;
  const name = s.$ref.split("/").at(-1)!;
  return (SCHEMA.$defs ?? SCHEMA.definitions ?? {})[name] ?? s;
};

/** The JSON Schema nodes that may describe the value at `path` (several under a union). */
function schemasAt(path: Path, node: JsonSchema = SCHEMA): JsonSchema[] {
  const s = resolveRef(node);
  const alts = [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])];
  if (alts.length > 0 && !s.properties && !s.items) return alts.flatMap((a) => schemasAt(path, a));
  if (path.length === 0) return [s];
  const [head, ...rest] = path;
  if (typeof head === "number") return s.items ? schemasAt(rest, s.items) : [];
  const child = s.properties?.[head!] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
  return child ? schemasAt(rest, child) : [];
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cur = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path.at(-1)!] = value;
  return copy;
}

/** The ConfigError's problems, or a failure naming what happened instead. */
function problemsOf(data: unknown): string[] | string {
  try {
    parseConfig(stringify(data), { env: ENV, readFile: () => "" });
    return "accepted";
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    return `threw ${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** A problem names the place (the mutated path or one above it, never just somewhere else). */
const names = (problems: string[], path: Path): boolean => {
  const places = path.map((_, i) => formatPath(path.slice(0, path.length - i)));
  return problems.some((p) => places.some((place) => p.startsWith(`${place}:`) || p.startsWith(`${place}.`) || p.startsWith(`${place}[`)));
};

const LEAVES = leaves(EXAMPLE);
const MAPS = maps(EXAMPLE);

describe("generated malformed configs are refused with their place", () => {
  it("the example itself loads (the base every mutation starts from)", () => {
    expect(problemsOf(EXAMPLE)).toBe("accepted");
  });

  it("a value of the wrong type, anywhere", () => {
    const wrong = (v: unknown) =>
      typeof v === "number"
        ? fc.constantFrom<unknown>("not a number", { n: 1 }, [1], true)
        : typeof v === "boolean"
          ? fc.constantFrom<unknown>("maybe", 7, { b: true }, [true])
          : fc.constantFrom<unknown>({ s: "x" }, [["x"]], true);
    fc.assert(
      fc.property(
        fc.constantFrom(...LEAVES).chain((leaf) => wrong(leaf.value).map((bad) => ({ path: leaf.path, bad }))),
        ({ path, bad }) => {
          const out = problemsOf(setAt(EXAMPLE, path, bad));
          return typeof out !== "string" && names(out, path);
        },
      ),
      { numRuns: RUNS, seed: 7 },
    );
  });

  it("a number outside the schema's range, or a fraction where a whole number goes", () => {
    const numeric = LEAVES.filter((l) => typeof l.value === "number")
      .map((l) => ({ ...l, schemas: schemasAt(l.path) }))
      .filter((l) => l.schemas.length === 1);
    expect(numeric.length).toBeGreaterThan(20);
    const outside = (s: JsonSchema): number[] => [
      ...(s.minimum !== undefined ? [s.minimum - 1, s.minimum - 0.5] : []),
      ...(s.exclusiveMinimum !== undefined ? [s.exclusiveMinimum] : []),
      ...(s.maximum !== undefined ? [s.maximum + 1, s.maximum + 0.5] : []),
      ...(s.exclusiveMaximum !== undefined ? [s.exclusiveMaximum] : []),
      ...(s.type === "integer" ? [1.5, 300.25] : []),
    ];
    const cases = numeric.flatMap((l) => outside(l.schemas[0]!).map((bad) => ({ path: l.path, bad })));
    const accepted: string[] = [];
    fc.assert(
      fc.property(fc.constantFrom(...cases), ({ path, bad }) => {
        const out = problemsOf(setAt(EXAMPLE, path, bad));
        if (out === "accepted") accepted.push(`${formatPath(path)} = ${bad}`);
        return typeof out !== "string" && names(out, path);
      }),
      { numRuns: Math.min(RUNS, cases.length * 3), seed: 11 },
    );
    expect(accepted).toEqual([]);
  });

  it("an unknown key in any map", () => {
    fc.assert(
      fc.property(fc.constantFrom(...MAPS), fc.constantFrom("colour", "ttL", "retries2", "x-extra"), (path, key) => {
        const target = path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], EXAMPLE) as Record<string, unknown>;
        if (key in target) return true;
        const out = problemsOf(setAt(EXAMPLE, [...path, key], { bogus: 1 }));
        return typeof out !== "string" && names(out, [...path, key]);
      }),
      { numRuns: RUNS, seed: 13 },
    );
  });

  it("bad addresses and names in pools, duplicate pools", () => {
    const pools = EXAMPLE.pools as Record<string, unknown>[];
    const cases = fc.oneof(
      fc.record({ kind: fc.constant("address"), pool: fc.nat(pools.length - 1), bad: fc.constantFrom("300.1.1.1", "192.0.2", "2001:db8::g", "", "localhost", "192.0.2.1/24", " 192.0.2.1") }),
      fc.record({ kind: fc.constant("name"), pool: fc.nat(pools.length - 1), bad: fc.constantFrom("", "..", "a..b", "-x.example.com", "*.example.com", "x".repeat(64) + ".example.com", "smtp example.com") }),
      fc.record({ kind: fc.constant("duplicate"), pool: fc.nat(pools.length - 1), bad: fc.constant("") }),
    );
    fc.assert(
      fc.property(cases, ({ kind, pool, bad }) => {
        let data: unknown;
        let path: Path;
        if (kind === "address") {
          path = ["pools", pool, "members", 0, "address"];
          data = setAt(EXAMPLE, path, bad);
        } else if (kind === "name") {
          path = ["pools", pool, "name"];
          data = setAt(EXAMPLE, path, bad);
        } else {
          path = ["pools"];
          data = setAt(EXAMPLE, ["pools"], [...pools, pools[pool]]);
        }
        const out = problemsOf(data);
        return typeof out !== "string" && names(out, path);
      }),
      { numRuns: 500, seed: 17 },
    );
  });
});

describe("generated valid configs load", () => {
  const ipv4 = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((p) => p.join("."));
  const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
  it("pools of any size, TTL within 300–900, rise/fall, members and standbys", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(label, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 300, max: 900 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 10 }),
        fc.uniqueArray(ipv4, { minLength: 2, maxLength: 12 }),
        (names, ttl, rise, fall, addresses) => {
          const standby = addresses.at(-1)!;
          const members = addresses.slice(0, -1).map((address, i) => (i === 0 ? { address, standby } : { address }));
          const config = {
            controllerId: "gen",
            providers: { m: { type: "memory" } },
            pools: names.map((n) => ({ name: `${n}.example.com`, provider: "m", checks: ["smtp"], ttl, rise, fall, members })),
          };
          const out = problemsOf(config);
          if (out !== "accepted") throw new Error(`refused: ${JSON.stringify(out)}\n${stringify(config)}`);
          return true;
        },
      ),
      { numRuns: 300, seed: 19 },
    );
  });
});
