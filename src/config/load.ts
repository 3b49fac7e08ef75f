/**
 * Loading a config: YAML → ${ENV} substitution → schema → cross-field rules → resolved Config
 * (pools with their defaults applied, checks resolved to CheckSpecs). Every problem is collected
 * and reported with its place, e.g. `pools[1].ttl: 60 is outside 300–900`.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { validate as validateCron } from "node-cron";
import { parseDocument } from "yaml";
import type { z } from "zod";
import type { CheckSpec } from "../probes/types.js";
import { BUILTIN_CHECKS } from "../probes/builtin-checks.js";
import type { MemberSpec, PoolSpec, SafetySpec } from "../model.js";
import { canonicalIp, ipFamily } from "../util/ip.js";
import { invalidNameReason, normalizeName } from "../util/names.js";
import { BUILTIN_CHECK_NAMES, configSchema, TTL_MAX, TTL_MIN, type ProviderConfig, type RawConfig } from "./schema.js";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly problems: readonly string[],
    readonly source?: string,
  ) {
    super(`${source ? `${source}: ` : ""}invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
}

export interface Config {
  readonly source?: string;
  readonly controllerId: string;
  readonly schedule: string;
  readonly concurrency: number;
  readonly proberIsolation: { readonly enabled: boolean; readonly threshold: number };
  readonly retry: { readonly retries: number; readonly minTimeoutMs: number; readonly maxTimeoutMs: number };
  readonly daemon: RawConfig["daemon"];
  readonly alerts: RawConfig["alerts"];
  readonly providers: Readonly<Record<string, ProviderConfig>>;
  readonly checks: Readonly<Record<string, CheckSpec>>;
  readonly pools: readonly PoolSpec[];
}

export const DEFAULT_SAFETY: SafetySpec = { neverEmpty: true, minHealthy: 1, failOpen: true, maxRemovePercent: 50 };

export interface LoadOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads a file named in the config (caFile); relative paths are against the config's folder. */
  readonly readFile?: (path: string) => string;
}

export function loadConfigFile(path: string, options: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError([`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`], path);
  }
  return parseConfig(text, { ...options, source: path });
}

export function parseConfig(text: string, options: LoadOptions & { source?: string } = {}): Config {
  const source = options.source;
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `YAML: ${e.message.split("\n")[0]}`), source);
  }
  const problems: string[] = [];
  const data = substituteEnv(doc.toJS(), [], options.env ?? process.env, problems);
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) throw new ConfigError([...problems, ...parsed.error.issues.map(formatIssue)], source);
  const baseDir = source ? dirname(resolve(source)) : process.cwd();
  const readFile = options.readFile ?? ((p: string) => readFileSync(resolve(baseDir, p), "utf8"));
  const config = resolveConfig(parsed.data, problems, readFile, source);
  // File paths in provider blocks are relative to the config file's folder.
  for (const block of Object.values(config.providers)) {
    if (block.type === "zonefile") block.path = resolve(baseDir, block.path);
  }
  if (problems.length > 0) throw new ConfigError(problems, source);
  return config;
}

/** `${NAME}` in any string becomes the environment variable; `$${` is a literal `${`. */
function substituteEnv(value: unknown, path: (string | number)[], env: LoadOptions["env"] & object, problems: string[]): unknown {
  if (typeof value === "string") {
    return value.replace(/\$(\$)?\{([^}]*)\}/g, (whole, escaped: string | undefined, name: string) => {
      if (escaped) return whole.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        problems.push(`${formatPath(path)}: ${whole} is not an environment reference (\${NAME}: letters, digits, _); write $${"$"}{ for a literal`);
        return whole;
      }
      const v = env[name];
      if (v === undefined) {
        problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
        return "";
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, [...path, i], env, problems));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, [...path, k], env, problems)]),
    );
  }
  return value;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(p))) out += out === "" ? String(p) : `.${String(p)}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out === "" ? "(top level)" : out;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`).join("\n  ");
  }
  if (issue.code === "invalid_type" && issue.message.includes("received undefined")) {
    return `${where}: is required`;
  }
  return `${where}: ${issue.message}`;
}

function resolveConfig(raw: RawConfig, problems: string[], readFile: (p: string) => string, source?: string): Config {
  if (!validateCron(raw.schedule)) problems.push(`schedule: ${JSON.stringify(raw.schedule)} is not a valid cron expression`);
  const defaultTtlOk = checkTtl(raw.defaults.ttl, "defaults.ttl", problems);

  const checks: Record<string, CheckSpec> = {};
  for (const name of BUILTIN_CHECK_NAMES) checks[name] = { name, ...BUILTIN_CHECKS[name]! } as CheckSpec;
  for (const [name, c] of Object.entries(raw.checks)) {
    const where = `checks.${name}`;
    const base = c.module ?? ((BUILTIN_CHECK_NAMES as readonly string[]).includes(name) ? name : undefined);
    if (base === undefined) {
      problems.push(`${where}.module: is required for a check whose name is not a built-in (${BUILTIN_CHECK_NAMES.join(", ")})`);
      continue;
    }
    const b = BUILTIN_CHECKS[base]!;
    let ca: string | undefined;
    if (c.tlsRules?.caFile !== undefined) {
      try {
        ca = readFile(c.tlsRules.caFile);
        if (!ca.includes("-----BEGIN CERTIFICATE-----")) problems.push(`${where}.tlsRules.caFile: ${c.tlsRules.caFile} holds no PEM certificate`);
      } catch (err) {
        problems.push(`${where}.tlsRules.caFile: cannot read ${c.tlsRules.caFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    const { caFile: _caFile, ...tlsRest } = c.tlsRules ?? {};
    const spec: CheckSpec = {
      ...b,
      ...stripUndefined({ ...c, module: undefined, tlsRules: undefined }),
      name,
      tlsRules: { ...b.tlsRules, ...stripUndefined(tlsRest), ...(ca !== undefined ? { ca } : {}) },
    } as CheckSpec;
    if (spec.tlsRules.certExpiryFailDays > spec.tlsRules.certExpiryWarnDays) {
      problems.push(`${where}.tlsRules: certExpiryFailDays ${spec.tlsRules.certExpiryFailDays} is more than certExpiryWarnDays ${spec.tlsRules.certExpiryWarnDays}`);
    }
    if (spec.expectGreeting !== undefined) {
      try {
        new RegExp(spec.expectGreeting);
      } catch {
        problems.push(`${where}.expectGreeting: not a valid regular expression`);
      }
    }
    checks[name] = spec;
  }

  const baseSafety: SafetySpec = { ...DEFAULT_SAFETY, ...stripUndefined(raw.safety) };
  const pools: PoolSpec[] = [];
  const seen = new Map<string, number>();
  raw.pools.forEach((p, i) => {
    const where = `pools[${i}]`;
    const nameProblem = invalidNameReason(p.name);
    if (nameProblem) problems.push(`${where}.name: ${JSON.stringify(p.name)} ${nameProblem}`);
    const name = normalizeName(p.name);
    const dup = seen.get(name);
    if (dup !== undefined) problems.push(`${where}.name: ${name} is already pools[${dup}]`);
    seen.set(name, i);

    const provider = raw.providers[p.provider];
    if (!provider) {
      const known = Object.keys(raw.providers);
      problems.push(`${where}.provider: ${JSON.stringify(p.provider)} is not defined under providers${known.length ? ` (known: ${known.join(", ")})` : ""}`);
    }
    const ttl = p.ttl ?? raw.defaults.ttl;
    if (p.ttl !== undefined) checkTtl(p.ttl, `${where}.ttl`, problems);
    else if (!defaultTtlOk) problems.push(`${where}.ttl: inherits the invalid defaults.ttl`);

    p.checks.forEach((c, j) => {
      if (!checks[c]) problems.push(`${where}.checks[${j}]: ${JSON.stringify(c)} is neither a built-in check nor defined under checks`);
    });
    if (p.recordStyle === "multivalue" && provider && provider.type !== "route53") {
      problems.push(`${where}.recordStyle: multivalue is a Route 53 record style; provider ${p.provider} is ${provider.type}`);
    }

    const members: MemberSpec[] = [];
    const addresses = new Map<string, string>();
    const note = (addr: string, place: string) => {
      const prev = addresses.get(addr);
      if (prev !== undefined) problems.push(`${place}: ${addr} is already ${prev}`);
      addresses.set(addr, place);
    };
    p.members.forEach((m, j) => {
      const mw = `${where}.members[${j}]`;
      if (ipFamily(m.address) === 0) {
        problems.push(`${mw}.address: ${JSON.stringify(m.address)} is not an IP address`);
        return;
      }
      const address = canonicalIp(m.address);
      note(address, `${mw}.address`);
      let standby: string | undefined;
      if (m.standby !== undefined) {
        if (ipFamily(m.standby) === 0) problems.push(`${mw}.standby: ${JSON.stringify(m.standby)} is not an IP address`);
        else if (ipFamily(m.standby) !== ipFamily(m.address)) {
          problems.push(`${mw}.standby: ${m.standby} is IPv${ipFamily(m.standby)} but the member is IPv${ipFamily(m.address)}; a standby takes the member's place in the same RRset`);
        } else {
          standby = canonicalIp(m.standby);
          if (standby === address) problems.push(`${mw}.standby: is the member's own address`);
        }
      }
      if (m.serverName !== undefined && invalidNameReason(m.serverName)) {
        problems.push(`${mw}.serverName: ${JSON.stringify(m.serverName)} ${invalidNameReason(m.serverName)}`);
      }
      members.push({
        address,
        label: m.label ?? address,
        ...(standby !== undefined ? { standby } : {}),
        ...(m.serverName !== undefined ? { serverName: normalizeName(m.serverName) } : {}),
      });
    });
    // A standby may serve several members, but may not also be a member.
    for (const m of members) {
      if (m.standby !== undefined && members.some((o) => o.address === m.standby)) {
        problems.push(`${where}.members: standby ${m.standby} is also a member of the pool`);
      }
    }
    const safety: SafetySpec = { ...baseSafety, ...stripUndefined(p.safety ?? {}) };
    pools.push({
      name,
      provider: p.provider,
      ttl,
      members,
      checks: p.checks,
      rise: p.rise ?? raw.defaults.rise,
      fall: p.fall ?? raw.defaults.fall,
      confirmIntervalMs: p.confirmIntervalMs ?? raw.defaults.confirmIntervalMs,
      safety,
      recordStyle: p.recordStyle ?? "simple",
      ...(p.schedule !== undefined ? { schedule: p.schedule } : {}),
    });
    if (p.schedule !== undefined && !validateCron(p.schedule)) {
      problems.push(`${where}.schedule: ${JSON.stringify(p.schedule)} is not a valid cron expression`);
    }
  });

  const listen = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(raw.daemon.listen);
  if (raw.daemon.listen !== "" && (!listen || Number(listen[2]) > 65535)) {
    problems.push(`daemon.listen: ${JSON.stringify(raw.daemon.listen)} is not host:port (port 0–65535)`);
  }

  const le = raw.daemon.leaderElection;
  if (le.renewDeadlineSeconds >= le.leaseDurationSeconds) {
    problems.push(`daemon.leaderElection.renewDeadlineSeconds: ${le.renewDeadlineSeconds} must be below leaseDurationSeconds ${le.leaseDurationSeconds} (the leader must stop writing before its lease can pass to another replica)`);
  }
  if (le.retryPeriodSeconds * 1.2 >= le.renewDeadlineSeconds) {
    problems.push(`daemon.leaderElection.retryPeriodSeconds: ${le.retryPeriodSeconds} leaves no room for a retry within renewDeadlineSeconds ${le.renewDeadlineSeconds} (needs retryPeriodSeconds × 1.2 below it)`);
  }

  return {
    ...(source !== undefined ? { source } : {}),
    controllerId: raw.controllerId,
    schedule: raw.schedule,
    concurrency: raw.concurrency,
    proberIsolation: raw.proberIsolation,
    retry: raw.retry,
    daemon: raw.daemon,
    alerts: raw.alerts,
    providers: raw.providers,
    checks,
    pools,
  };
}

function checkTtl(ttl: number, where: string, problems: string[]): boolean {
  if (ttl < TTL_MIN || ttl > TTL_MAX) {
    problems.push(`${where}: ${ttl} is outside ${TTL_MIN}–${TTL_MAX} (seconds; short enough for caches to follow a change, long enough to spare resolvers)`);
    return false;
  }
  return true;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
