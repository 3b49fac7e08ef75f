/**
 * Options from the environment (as external-dns's EXTERNAL_DNS_*): every option a Deployment or
 * CronJob sets can be MAILPOOL_<NAME>, and a flag on the command line wins.
 *
 * Not commander's Option.env(): that reads process.env (not the injected env main() is given)
 * and turns a boolean on whenever the variable exists, so MAILPOOL_DRY_RUN=false would mean a
 * dry run. Here booleans take 1/true/yes/on or 0/false/no/off (anything else is a usage error
 * naming the variable), values go through the option's own parser and choices, and `--help`
 * shows each variable next to its option.
 */
import type { Command, Option } from "commander";
import { UsageError } from "./usage-error.js";

const ENV_OF = new WeakMap<Option, string>();

/** Lets `option` come from the environment variable `name`; says so in --help. */
export function fromEnv<O extends Option>(option: O, name: string): O {
  ENV_OF.set(option, name);
  option.description = `${option.description} (env: ${name})`;
  return option;
}

/** The environment variables a command's options read, for docs and tests. */
export function envNames(cmd: Command): string[] {
  return cmd.options.map((o) => ENV_OF.get(o)).filter((n): n is string => n !== undefined);
}

/** Fills every option of `cmd` not given on the command line from its variable in `env`. */
export function applyEnvOptions(cmd: Command, env: Readonly<Record<string, string | undefined>>): void {
  for (const option of cmd.options) {
    const name = ENV_OF.get(option);
    if (name === undefined) continue;
    const raw = env[name];
    if (raw === undefined) continue;
    const key = option.attributeName();
    const source = cmd.getOptionValueSource(key);
    if (source !== undefined && source !== "default") continue; // the flag wins
    cmd.setOptionValueWithSource(key, envValue(option, name, raw), "env");
  }
}

function envValue(option: Option, name: string, raw: string): unknown {
  const takesValue = option.required || option.optional;
  if (!takesValue) {
    const v = raw.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(v)) return !option.negate;
    if (["0", "false", "no", "off", ""].includes(v)) return option.negate;
    throw new UsageError(`${name}: ${JSON.stringify(raw)} is not a boolean (1/true/yes/on or 0/false/no/off)`);
  }
  if (option.argChoices && !option.argChoices.includes(raw)) {
    throw new UsageError(`${name}: ${JSON.stringify(raw)} is not one of ${option.argChoices.join(", ")}`);
  }
  if (option.variadic) {
    const parts = raw.split(/[\s,]+/).filter((p) => p !== "");
    return option.parseArg ? parts.reduce<unknown>((acc, p) => option.parseArg!(p, acc), undefined) : parts;
  }
  try {
    return option.parseArg ? option.parseArg(raw, undefined) : raw;
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${name}: ${err.message}`);
    throw err;
  }
}
