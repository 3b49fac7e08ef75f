/**
 * Loading a config: YAML → ${ENV} substitution → schema → cross-field rules → resolved Config
 * (pools with their defaults applied, checks resolved to CheckSpecs). Every problem is collected
 * and reported with its place, e.g. `pools[1].ttl: 60 is outside 300–900`.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { validate as validateCron } from "node-cron";
import { fastParseYaml } from "./fast-yaml.js";
import { isNode, isPair, isScalar, LineCounter, parseDocument, visit } from "yaml";
import type { z } from "zod";
import type { CheckSpec } from "../probes/types.js";
import { BUILTIN_CHECKS } from "../probes/builtin-checks.js";
import type { MemberSpec, PoolSpec, SafetySpec } from "../model.js";
import { DEFAULT_SAFETY } from "../plan/rules/index.js";
import { canonicalIp, ipFamily } from "../util/ip.js";
import { invalidNameReason, normalizeName } from "../util/names.js";
import { loadProviderBlock, poolOptionProblems, poolOptionValues } from "../../providers/registry.js";
import { checkIpTakeover, checkIpTakeoverAcrossPools, resolveIpTakeoverBlocks } from "./ip-takeover.js";
import { dialogueCheckBase, dialogueStandIns, resolveDialogues, withDialogue } from "./dialogues.js";
import { BUILTIN_CHECK_NAMES, checkProviderBlock, configSchema, TTL_MAX, TTL_MIN, type IpTakeoverAdapterConfig, type ProviderConfig, type RawConfig } from "./schema.js";

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
  /** Threads the probes run on (src/probes/threads.ts); 1 is the main thread alone. */
  readonly probeThreads: number;
  readonly proberIsolation: { readonly enabled: boolean; readonly threshold: number };
  readonly retry: { readonly retries: number; readonly minTimeoutMs: number; readonly maxTimeoutMs: number };
  readonly daemon: RawConfig["daemon"];
  readonly alerts: RawConfig["alerts"];
  readonly providers: Readonly<Record<string, ProviderConfig>>;
  /** IP takeover adapter blocks by name. */
  readonly ipTakeover: Readonly<Record<string, IpTakeoverAdapterConfig>>;
  readonly checks: Readonly<Record<string, CheckSpec>>;
  readonly pools: readonly PoolSpec[];
}

/** The safety defaults, from the rule registry (src/plan/rules/). */
export { DEFAULT_SAFETY };

export interface LoadOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads a file named in the config (caFile); relative paths are against the config's folder. */
  readonly readFile?: (path: string) => string;
}

/** A config file larger than this is refused: a real one is a few KiB; 10,000 members ~1 MiB. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Aliases a config may use before it counts as an alias bomb (YAML's "billion laughs"). */
const MAX_ALIASES = 100;

export function loadConfigFile(path: string, options: LoadOptions = {}): Config {
  return parseConfig(readConfigText(path), { ...options, source: path });
}

/**
 * The config file's text. Only a regular file is read (a FIFO or a device would hang the read,
 * a directory has no text), at most MAX_CONFIG_BYTES, and every failure names the file.
 */
export function readConfigText(path: string): string {
  const cannot = (why: string) => new ConfigError([`cannot read ${path}: ${why}`], path);
  let fd: number;
  try {
    // Non-blocking, so opening a FIFO returns at once instead of waiting for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw cannot((err as Error).message);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw cannot(`it is ${st.isDirectory() ? "a directory" : st.isFIFO() ? "a FIFO" : "not a regular file"}; give the path of a YAML file`);
    if (st.size > MAX_CONFIG_BYTES) throw cannot(`it is ${st.size} bytes; a config over ${MAX_CONFIG_BYTES} bytes is refused`);
    return readFileSync(fd, "utf8");
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw cannot((err as Error).message);
  } finally {
    closeSync(fd);
  }
}

export function parseConfig(text: string, options: LoadOptions & { source?: string } = {}): Config {
  const source = options.source;
  if (text.length > MAX_CONFIG_BYTES) {
    throw new ConfigError([`the config is ${text.length} characters; over ${MAX_CONFIG_BYTES} is refused`], source);
  }
  const data0 = parseYaml(text, source);
  const problems: string[] = [];
  const env = options.env ?? process.env;
  const refs: EnvRefs = { byPath: new Map(), unset: new Set() };
  const data = substituteEnv(data0, [], env, problems, refs);
  const parsed = configSchema.safeParse(data);
  const baseDir = source ? dirname(resolve(source)) : process.cwd();
  const readFile = options.readFile ?? ((p: string) => readFileSync(resolve(baseDir, p), "utf8"));
  if (!parsed.success) {
    // The rules beyond the schema (TTL window, addresses, references) are checked too, on what
    // did parse, so that fixing the reported keys does not reveal a second round of problems.
    // A variable reported unset is not reported again as the empty value it left.
    const issues = parsed.error.issues.filter((i) => !refs.unset.has(formatPath(i.path)));
    const structural = issues.map((i) => formatIssue(i, refs, data));
    const semantic: string[] = [];
    resolveConfig(salvage(data, parsed.error.issues), semantic, readFile, env, source);
    const places = parsed.error.issues.flatMap(issuePlaces);
    const fresh = semantic.filter((p) => !places.some((place) => isAtOrUnder(p, place)));
    throw new ConfigError([...problems, ...structural, ...fresh], source);
  }
  const config = resolveConfig(parsed.data, problems, readFile, env, source);
  // Each provider's factory resolves its block against the config file (relative paths).
  const providers = config.providers as Record<string, ProviderConfig>;
  for (const [name, block] of Object.entries(providers)) providers[name] = loadProviderBlock(block, { baseDir });
  if (problems.length > 0) throw new ConfigError(problems, source);
  return config;
}

/**
 * YAML text → plain data. Every problem is a config error with its line and column: syntax
 * errors, duplicate keys (checked here in one pass: the YAML library's own check is quadratic in
 * the keys of a map), unresolved aliases and alias bombs.
 */
function parseYaml(text: string, source: string | undefined): unknown {
  const fast = fastParseYaml(text); // ~10× faster; undefined whenever it is unsure (fast-yaml.ts)
  if (fast) return fast.value;
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false, lineCounter: lines });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return "";
    const { line, col } = lines.linePos(offset);
    return ` at line ${line}, column ${col}`;
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `YAML: ${e.message.split("\n")[0]}`), source);
  }
  const duplicates: string[] = [];
  const anchors = new Set<string>();
  let firstAlias: number | undefined;
  let unresolved: string | undefined;
  const anchored = (node: { anchor?: string | undefined }) => {
    if (node.anchor) anchors.add(node.anchor);
  };
  visit(doc, {
    Map(_key, map, path) {
      anchored(map);
      const seen = new Set<string>();
      for (const pair of map.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : JSON.stringify(String(pair.key));
        if (seen.has(k)) {
          const where = path.filter(isPair).map((p) => (isScalar(p.key) ? String(p.key.value) : "?"));
          duplicates.push(`${[...where, k].join(".")}: duplicate key${at(isNode(pair.key) ? pair.key.range?.[0] : undefined)}`);
        }
        seen.add(k);
      }
    },
    Seq(_key, seq) {
      anchored(seq);
    },
    Scalar(_key, scalar) {
      anchored(scalar);
    },
    Alias(_key, alias) {
      firstAlias ??= alias.range?.[0];
      if (!anchors.has(alias.source) && unresolved === undefined) {
        unresolved = `YAML: the alias *${alias.source} names no anchor set before it${at(alias.range?.[0])}`;
      }
    },
  });
  if (duplicates.length > 0) throw new ConfigError(duplicates.map((d) => `YAML: ${d}`), source);
  if (unresolved) throw new ConfigError([unresolved], source);
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    throw new ConfigError([`YAML: ${(err as Error).message}${at(firstAlias)}`], source);
  }
}

/** Where `${VAR}` references were resolved: names by formatted path, and paths of unset ones. */
interface EnvRefs {
  readonly byPath: Map<string, string[]>;
  readonly unset: Set<string>;
}

/** `${NAME}` in any string becomes the environment variable; `$${` is a literal `${`. */
function substituteEnv(value: unknown, path: (string | number)[], env: LoadOptions["env"] & object, problems: string[], refs: EnvRefs): unknown {
  if (typeof value === "string") {
    return value.replace(/\$(\$)?\{([^}]*)\}/g, (whole, escaped: string | undefined, name: string) => {
      if (escaped) return whole.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        problems.push(`${formatPath(path)}: ${whole} is not an environment reference (\${NAME}: letters, digits, _); write $${"$"}{ for a literal`);
        return whole;
      }
      const where = formatPath(path);
      refs.byPath.set(where, [...(refs.byPath.get(where) ?? []), name]);
      const v = env[name];
      if (v === undefined) {
        problems.push(`${where}: environment variable ${name} is not set`);
        refs.unset.add(where);
        return "";
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, [...path, i], env, problems, refs));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, [...path, k], env, problems, refs)]),
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

function formatIssue(issue: z.core.$ZodIssue, refs?: EnvRefs, data?: unknown): string {
  const where = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`).join("\n  ");
  }
  if (issue.code === "invalid_type" && issue.message.includes("received undefined")) {
    return `${where}: is required`;
  }
  // A value that is empty only because a variable it names is: say which (never the value).
  const names = refs?.byPath.get(where);
  const value = valueAt(data, issue.path);
  if (names && typeof value === "string" && value.trim() === "") {
    const after = `after ${names.map((n) => `\${${n}}`).join(", ")} ${names.length > 1 ? "were" : "was"} resolved`;
    return issue.message.startsWith("is empty")
      ? `${where}: is empty ${after}${issue.message.slice("is empty".length)}`
      : `${where}: ${issue.message} (the value is empty ${after})`;
  }
  return `${where}: ${issue.message}`;
}

/**
 * What of a config that failed the schema can still be checked for meaning: unknown keys and
 * values the schema rejected are dropped (so defaults apply), then each section, pool, provider
 * and check is parsed on its own and kept if it passes. A provider or check that still fails is
 * kept as a stand-in, so that the pools referring to it are not reported as naming nothing; a
 * pool that still fails is left out, keeping the other pools at their own index.
 */
function salvage(data: unknown, issues: readonly z.core.$ZodIssue[]): RawConfig {
  const root: Record<string, unknown> = isObject(data) ? structuredClone(data) : {};
  for (const issue of issues) {
    const parent = valueAt(root, issue.path.slice(0, -1));
    const last = issue.path[issue.path.length - 1];
    if (issue.code === "unrecognized_keys") {
      const at = valueAt(root, issue.path);
      if (isObject(at)) for (const k of issue.keys) delete at[k];
    } else if (typeof last === "string" && isObject(parent)) {
      delete parent[last];
    }
  }
  const shape = configSchema.shape;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(shape) as (keyof typeof shape)[]) {
    const value = root[key];
    if (key === "pools") {
      // Holes keep each pool at its index: resolveConfig's forEach skips them.
      const pools: unknown[] = [];
      if (Array.isArray(value)) {
        value.forEach((p, i) => {
          const one = shape.pools.safeParse([p]);
          if (one.success) pools[i] = one.data[0];
        });
      }
      out.pools = pools;
    } else if (key === "providers" || key === "checks" || key === "dialogues") {
      const entries: Record<string, unknown> = {};
      for (const [name, block] of Object.entries(isObject(value) ? value : {})) {
        const one = shape[key].safeParse({ [name]: block });
        if (one.success) entries[name] = (one.data as Record<string, unknown>)[name];
        else if (key === "providers") {
          const standIn = { type: isObject(block) ? block.type : undefined };
          standIns.add(standIn);
          entries[name] = standIn;
        } else if (key === "dialogues") {
          const standIn = { steps: [] };
          dialogueStandIns.add(standIn);
          entries[name] = standIn;
        }
        else entries[name] = { module: BUILTIN_CHECK_NAMES[0] };
      }
      out[key] = entries;
    } else {
      const one = shape[key].safeParse(value);
      const fallback = shape[key].safeParse(undefined);
      out[key] = one.success ? one.data : fallback.success ? fallback.data : "";
    }
  }
  return out as RawConfig;
}

/** The formatted places a schema issue names (an unknown-keys issue names each key). */
function issuePlaces(issue: z.core.$ZodIssue): string[] {
  return issue.code === "unrecognized_keys" ? issue.keys.map((k) => formatPath([...issue.path, k])) : [formatPath(issue.path)];
}

/** True when a `path: message` problem is about `place` or something inside it. */
function isAtOrUnder(problem: string, place: string): boolean {
  const path = problem.slice(0, problem.indexOf(":"));
  return path === place || path.startsWith(`${place}.`) || path.startsWith(`${place}[`);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let at = root;
  for (const p of path) {
    if (at === null || typeof at !== "object") return undefined;
    at = (at as Record<PropertyKey, unknown>)[p];
  }
  return at;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Provider blocks salvage() put in for ones that failed the schema: not checked further. */
const standIns = new WeakSet<object>();

function resolveConfig(
  raw: RawConfig,
  problems: string[],
  readFile: (p: string) => string,
  env: Readonly<Record<string, string | undefined>>,
  source?: string,
): Config {
  if (!validateCron(raw.schedule)) problems.push(`schedule: ${JSON.stringify(raw.schedule)} is not a valid cron expression`);
  const defaultTtlOk = checkTtl(raw.defaults.ttl, "defaults.ttl", problems);

  const checks: Record<string, CheckSpec> = {};
  for (const name of BUILTIN_CHECK_NAMES) checks[name] = { name, ...BUILTIN_CHECKS[name]! } as CheckSpec;
  const dialogues = resolveDialogues(raw.dialogues, problems);
  for (const [name, c] of Object.entries(raw.checks)) {
    const where = `checks.${name}`;
    const base = c.dialogue ?? c.module ?? ((BUILTIN_CHECK_NAMES as readonly string[]).includes(name) ? name : undefined);
    if (base === undefined) {
      problems.push(`${where}.module: is required for a check whose name is not a built-in (${BUILTIN_CHECK_NAMES.join(", ")})`);
      continue;
    }
    const b = c.dialogue !== undefined ? dialogueCheckBase(c, where, dialogues, problems) : BUILTIN_CHECKS[base]!;
    if (b === undefined) {
      // Reported already; a stand-in keeps the pools that name it from being reported again.
      checks[name] = { name, ...BUILTIN_CHECKS[BUILTIN_CHECK_NAMES[0]]! } as CheckSpec;
      continue;
    }
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
    let spec: CheckSpec = {
      ...b,
      ...stripUndefined({ ...c, module: undefined, dialogue: undefined, tlsRules: undefined }),
      name,
      tlsRules: { ...b.tlsRules, ...stripUndefined(tlsRest), ...(ca !== undefined ? { ca } : {}) },
    } as CheckSpec;
    if (spec.tlsRules.certExpiryFailDays > spec.tlsRules.certExpiryWarnDays) {
      problems.push(`${where}.tlsRules: certExpiryFailDays ${spec.tlsRules.certExpiryFailDays} is more than certExpiryWarnDays ${spec.tlsRules.certExpiryWarnDays}`);
    }
    if (spec.rcptTo !== undefined && spec.protocol !== "smtp") {
      problems.push(`${where}.rcptTo: is for SMTP checks; ${c.dialogue !== undefined ? `this one speaks the dialogue ${base}` : `${base} speaks ${spec.protocol}`}`);
    }
    if (c.dialogue !== undefined) spec = withDialogue(spec, c.dialogue, where, dialogues, problems);
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
    else if (normalizeName(p.name).split(".").includes("*")) {
      problems.push(
        `${where}.name: ${JSON.stringify(p.name)} is a wildcard name; a pool is one name that clients and MX records point at (a wildcard RRset would answer for every name below it)`,
      );
    }
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
    if (provider) {
      // Pool keys a provider declares (Route 53's recordStyle) that do not fit this pool's provider.
      for (const { key, message } of poolOptionProblems(p, { name: p.provider, type: String(provider.type) })) problems.push(`${where}.${key}: ${message}`);
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
      const ip = checkIpTakeover(m, address, mw, raw.ipTakeover ?? {}, problems);
      members.push({
        address,
        label: m.label ?? address,
        ...(standby !== undefined ? { standby } : {}),
        ...(m.serverName !== undefined ? { serverName: normalizeName(m.serverName) } : {}),
        ...ip,
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
      ...poolOptionValues(p),
      ...(p.schedule !== undefined ? { schedule: p.schedule } : {}),
    });
    if (p.schedule !== undefined && !validateCron(p.schedule)) {
      problems.push(`${where}.schedule: ${JSON.stringify(p.schedule)} is not a valid cron expression`);
    }
  });

  checkIpTakeoverAcrossPools(pools, problems);

  // A provider block that cannot work (no token, pools outside its zone) is a config error too.
  for (const [name, block] of Object.entries(raw.providers)) {
    if (standIns.has(block)) continue;
    const using = pools.filter((p) => p.provider === name).map((p) => p.name);
    for (const problem of checkProviderBlock(block, { env, pools: using })) {
      problems.push(`${formatPath(["providers", name, ...problem.path])}: ${problem.message}`);
    }
  }

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
    probeThreads: raw.probeThreads,
    proberIsolation: raw.proberIsolation,
    retry: raw.retry,
    daemon: raw.daemon,
    alerts: raw.alerts,
    providers: raw.providers,
    ipTakeover: resolveIpTakeoverBlocks(raw.ipTakeover ?? {}, problems),
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
