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
import { runDaemon } from "../daemon/daemon.js";
import { runDemo } from "../demo/demo.js";
import { createLogger } from "../log.js";
import { hasChanges, renderJson, renderText } from "../plan/render.js";
import { runProbeCommand } from "./probe-command.js";
import { UsageError } from "./usage-error.js";
import { normalizeName } from "../util/names.js";

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
}

const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
})();

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command("mailpool")
    .description("Keeps the round-robin DNS of SMTP/IMAP/POP3 pools true, with real protocol handshakes.")
    .version(VERSION)
    .option("-c, --config <file>", "config file", env.MAILPOOL_CONFIG ?? "mailpool.yaml")
    .addOption(new Option("--output <format>", "output format").choices(["text", "json"]).default("text"))
    .addOption(new Option("--log-level <level>", "log level (logs go to stderr)").choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("warn"))
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const load = (): Config => loadConfigFile(globals().config, { env });

  const cycle = async (mode: "plan" | "apply" | "adopt", flags: CycleFlags & { dryRun: boolean }) => {
    const config = load();
    if (flags.pool) {
      const unknown = flags.pool.filter((p) => !config.pools.some((x) => x.name === normalizeName(p)));
      if (unknown.length) throw new UsageError(`--pool ${unknown.join(", ")}: not a pool in ${globals().config}`);
    }
    const logger = createLogger(globals().logLevel);
    const runtime = createRuntime(config, logger, { env });
    const ac = new AbortController();
    const stop = () => ac.abort(new Error("interrupted"));
    process.once("SIGINT", stop).once("SIGTERM", stop);
    try {
      const report = await runCycle(runtime, {
        dryRun: flags.dryRun,
        force: flags.force ?? false,
        adopt: mode === "adopt",
        ...(flags.pool ? { pools: flags.pool.map(normalizeName) } : {}),
        signal: ac.signal,
      });
      process.stdout.write(
        globals().output === "json"
          ? renderJson(report, { controllerId: config.controllerId, mode })
          : renderText(report, { color: process.stdout.isTTY === true && !env.NO_COLOR }),
      );
      if (report.results.some((r) => r.error)) return EXIT.failure;
      if (flags.detailedExitcode && hasChanges(report)) return EXIT.changesPending;
      return EXIT.ok;
    } finally {
      process.off("SIGINT", stop).off("SIGTERM", stop);
      await runtime.close();
    }
  };

  const poolOption = () => new Option("--pool <name...>", "only these pools");

  program
    .command("plan")
    .description("probe, plan and print the record changes; change nothing (dry run)")
    .option("--detailed-exitcode", "exit 2 when changes are pending")
    .option("--force", "plan as if every safety rule but ownership were off")
    .addOption(poolOption())
    .action(async (flags: CycleFlags) => {
      exitCode = await cycle("plan", { ...flags, dryRun: true });
    });

  program
    .command("apply")
    .description("probe, plan and apply the record changes once")
    .option("--force", "bypass every safety rule but ownership")
    .addOption(poolOption())
    .action(async (flags: CycleFlags) => {
      exitCode = await cycle("apply", { ...flags, dryRun: false });
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
    .description("run as a daemon on the config's schedule (or once, as a CronJob would)")
    .option("--once", "one cycle with stateless confirmation, then exit (Kubernetes CronJob)")
    .option("--dry-run", "plan and print each cycle; change nothing")
    .option("--force", "bypass every safety rule but ownership")
    .action(async (flags: CycleFlags) => {
      if (flags.once) {
        exitCode = await cycle(flags.dryRun ? "plan" : "apply", { ...flags, dryRun: flags.dryRun ?? false });
        return;
      }
      const config = load();
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
    .description("handshake with a host (smtp://, submission://, smtps://, imap://, imaps://, pop3://, pop3s://) or every member of a configured pool")
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
    .command("validate")
    .description("check the config file and exit (78 when invalid)")
    .action(() => {
      const config = load();
      const n = config.pools.reduce((sum, p) => sum + p.members.length, 0);
      process.stdout.write(`${globals().config}: ok (${config.pools.length} pool(s), ${n} member(s), ${Object.keys(config.providers).length} provider(s))\n`);
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
      exitCode = await runDemo({ out: process.stdout, color: process.stdout.isTTY === true && !env.NO_COLOR });
    });

  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // "commander.help" is help shown because no command was given: a usage error.
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`mailpool: ${err.message}\n`);
      return EXIT.config;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`mailpool: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`mailpool: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failure;
  }
}

function parsePositiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name}: ${JSON.stringify(v)} is not a positive whole number`);
  return n;
}
