/**
 * A zone-file user never loads the AWS or Cloudflare SDK. Checked two ways that can fail:
 * 1. static: what providers/registry.ts (every factory and schema) reaches through its static
 *    runtime imports names no package but zod and Node's own modules;
 * 2. run: the built CLI runs `mailpool plan` in a child process under an `--import` hook that
 *    writes down every module it resolves (and, at exit, every CommonJS module it loaded). On a
 *    zone-file config the list holds the zone-file adapter and neither SDK; the same hook on a
 *    config with a Route 53 and a Cloudflare pool does list both SDKs, so the hook sees them.
 * Every socket is on loopback: members are probed on a closed port, the APIs' endpoints are
 * closed ports, and AWS's metadata endpoint is disabled.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = join(root, "dist/src/cli/bin.js");

/** Runtime (non-type) import specifiers of one TypeScript source (type-only imports are erased). */
function runtimeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*["']([^"']+)["']/gm)) {
    const names = m[3]!.trim();
    const typeOnly = m[2] !== undefined || (/^\{[^}]*\}$/.test(names) && names.replace(/[{}]/g, "").split(",").every((n) => /^\s*type\s/.test(n) || n.trim() === ""));
    if (!typeOnly) out.push(m[4]!);
  }
  for (const m of code.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) out.push(m[1]!);
  return out;
}

/** Bare specifiers reached from `entry` through static runtime imports of relative files. */
function reachableBare(entry: string, read: (file: string) => string): string[] {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of runtimeImports(read(file))) {
      if (spec.startsWith(".")) queue.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
      else bare.add(spec);
    }
  }
  return [...bare].sort();
}

const HOOK = `
import { appendFileSync } from "node:fs";
import * as mod from "node:module";
const log = process.env.MAILPOOL_LOAD_LOG;
const note = (line) => appendFileSync(log, line + "\\n");
if (typeof mod.registerHooks === "function") {
  mod.registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      note(specifier + " -> " + r.url);
      return r;
    },
  });
} else {
  const hooks = 'import { appendFileSync } from "node:fs";' +
    'export async function resolve(s, c, n) { const r = await n(s, c); appendFileSync(process.env.MAILPOOL_LOAD_LOG, s + " -> " + r.url + "\\\\n"); return r; }';
  mod.register("data:text/javascript," + encodeURIComponent(hooks));
}
process.on("exit", () => {
  for (const k of Object.keys(mod.createRequire(import.meta.url).cache)) note("cjs " + k);
});
`;

let dir: string;
let closedPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mailpool-lazy-providers-"));
  await writeFile(join(dir, "record-loads.mjs"), HOOK);
  await copyFile(join(root, "config/example.zone"), join(dir, "example.zone"));
  // A port nothing listens on: probes and API calls are refused at once, on loopback.
  closedPort = await new Promise<number>((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pool = (name: string, provider: string) => `
  - name: ${name}
    provider: ${provider}
    checks: [closed]
    members: [{ address: 127.0.0.1 }, { address: 127.0.0.2 }]`;

const config = (providers: string, pools: string) => `controllerId: mx-east-1
defaults: { rise: 1, fall: 1, confirmIntervalMs: 0 }
retry: { retries: 0 }
checks:
  closed: { module: smtp, port: ${closedPort}, connectTimeoutMs: 500, timeoutMs: 1000 }
providers:
${providers}
pools:${pools}
`;

/** `mailpool plan` on `yaml` under the hook: exit code, output, and what the process loaded. */
async function planLoads(name: string, yaml: string): Promise<{ code: number; stdout: string; stderr: string; loaded: string[] }> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  const file = join(dir, `${name}.yaml`);
  const log = join(dir, `${name}.loads`);
  await writeFile(file, yaml);
  await writeFile(log, "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    MAILPOOL_LOAD_LOG: log,
    AWS_ACCESS_KEY_ID: "AKIDTEST",
    AWS_SECRET_ACCESS_KEY: "x",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  const hook = pathToFileURL(join(dir, "record-loads.mjs")).href;
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
    execFile(process.execPath, ["--import", hook, BIN, "-c", file, "plan"], { env, cwd: dir, timeout: 60_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
  return { ...r, loaded: (await readFile(log, "utf8")).split("\n").filter((l) => l !== "") };
}

const sdk = (loaded: readonly string[]) => ({
  aws: loaded.some((l) => l.includes("@aws-sdk/")),
  cloudflare: loaded.some((l) => /node_modules\/cloudflare\//.test(l) || /^cloudflare -> /.test(l)),
});

describe("providers are loaded lazily", () => {
  it("the registry (every factory, schema and pool option) imports only zod and node: modules", async () => {
    const { readFileSync } = await import("node:fs");
    const bare = reachableBare(join(root, "providers/registry.ts"), (f) => readFileSync(f, "utf8"));
    expect(bare.filter((s) => s !== "zod" && !s.startsWith("node:"))).toEqual([]);
    expect(bare).toContain("zod");
    // The walk does see an SDK where one is imported (it follows the same kind of edges).
    expect(reachableBare(join(root, "providers/route53/sdk-route53-api.ts"), (f) => readFileSync(f, "utf8"))).toContain("@aws-sdk/client-route-53");
  });

  it("`mailpool plan` on a zone-file config loads the zone-file adapter and neither SDK", async () => {
    const r = await planLoads("zonefile", config("  local: { type: zonefile, path: example.zone }", pool("smtp.example.com", "local")));
    expect(r.stderr).not.toMatch(/invalid configuration/);
    expect(r.stdout).toContain("smtp.example.com");
    expect(r.loaded.some((l) => l.includes("/providers/zonefile/index.js"))).toBe(true);
    expect(sdk(r.loaded)).toEqual({ aws: false, cloudflare: false });
  });

  it("(control) the same hook sees both SDKs when a Route 53 and a Cloudflare pool are planned", async () => {
    const providers = [
      `  aws: { type: route53, hostedZoneId: Z1, endpoint: "http://127.0.0.1:${closedPort}", maxAttempts: 1 }`,
      `  cf: { type: cloudflare, zoneId: "${"0".repeat(32)}", apiToken: t, baseUrl: "http://127.0.0.1:${closedPort}", maxRetries: 0 }`,
    ].join("\n");
    const r = await planLoads("sdks", config(providers, pool("smtp.example.com", "aws") + pool("imap.example.com", "cf")));
    expect(r.stderr).not.toMatch(/invalid configuration/);
    expect(sdk(r.loaded)).toEqual({ aws: true, cloudflare: true });
  });
});
