/**
 * The mailpool command line. Exit codes: 0 ok, 1 runtime failure, 2 changes pending (plan with
 * --detailed-exitcode), 64 usage error, 78 config error.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { ConfigError, loadConfigFile, type Config } from "../config/load.js";
import { configJsonSchema } from "../config/schema.js";
import { runCycle } from "../controller/cycle.js";
import { createRuntime } from "../controller/runtime.js";
import { createLogger as newLogger } from "../log.js";
import { hasChanges, refusedAdoptions, renderJson, renderJsonParts, renderText, writeParts } from "../plan/render.js";
import { PROBE_SCHEMES_TEXT } from "../probes/protocols.js";
import { onInterrupt, SIGNAL_EXIT } from "./interrupt.js";
import { logWarningsTo } from "./process-warnings.js";
import { runProbeCommand } from "./probe-command.js";
import { UsageError } from "./usage-error.js";
import { normalizeName } from "../util/names.js";
import { buildPlanFile, DEFAULT_MAX_AGE_MS, PlanFileError } from "../saved-plan/plan-file.js";
import { applyEnvOptions, fromEnv } from "./env-options.js";
import { applySavedPlan, askYesNo, confirmQuestion, parseDuration, readPlanFile, showPlanFile, writePlanFile, type Out } from "./saved-plan-commands.js";

/** A command's logger, which also takes the process warnings from then on (stderr: JSON lines only). */
function createLogger(level: string) {
  const logger = newLogger(level);
  logWarningsTo(logger);
  return logger;
}

export const EXIT = { ok: 0, failure: 1, changesPending: 2, usage: 64, config: 78 } as const;

interface GlobalOptions {
  config: string;
  output: "text" | "json";
  logLevel: string;
}

interface CycleFlags {
  force?: boolean;
  pool?: string[];
  detailedExitcode?: boolean;
  dryRun?: boolean;
  once?: boolean;
  /** plan: save the plan to this file. */
  out?: string;
  /** apply: do not ask on a terminal. */
  yes?: boolean;
  /** apply FILE: the oldest plan accepted, ms. */
  maxAge?: number;
  /** run: one compact JSON object per line. */
  compact?: boolean;
}

/** The process's side of main(), injectable for tests (defaults: the real process). */
export interface MainIo {
  readonly now?: () => Date;
  readonly stdin?: NodeJS.ReadableStream;
  /** Whether to ask before applying: stdin and stderr are a terminal. */
  readonly isTTY?: boolean;
  readonly stdout?: Out;
  readonly stderr?: Out;
}

const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
})();

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, io: MainIo = {}): Promise<number> {
  let exitCode: number = EXIT.ok;
  const now = io.now ?? (() => new Date());
  const stdout: Out = io.stdout ?? process.stdout;
  const stderr: Out = io.stderr ?? process.stderr;
  const program = new Command("mailpool")
    .description("Keeps the round-robin DNS of SMTP/IMAP/POP3 pools true, with real protocol handshakes.")
    .version(VERSION)
    .addOption(fromEnv(new Option("-c, --config <file>", "config file").default("mailpool.yaml"), "MAILPOOL_CONFIG"))
    .addOption(fromEnv(new Option("--output <format>", "output format").choices(["text", "json"]).default("text"), "MAILPOOL_OUTPUT"))
    .addOption(fromEnv(new Option("--log-level <level>", "log level (logs go to stderr)").choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("warn"), "MAILPOOL_LOG_LEVEL"))
    .hook("preAction", (_program, action) => {
      // Options from MAILPOOL_* where no flag was given: the program's and the command's.
      for (let c: Command | null = action; c; c = c.parent) applyEnvOptions(c, env);
    })
    .exitOverride()
    .showHelpAfterError()
    // With --output json a usage error is one JSON object (below), not commander's text.
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => (jsonErrors() ? undefined : process.stderr.write(s)) });

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const load = (): Config => loadConfigFile(globals().config, { env });

  const cycle = async (mode: "plan" | "apply" | "adopt", flags: CycleFlags & { dryRun: boolean }) => {
    const config = load();
    if (flags.pool) {
      const unknown = flags.pool.filter((p) => !config.pools.some((x) => x.name === normalizeName(p)));
      if (unknown.length) throw new UsageError(`--pool ${unknown.join(", ")}: not a pool in ${globals().config}`);
    }
    const logger = createLogger(globals().logLevel);
    const runtime = createRuntime(config, logger, { env, now });
    const interrupt = onInterrupt();
    // `apply` on a terminal plans first, shows the plan and asks; yes applies that very plan.
    const ask = mode === "apply" && !flags.dryRun && flags.yes !== true && (io.isTTY ?? (process.stdin.isTTY === true && process.stderr.isTTY === true));
    try {
      let report;
      try {
        report = await runCycle(runtime, {
          dryRun: flags.dryRun || ask,
          force: flags.force ?? false,
          adopt: mode === "adopt",
          ...(flags.pool ? { pools: flags.pool.map(normalizeName) } : {}),
          signal: interrupt.signal,
        });
      } catch (err) {
        const signal = interrupt.received();
        if (signal === undefined) throw err;
        logger.warn({ signal }, "interrupted before planning finished; nothing was written");
        return SIGNAL_EXIT[signal];
      }
      if (ask) {
        stdout.write(
          globals().output === "json"
            ? renderJson(report, { controllerId: config.controllerId, mode: "plan" })
            : renderText(report, { color: process.stdout.isTTY === true && !env.NO_COLOR }),
        );
        if (report.results.some((r) => r.error)) return EXIT.failure;
        const question = confirmQuestion(report);
        if (ipMovesIn(report) > 0) {
          // The confirmed plan is applied as a saved plan, and saved plans carry no IP moves yet.
          stderr.write(`${IP_MOVES_NOT_SAVED}; run \`mailpool apply --yes\` to apply the changes and the moves as planned now.\n`);
          return EXIT.failure;
        }
        if (question === undefined) return EXIT.ok;
        const planned = buildPlanFile({ config, report, now: now(), force: flags.force ?? false, adopt: false, ...(flags.pool ? { pools: flags.pool.map(normalizeName) } : {}) });
        if (!(await askYesNo(question, io.stdin ?? process.stdin, stderr, interrupt.signal))) {
          const signal = interrupt.received();
          if (signal !== undefined) return SIGNAL_EXIT[signal];
          stderr.write("Nothing applied.\n");
          return EXIT.failure;
        }
        return await applySavedPlan(planned, "the plan above", {
          deps: { config, provider: runtime.provider, now, maxAgeMs: DEFAULT_MAX_AGE_MS, force: flags.force ?? false, signal: interrupt.signal, logger },
          output: globals().output,
          out: stdout,
          err: stderr,
          color: process.stdout.isTTY === true && !env.NO_COLOR,
        });
      }
      if (globals().output === "json" && !flags.compact) {
        // In parts: a 10,000-member plan is never one object tree and one 2.4 MB string at once.
        writeParts(stdout, renderJsonParts(report, { controllerId: config.controllerId, mode }));
      } else {
        const text =
          globals().output === "json"
            ? renderJson(report, { controllerId: config.controllerId, mode })
            : renderText(report, { color: process.stdout.isTTY === true && !env.NO_COLOR });
        stdout.write(flags.compact && globals().output === "json" ? JSON.stringify(JSON.parse(text)) + "\n" : text);
      }
      if (flags.out !== undefined && mode === "plan" && ipMovesIn(report) > 0) {
        stderr.write(`${IP_MOVES_NOT_SAVED}; no plan file was written (\`mailpool apply\` applies the changes and the moves directly).\n`);
        return EXIT.failure;
      }
      if (flags.out !== undefined && mode === "plan") {
        const file = buildPlanFile({
          config,
          report,
          now: now(),
          ...(flags.maxAge !== undefined ? { maxAgeMs: flags.maxAge } : {}),
          force: flags.force ?? false,
          adopt: false,
          ...(flags.pool ? { pools: flags.pool.map(normalizeName) } : {}),
        });
        writePlanFile(flags.out, file);
        stderr.write(`Saved the plan to ${flags.out}; \`mailpool apply ${flags.out}\` applies exactly it until ${file.expiresAt}.\n`);
      }
      // Interrupted while applying: the report says what was written before the work stopped.
      const signal = interrupt.received();
      if (signal !== undefined) {
        logger.warn({ signal }, "interrupted; stopped before the cycle's remaining work");
        return SIGNAL_EXIT[signal];
      }
      if (report.results.some((r) => r.error)) return EXIT.failure;
      if (mode === "adopt" && refusedAdoptions(report).length > 0) return EXIT.failure;
      if (flags.detailedExitcode && hasChanges(report)) return EXIT.changesPending;
      return EXIT.ok;
    } finally {
      interrupt.dispose();
      await runtime.close();
    }
  };

  const poolOption = () => fromEnv(new Option("--pool <name...>", "only these pools"), "MAILPOOL_POOL");
  const forceOption = (what: string) => fromEnv(new Option("--force", what), "MAILPOOL_FORCE");

  program
    .command("plan")
    .description("probe, plan and print the record changes; change nothing (dry run)")
    .addOption(fromEnv(new Option("--detailed-exitcode", "exit 2 when changes are pending"), "MAILPOOL_DETAILED_EXITCODE"))
    .addOption(forceOption("plan as if every safety rule but ownership were off"))
    .addOption(poolOption())
    .addOption(fromEnv(new Option("--out <file>", "also save the plan to this file, for `mailpool apply FILE` (docs/plan-json.md)"), "MAILPOOL_PLAN_OUT"))
    .addOption(
      fromEnv(new Option("--max-age <duration>", "with --out: how long the saved plan may be applied (e.g. 15m, 1h)").argParser((v) => parseDuration(v, "--max-age")), "MAILPOOL_MAX_AGE"),
    )
    .action(async (flags: CycleFlags) => {
      exitCode = await cycle("plan", { ...flags, dryRun: true });
    });

  program
    .command("apply")
    .description("probe, plan and apply the record changes once (on a terminal, after asking); with FILE, apply exactly that saved plan or refuse")
    .argument("[file]", "a plan saved by `mailpool plan --out FILE`")
    .addOption(forceOption("bypass every safety rule but ownership (with FILE: required to apply a plan made with --force)"))
    .addOption(poolOption())
    .addOption(fromEnv(new Option("-y, --yes", "do not ask for confirmation (no terminal: never asked)"), "MAILPOOL_YES"))
    .addOption(
      fromEnv(
        new Option("--max-age <duration>", "with FILE: refuse a plan older than this (e.g. 15m, 1h); default 15m").argParser((v) => parseDuration(v, "--max-age")),
        "MAILPOOL_MAX_AGE",
      ),
    )
    .action(async (file: string | undefined, flags: CycleFlags) => {
      if (file === undefined) {
        exitCode = await cycle("apply", { ...flags, dryRun: false });
        return;
      }
      if (flags.pool) throw new UsageError("apply FILE: --pool is the plan's business (plan --pool, then apply the file)");
      const plan = readPlanFile(file);
      const config = load();
      const logger = createLogger(globals().logLevel);
      const runtime = createRuntime(config, logger, { env });
      const interrupt = onInterrupt();
      try {
        exitCode = await applySavedPlan(plan, file, {
          deps: { config, provider: runtime.provider, now, maxAgeMs: flags.maxAge ?? DEFAULT_MAX_AGE_MS, force: flags.force ?? false, signal: interrupt.signal, logger },
          output: globals().output,
          out: stdout,
          err: stderr,
          color: process.stdout.isTTY === true && !env.NO_COLOR,
        });
        const signal = interrupt.received();
        if (signal !== undefined) exitCode = SIGNAL_EXIT[signal];
      } finally {
        interrupt.dispose();
        await runtime.close();
      }
    });

  program
    .command("show")
    .description("print a plan saved by `mailpool plan --out FILE` (text, or with --output json the file's own JSON)")
    .argument("<file>", "the saved plan")
    .action((file: string) => {
      exitCode = showPlanFile(file, globals().output, stdout, now());
    });

  program
    .command("adopt")
    .description("write this controller's ownership marker (_mailpool.<name> TXT) for the pools, then plan as usual")
    .option("--dry-run", "print what adopting would write")
    .option("--force", "take a pool whose marker names another controller, and bypass the safety rules")
    .addOption(poolOption())
    .action(async (flags: CycleFlags) => {
      exitCode = await cycle("adopt", { ...flags, dryRun: flags.dryRun ?? false });
    });

  program
    .command("run")
    .description("run as a daemon on the config's schedule (or once, as a CronJob would); never asks; --output json is one compact JSON object per line per cycle")
    .addOption(fromEnv(new Option("--once", "one cycle with stateless confirmation, then exit (Kubernetes CronJob)"), "MAILPOOL_ONCE"))
    .addOption(fromEnv(new Option("--dry-run", "plan and print each cycle; change nothing"), "MAILPOOL_DRY_RUN"))
    .addOption(forceOption("bypass every safety rule but ownership"))
    .action(async (flags: CycleFlags) => {
      if (flags.once) {
        exitCode = await cycle(flags.dryRun ? "plan" : "apply", { ...flags, yes: true, compact: true, dryRun: flags.dryRun ?? false });
        return;
      }
      const config = load();
      const { runDaemon } = await import("../daemon/daemon.js"); // lazy: the daemon, demo and lint modules are not loaded by plan/validate (cold start, issue 10)
      exitCode = await runDaemon({
        config,
        configPath: globals().config,
        env,
        logger: createLogger(globals().logLevel === "warn" ? "info" : globals().logLevel),
        dryRun: flags.dryRun ?? false,
        force: flags.force ?? false,
        output: globals().output,
        version: VERSION,
      });
    });

  program
    .command("probe")
    .description(`handshake with a host (${PROBE_SCHEMES_TEXT}) or every member of a configured pool`)
    .argument("<target>", "URL such as smtp://mx1.example.net:25, or a pool name from the config")
    .option("--starttls", "upgrade with STARTTLS/STLS (must be advertised)")
    .option("--implicit-tls", "TLS from the first byte")
    .option("--server-name <name>", "TLS server name (SNI and certificate check)")
    .option("--insecure", "do not verify the certificate")
    .option("--ca-file <file>", "PEM file of extra trusted CAs")
    .option("--timeout <ms>", "deadline for the whole handshake", (v) => parsePositiveInt(v, "--timeout"))
    .action(async (target: string, flags: Record<string, unknown>) => {
      exitCode = await runProbeCommand(target, flags, {
        output: globals().output,
        loadConfig: () => load(),
        configGiven: program.getOptionValueSource("config") !== "default" || env.MAILPOOL_CONFIG !== undefined,
      });
    });

  program
    .command("lint")
    .description("audit a mail domain's DNS (MX, fallback, service names, SRV, TTLs, name servers, reverse DNS); with -c every configured domain and its pools")
    .argument("[domain...]", "domains to lint (default with -c: the domains of the configured pools)")
    .option("--resolver <host:port>", "recursive resolver to ask (default: the system's first)")
    .option("--timeout <ms>", "deadline of one DNS query (default 3000); the RCPT dialogue gets twice this", (v) => parsePositiveInt(v, "--timeout"))
    .option("--ns-port <port>", "port to ask the domain's own name servers on (default 53; for tests)", (v) => parsePort(v, "--ns-port"))
    .option("--smtp-port <port>", "port of the RCPT check to fallback MX hosts (default 25; for tests)", (v) => parsePort(v, "--smtp-port"))
    .option("--no-rcpt", "skip the SMTP RCPT check of fallback MX hosts")
    .option("--query-budget <n>", "most DNS queries per domain (default 300)", (v) => parsePositiveInt(v, "--query-budget"))
    .option("--concurrency <n>", "most DNS queries in flight (default 8)", (v) => parsePositiveInt(v, "--concurrency"))
    .option("--ehlo-name <name>", "name sent in EHLO by the RCPT check")
    .addOption(new Option("--fail-on <severity>", "exit 1 when a finding is at or above this severity").choices(["error", "warning", "info"]).default("error"))
    .action(async (domains: string[], flags: Record<string, unknown>) => {
      const configGiven = program.getOptionValueSource("config") !== "default" || env.MAILPOOL_CONFIG !== undefined;
      const interrupt = onInterrupt();
      try {
        const { runLintCommand } = await import("../lint/lint-command.js");
        exitCode = await runLintCommand(domains, flags, {
          output: globals().output,
          ...(configGiven ? { loadConfig: load } : {}),
          color: process.stdout.isTTY === true && !env.NO_COLOR,
          signal: interrupt.signal,
        });
        const signal = interrupt.received();
        if (signal !== undefined) exitCode = SIGNAL_EXIT[signal];
      } finally {
        interrupt.dispose();
      }
    });

  program
    .command("validate")
    .description("check the config file and exit (78 when invalid)")
    .action(() => {
      const config = load();
      const n = config.pools.reduce((sum, p) => sum + p.members.length, 0);
      const providers = Object.keys(config.providers).length;
      stdout.write(
        globals().output === "json"
          ? JSON.stringify({ ok: true, config: globals().config, pools: config.pools.length, members: n, providers }) + "\n"
          : `${globals().config}: ok (${config.pools.length} pool(s), ${n} member(s), ${providers} provider(s))\n`,
      );
    });

  program
    .command("schema")
    .description("print the JSON Schema of the config file")
    .action(() => {
      process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + "\n");
    });

  program
    .command("demo")
    .description("a throwaway pool on 127.0.0.x: kill a member, watch it leave the zone, bring it back")
    .action(async () => {
      const { runDemo } = await import("../demo/demo.js");
      exitCode = await runDemo({ out: process.stdout, color: process.stdout.isTTY === true && !env.NO_COLOR });
    });

  /** --output json (flag or MAILPOOL_OUTPUT): errors are one JSON object on stderr too. */
  const jsonErrors = (): boolean => {
    const source = program.getOptionValueSource("output");
    if (source === "cli" || source === "env") return program.opts<GlobalOptions>().output === "json";
    // Failed before the options were applied (a usage error): as the command line or env asked.
    const flag = argv.findIndex((a) => a === "--output" || a.startsWith("--output="));
    if (flag >= 0) return argv[flag] === "--output=json" || argv[flag + 1] === "json";
    return env.MAILPOOL_OUTPUT === "json";
  };
  const fail = (code: number, kind: string, message: string, extra: object = {}) => {
    stderr.write(jsonErrors() ? JSON.stringify({ error: kind, message, ...extra }) + "\n" : `mailpool: ${message}\n`);
    return code;
  };
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // "commander.help" is help shown because no command was given: a usage error.
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT.ok;
      if (jsonErrors()) {
        const message = err.code === "commander.help" ? "no command given; see mailpool --help" : err.message.replace(/^error: /, "");
        stderr.write(JSON.stringify({ error: "usage", message }) + "\n");
      }
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      return fail(EXIT.config, "config", err.message, { source: err.source ?? null, problems: err.problems.map(problemJson) });
    }
    if (err instanceof UsageError) return fail(EXIT.usage, "usage", err.message);
    if (err instanceof PlanFileError) return fail(EXIT.failure, "plan-file", err.message);
    return fail(EXIT.failure, "failure", err instanceof Error ? err.message : String(err));
  }
}

/** "pools[1].ttl: 60 is outside 300–900" as { path, message }; a problem of no place has path null. */
export function problemJson(problem: string): { path: string | null; message: string } {
  // The places formatPath writes: pools[1].ttl, providers["my zone"].path, (top level).
  const m = /^((?:[A-Za-z_]\w*|\(top level\))(?:\.[A-Za-z_]\w*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*): ([\s\S]*)$/.exec(problem);
  if (!m || m[1] === "YAML") return { path: null, message: problem };
  return { path: m[1]!, message: m[2]! };
}

function parsePort(v: string, name: string): number {
  const n = parsePositiveInt(v, name);
  if (n > 65535) throw new UsageError(`${name}: ${n} is above 65535`);
  return n;
}

function parsePositiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name}: ${JSON.stringify(v)} is not a positive whole number`);
  return n;
}

/** Saved plans carry RRset changes only (src/saved-plan/); IP moves are not in them yet. */
const IP_MOVES_NOT_SAVED = "this plan moves addresses (IP takeover), and saved plans do not carry IP moves yet";

/** How many IP moves (takeover-ip, return-ip) a cycle planned and allowed. */
function ipMovesIn(report: { readonly ipTakeover?: { readonly actions: readonly unknown[] } }): number {
  return report.ipTakeover?.actions.length ?? 0;
}

