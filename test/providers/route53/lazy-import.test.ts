/**
 * The AWS SDK must load only when a Route 53 provider is created. Two checks that can fail:
 * 1. static: walk providers/route53/index.ts's runtime imports (type-only imports are erased)
 *    and find no '@aws-sdk' or '@smithy' specifier — while the same walk from the SDK wrapper
 *    does find one, so the walker is known to see them;
 * 2. runtime: a Node resolve hook (module.register) records every specifier this worker process
 *    resolves; importing index.ts resolves no '@aws-sdk/client-route-53', creating a provider does.
 * This file imports neither the SDK nor the test harness, and vitest runs it in its own process.
 */
import { readFileSync } from "node:fs";
import { register } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MessageChannel } from "node:worker_threads";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Runtime (non-type) import specifiers of one TypeScript source. */
export function runtimeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*["']([^"']+)["']/gm;
  for (const m of code.matchAll(statement)) {
    const typeOnly = m[2] !== undefined || /^\{[^}]*\}$/.test(m[3]!.trim()) && m[3]!.replace(/[{}]/g, "").split(",").every((n) => /^\s*type\s/.test(n) || n.trim() === "");
    if (!typeOnly) out.push(m[4]!);
  }
  for (const m of code.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) out.push(m[1]!);
  return out;
}

/** Every bare specifier reached from `entry` through static runtime imports of relative files. */
function reachableBareImports(entry: string): { files: string[]; bare: string[] } {
  const files: string[] = [];
  const bare = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (files.includes(file)) continue;
    files.push(file);
    for (const spec of runtimeImports(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) queue.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
      else bare.add(spec);
    }
  }
  return { files, bare: [...bare] };
}

describe("lazy import of the AWS SDK", () => {
  it("runtimeImports ignores type-only imports", () => {
    expect(runtimeImports('import type { A } from "@aws-sdk/x";\nimport { type B } from "@aws-sdk/y";\nimport { c } from "./c.js";')).toEqual(["./c.js"]);
  });

  it("index.ts reaches no SDK module through static imports; the SDK wrapper does", () => {
    const fromIndex = reachableBareImports(resolve(root, "providers/route53/index.ts"));
    expect(fromIndex.files.map((f) => f.slice(root.length + 1))).not.toContain("providers/route53/sdk-route53-api.ts");
    expect(fromIndex.bare.filter((s) => s.startsWith("@aws-sdk/") || s.startsWith("@smithy/"))).toEqual([]);
    const fromWrapper = reachableBareImports(resolve(root, "providers/route53/sdk-route53-api.ts"));
    expect(fromWrapper.bare).toContain("@aws-sdk/client-route-53");
  });

  it("config.ts imports only zod", () => {
    expect(reachableBareImports(resolve(root, "providers/route53/config.ts")).bare).toEqual(["zod"]);
  });

  it("loads @aws-sdk/client-route-53 only when a provider is created", async () => {
    const { port1, port2 } = new MessageChannel();
    const seen: string[] = [];
    port1.on("message", (spec: string) => seen.push(spec));
    port1.unref();
    const hooks = `
      let port;
      export async function initialize(data) { port = data.port; }
      export async function resolve(specifier, context, next) { port.postMessage(specifier); return next(specifier, context); }
    `;
    register(`data:text/javascript,${encodeURIComponent(hooks)}`, import.meta.url, { data: { port: port2 }, transferList: [port2] });
    /** Resolves a unique sentinel and waits for its message: every earlier message has arrived. */
    const settle = async (tag: string) => {
      const sentinel = `data:text/javascript,export default ${JSON.stringify(tag)}`;
      await import(sentinel);
      for (let i = 0; i < 200 && !seen.includes(sentinel); i++) await new Promise((r) => setTimeout(r, 5));
      expect(seen).toContain(sentinel);
    };

    const mod = await import("../../../providers/route53/index.js");
    await settle("after-index");
    expect(seen.filter((s) => s.includes("@aws-sdk"))).toEqual([]);

    const provider = await mod.createRoute53Provider(
      mod.route53ConfigSchema.parse({ type: "route53", hostedZoneId: "Z1", endpoint: "http://127.0.0.1:9" }),
      {
        name: "aws",
        controllerId: "c",
        pools: [],
        env: { AWS_ACCESS_KEY_ID: "AKIDTEST", AWS_SECRET_ACCESS_KEY: "x" },
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      },
    );
    await settle("after-create");
    // vitest resolves the package itself and imports its file path natively.
    expect(seen.some((s) => s.includes("@aws-sdk/client-route-53"))).toBe(true);
    await provider.close?.();
  });
});
