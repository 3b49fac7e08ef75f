/**
 * No secret leaves mailpool. Two hostile endpoints on loopback (Route 53's XML error format,
 * Cloudflare's JSON envelope) answer every request with an error that echoes every request
 * header, also base64- and URL-encoded. A config points both providers at them, with known
 * credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN in the environment,
 * the Cloudflare token through `apiToken: ${CLOUDFLARE_API_TOKEN}`). Every command of the built
 * CLI — plan, apply, run --once, adopt, validate, probe, and run as a daemon with /healthz,
 * /status, /readyz and /metrics fetched — runs at every log level and in both outputs, and no secret,
 * nor its base64 or URL-encoded form, appears in stdout, stderr or any endpoint body.
 *
 * `npm test` builds first; run `npm run build` before running this file alone.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startListenersOnOnePort, type MailListener } from "../../src/demo/mail-listener.js";
import { freePort } from "../integration/helpers/free-port.js";
import { startEchoEndpoint, type EchoEndpoint } from "./echo-endpoint.js";

const BIN = join(import.meta.dirname, "../../dist/src/cli/bin.js");
const HOSTS = ["127.0.0.81", "127.0.0.82"];
const LEVELS = ["trace", "debug", "info", "warn", "error"] as const;
const OUTPUTS = ["text", "json"] as const;
/** One-shot commands (the daemon is run separately, with its endpoints fetched). */
const COMMANDS: readonly { readonly args: readonly string[]; readonly exit: number }[] = [
  { args: ["plan"], exit: 1 },
  { args: ["apply"], exit: 1 },
  { args: ["run", "--once"], exit: 1 },
  { args: ["adopt"], exit: 1 },
  { args: ["validate"], exit: 0 },
  { args: ["probe", "smtp.example.com"], exit: 0 },
];
const PARALLEL = 4;

/** Credentials of the shapes AWS and Cloudflare issue, with characters that encode differently. */
const word = (n: number, alphabet: string) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join("");
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const SECRETS = {
  AWS_ACCESS_KEY_ID: `AKIA${word(16, UPPER)}`,
  AWS_SECRET_ACCESS_KEY: word(40, B64),
  AWS_SESSION_TOKEN: `IQoJb3JpZ2luX2Vj${word(300, B64)}==`,
  CLOUDFLARE_API_TOKEN: word(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"),
};

/** Each secret in every form a scan looks for. */
const FORMS: readonly { readonly name: string; readonly text: string }[] = Object.entries(SECRETS).flatMap(([name, s]) => {
  const b64 = Buffer.from(s).toString("base64");
  return [
    { name, text: s },
    { name: `${name} (base64)`, text: b64.replace(/=+$/, "") },
    { name: `${name} (base64url)`, text: Buffer.from(s).toString("base64url") },
    { name: `${name} (URL-encoded)`, text: encodeURIComponent(s) },
  ];
});

interface Run {
  readonly what: string;
  readonly code: number;
  /** stdout, stderr and endpoint bodies, each labelled. */
  readonly texts: readonly { readonly where: string; readonly text: string }[];
}

let dir: string;
let listeners: MailListener[] = [];
let route53: EchoEndpoint;
let cloudflare: EchoEndpoint;
let port = 0;

const env = (): NodeJS.ProcessEnv => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CLOUDFLARE_)/.test(k)));
  return {
    ...clean,
    ...SECRETS,
    NO_COLOR: "1",
    // Nothing but the endpoints above: no profile, no instance metadata.
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: join(dir, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-aws-credentials"),
  };
};

const configText = (listen: string) => `controllerId: secrets-test
schedule: "* * * * * *"
defaults: { rise: 1, fall: 1, confirmIntervalMs: 10 }
retry: { retries: 1, minTimeoutMs: 10, maxTimeoutMs: 20 }
daemon: { listen: "${listen}" }
providers:
  aws:
    type: route53
    hostedZoneId: Z0123456789ABCDEFGHIJ
    endpoint: ${route53.url}
    maxAttempts: 1
    requestsPerSecond: 100
  cf:
    type: cloudflare
    zoneId: 023e105f4ecef8ad9ca31a8372d0c353
    apiToken: \${CLOUDFLARE_API_TOKEN}
    baseUrl: ${cloudflare.url}
    maxRetries: 0
    timeoutMs: 5000
checks:
  mx: { module: smtp, port: ${port}, connectTimeoutMs: 1000, timeoutMs: 2000 }
pools:
  - name: smtp.example.com
    provider: aws
    checks: [mx]
    members:
${HOSTS.map((h, i) => `      - { address: ${h}, label: mx${i + 1} }`).join("\n")}
  - name: smtp.example.org
    provider: cf
    checks: [mx]
    members:
${HOSTS.map((h, i) => `      - { address: ${h}, label: mx${i + 1} }`).join("\n")}
`;

function cli(what: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: env(), timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ what, code, texts: [{ where: "stdout", text: stdout }, { where: "stderr", text: stderr }] });
    });
  });
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

/** The daemon, until a cycle has failed (so /status reports it); its endpoints fetched. */
async function daemon(what: string, globals: readonly string[], level: string): Promise<Run> {
  const listenPort = await freePort(["127.0.0.1"]);
  const config = join(dir, `daemon-${level}-${globals.join("-").replace(/[^a-z0-9]+/gi, "-")}.yaml`);
  await writeFile(config, configText(`127.0.0.1:${listenPort}`));
  const child = spawn(process.execPath, [BIN, "-c", config, ...globals, "run"], { env: env(), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
  const base = `http://127.0.0.1:${listenPort}`;
  const texts: { where: string; text: string }[] = [];
  try {
    // A failed provider does not flap readiness; /status carries the failure (the last error).
    const end = performance.now() + 30_000;
    let status = { status: 0, body: "" };
    while (performance.now() < end) {
      status = await get(`${base}/status`).catch(() => ({ status: 0, body: "" }));
      if (/"lastError":\s*\{/.test(status.body)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status.body, `${what}: /status never reported the failed cycle`).toMatch(/"lastError":\s*\{[^}]*"message":\s*"[^"]*\[redacted\]/);
    texts.push({ where: "/status", text: status.body });
    for (const path of ["/readyz", "/metrics", "/healthz"]) texts.push({ where: path, text: (await get(`${base}${path}`)).body });
  } finally {
    child.kill("SIGTERM");
  }
  const code = await exited;
  return { what, code, texts: [...texts, { where: "stdout", text: stdout }, { where: "stderr", text: stderr }] };
}

/** Runs `jobs` with at most `width` at once. */
async function bounded<T>(jobs: readonly (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  dir = await mkdtemp(join(tmpdir(), "mailpool-secrets-"));
  listeners = await startListenersOnOnePort("smtp", HOSTS);
  port = listeners[0]!.port;
  route53 = await startEchoEndpoint("route53");
  cloudflare = await startEchoEndpoint("cloudflare");
  await writeFile(join(dir, "mailpool.yaml"), configText(""));
});

afterAll(async () => {
  await Promise.all([...listeners.map((l) => l.stop()), route53?.stop(), cloudflare?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe("secrets", () => {
  it("never appear in any output of any command, at any log level, in either output format", { timeout: 180_000 }, async () => {
    const config = join(dir, "mailpool.yaml");
    const jobs: (() => Promise<Run>)[] = [];
    for (const level of LEVELS) {
      for (const output of OUTPUTS) {
        const globals = ["--output", output, "--log-level", level];
        for (const c of COMMANDS) {
          const what = `mailpool ${c.args.join(" ")} ${globals.join(" ")}`;
          jobs.push(async () => {
            const run = await cli(what, ["-c", config, ...globals, ...c.args]);
            expect(run.code, `${what}: exit code\n${run.texts.map((t) => `${t.where}: ${t.text}`).join("\n")}`).toBe(c.exit);
            return run;
          });
        }
        jobs.push(async () => {
          const what = `mailpool run (daemon) ${globals.join(" ")}`;
          const run = await daemon(what, globals, level);
          expect(run.code, `${what}: exit code`).toBe(0);
          return run;
        });
      }
    }
    const runs = await bounded(jobs, PARALLEL);
    expect(runs).toHaveLength(LEVELS.length * OUTPUTS.length * (COMMANDS.length + 1));

    const leaks: string[] = [];
    for (const run of runs) {
      for (const { where, text } of run.texts) {
        for (const form of FORMS) if (text.includes(form.text)) leaks.push(`${run.what}: ${form.name} in ${where}`);
      }
    }
    expect(leaks).toEqual([]);

    // Not vacuous: the endpoints were sent every secret, and echoed text reached the outputs.
    const sessionTokens = new Set(route53.seen.map((h) => h["x-amz-security-token"]));
    expect(sessionTokens).toContain(SECRETS.AWS_SESSION_TOKEN);
    expect(route53.seen.some((h) => String(h.authorization).includes(SECRETS.AWS_ACCESS_KEY_ID))).toBe(true);
    expect(cloudflare.seen.some((h) => h.authorization === `Bearer ${SECRETS.CLOUDFLARE_API_TOKEN}`)).toBe(true);
    const all = runs.flatMap((r) => r.texts.map((t) => t.text)).join("\n");
    expect(all).toContain("you sent: ");
    expect(all).toContain("[redacted]");
    const plan = runs.find((r) => r.what === "mailpool plan --output text --log-level info")!;
    expect(plan.texts[0]!.text).toMatch(/provider aws: FAILED .*you sent: .*x-amz-security-token: \[redacted\]/);
    expect(plan.texts[0]!.text).toMatch(/provider cf: FAILED .*you sent: .*authorization: \[redacted\]/);
  });
});
