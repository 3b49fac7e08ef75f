/**
 * config/example.yaml works as copied: it validates, its zone file (config/example.zone) holds
 * its pools with this controller's markers, a plan from it is clean when every member answers
 * and shows the documented takeover when one does not (probes injected: no packet leaves the
 * machine), no reload command is active, and every `# default: X` comment is the real default.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { DEFAULT_SAFETY, loadConfigFile } from "../../src/config/load.js";
import { configSchema } from "../../src/config/schema.js";
import { runCycle } from "../../src/controller/cycle.js";
import { createRuntime } from "../../src/controller/runtime.js";
import type { ProbeFn } from "../../src/health/probe-round.js";
import { createLogger } from "../../src/log.js";

const ROOT = join(import.meta.dirname, "../..");
const EXAMPLE = join(ROOT, "config/example.yaml");
const BIN = join(ROOT, "dist/src/cli/bin.js");
const TEXT = readFileSync(EXAMPLE, "utf8");

const probe =
  (down: readonly string[]): ProbeFn =>
  async (t) =>
    down.includes(t.host)
      ? { ok: false, reason: "connection refused", latencyMs: 1, phases: [], warnings: [] }
      : { ok: true, reason: "ok", latencyMs: 1, phases: [], warnings: [] };

describe("config/example.yaml as copied", () => {
  it("`mailpool validate -c config/example.yaml` says ok without any environment", async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MAILPOOL_") && !k.startsWith("CLOUDFLARE_")));
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [BIN, "validate", "-c", EXAMPLE], { env, cwd: ROOT }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
      ),
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ok (3 pool(s), 7 member(s), 1 provider(s))");
  });

  it("plans against config/example.zone: no changes when all answer, a takeover when mx2 does not", async () => {
    const config = loadConfigFile(EXAMPLE, { env: {} });
    const plan = async (down: string[]) => {
      const runtime = createRuntime(config, createLogger("silent"), { probe: probe(down), env: {} });
      try {
        return await runCycle(runtime, { dryRun: true, signal: AbortSignal.timeout(20_000) });
      } finally {
        await runtime.close();
      }
    };
    const clean = await plan([]);
    expect(clean.results.map((r) => r.error)).toEqual([undefined]);
    const plans = clean.results[0]!.plans;
    expect(plans.map((p) => p.pool)).toEqual(["smtp.example.com", "imap.example.com", "submission.example.com"]);
    // Every pool is owned (markers), in DNS with its members, with nothing to do or to alarm.
    for (const p of plans) expect({ pool: p.pool, actions: p.actions, held: p.held, alarms: p.alarms }).toEqual({ pool: p.pool, actions: [], held: [], alarms: [] });

    const down = await plan(["192.0.2.11"]);
    expect(down.results[0]!.plans[0]!.actions.map((a) => `${a.kind} ${a.address} ${a.standby}`)).toEqual(["takeover 192.0.2.11 192.0.2.20"]);
  });

  it("has no active reload command (it is shown commented)", () => {
    expect(TEXT).toMatch(/^\s*# reloadCommand: \["rndc", "reload", "example.com"\]/m);
    expect(TEXT).not.toMatch(/^\s*reloadCommand:/m);
  });

  /** The example with every commented provider block made active (less its ${ENV} alternatives). */
  const activeProviders = (text: string) =>
    text.replace(/^ {2}# ([a-z]+):\n((?: {2}# .*\n)+)/gm, (_all, name: string, body: string) =>
      `  ${name}:\n${body.split("\n").filter((l) => !l.includes("\${")).join("\n").replace(/^ {2}# /gm, "  ")}`,
    );

  it("each `# default: X` is what the schema does when the key is left out", () => {
    const text = activeProviders(TEXT);
    // A section whose only key was removed is left null: the same as leaving it out.
    const dropNulls = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(dropNulls) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)])) : v;
    const parseRaw = (t: string) => configSchema.parse(dropNulls(parse(t)));
    const full = parseRaw(text);
    const lines = text.split("\n");
    let checked = 0;
    lines.forEach((line, i) => {
      if (/^\s*#/.test(line)) return;
      const m = /^\s*([A-Za-z]+):\s*(.*?)\s+#\s*default:\s*("[^"]*"|[^\s;,]+)/.exec(line);
      if (!m) return;
      const [, key, written, stated] = m as unknown as [string, string, string, string];
      const statedValue = parse(stated) as unknown;
      const without = parseRaw([...lines.slice(0, i), ...lines.slice(i + 1)].join("\n"));
      const path = differingPath(full, without) ?? [];
      let defaulted: unknown = path.length > 0 ? valueAt(without, path) : parse(written);
      // The safety defaults are applied by the loader (DEFAULT_SAFETY), not by the schema.
      if (defaulted === undefined && path[0] === "safety") defaulted = DEFAULT_SAFETY[path[1] as keyof typeof DEFAULT_SAFETY];
      expect({ line: i + 1, key, default: defaulted }).toEqual({ line: i + 1, key, default: statedValue });
      checked += 1;
    });
    expect(checked).toBeGreaterThan(40);
  });
});

function differingPath(a: unknown, b: unknown, path: (string | number)[] = []): (string | number)[] | undefined {
  if (a === b) return undefined;
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = differingPath((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], [...path, Array.isArray(a) ? Number(k) : k]);
      if (d) return d;
    }
    return undefined;
  }
  return path;
}

function valueAt(v: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((at, k) => (at && typeof at === "object" ? (at as Record<string, unknown>)[k] : undefined), v);
}
