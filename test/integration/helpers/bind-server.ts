/**
 * A private BIND: `named -g -c <named.conf>` in the foreground, as root (no `-u`: its files are
 * root's, in a folder the caller owns), authoritative only (recursion no), one primary zone from
 * a zone file in that folder, and an rndc control channel with a key made by tsig-keygen.
 *
 * named listens only on addresses configured on an interface (it scans them and matches
 * listen-on against them); lo has only 127.0.0.1/8, so queries go to 127.0.0.1 on a free high
 * port. The control channel binds its address directly, so it may use any 127.0.0.x. Never
 * port 53, never 0.0.0.0, never IPv6.
 *
 * For dynamic updates (RFC 2136), callers add TSIG keys (`keys`), statements inside the zone
 * block (`zoneStatements`: `update-policy { … };`, `dnssec-policy default; inline-signing yes;`)
 * and further zones (`extraZones`). Zone files live in the caller's folder, which named can
 * write: its journals (.jnl) and signed copies go next to them.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { execFile } from "node:child_process";
import { requireBinary, runCommand, spawnServer, tailLines, waitFor, type CommandResult } from "./server-process.js";

/** Runs `file args` with `input` on its standard input (no shell), bounded to 20 s. */
function runCommandWithInput(file: string, args: readonly string[], input: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: 20_000, killSignal: "SIGKILL", encoding: "utf8" }, (e, stdout, stderr) => {
      const code = e ? (typeof e.code === "number" ? e.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

/** A TSIG key named knows (written as a `key` statement). */
export interface TsigKeySpec {
  readonly name: string;
  readonly algorithm: "hmac-sha256" | "hmac-sha512" | "hmac-sha1";
  /** base64 */
  readonly secret: string;
}

export interface BindOptions {
  /** An empty folder: named.conf, the key, the zone file, named's working files. */
  readonly dir: string;
  /** The zone apex, e.g. example.com. */
  readonly zone: string;
  /** The zone file's text. */
  readonly zoneText: string;
  /** Address for queries (default 127.0.0.1, see above). */
  readonly host?: string;
  /** Port for queries (default: a free one); give one to share it with relays on other 127.0.0.x. */
  readonly port?: number;
  /** More primary zones served next to `zone` (e.g. reverse zones, one zone per test case). */
  readonly extraZones?: readonly ZoneSpec[];
  /**
   * Views chosen by the query's source address (match-clients), checked in order before the
   * default view that holds `zone` and `extraZones`. A view with other zones, or none, lets one
   * named answer differently to a relay that forwards from its own 127.0.0.x address: a stale
   * copy of a zone, or REFUSED as a server that does not carry it does.
   */
  readonly views?: readonly { readonly name: string; readonly matchClients: readonly string[]; readonly zones: readonly ZoneSpec[] }[];
  /** Address of the rndc control channel (default: host); any 127.0.0.x works. */
  readonly controlHost?: string;
  readonly startTimeoutMs?: number;
  /** TSIG keys for updates and queries (besides the rndc key). */
  readonly keys?: readonly TsigKeySpec[];
  /** Statements inside the primary zone's block, e.g. `update-policy { grant … };`. */
  readonly zoneStatements?: string;
}

/** A primary zone from its own file in `dir`. */
export interface ZoneSpec {
  readonly zone: string;
  readonly text: string;
  /** Statements inside its zone block (update-policy, dnssec-policy, inline-signing …). */
  readonly statements?: string;
}

export interface BindServer {
  readonly host: string;
  readonly controlHost: string;
  /** The rndc key's name (in keyFile). */
  readonly keyName: string;
  readonly port: number;
  readonly controlPort: number;
  readonly keyFile: string;
  readonly zoneFile: string;
  /** `rndc -s controlHost -p controlPort -k keyFile <args>`, as an argv (absolute rndc path first). */
  rndcArgv(...args: string[]): string[];
  /** `dig +short @host -p port name type`: the answer's values, sorted. */
  dig(name: string, type: string): Promise<string[]>;
  /** The SOA serial named serves now. */
  serial(): Promise<number>;
  /** `named-checkzone <zone> <zoneFile>`. */
  checkZone(): Promise<CommandResult>;
  /** The zone file of `zone` (the primary one or one of extraZones). */
  zoneFileOf(zone: string): string;
  /** `dig @host -p port <args>` (no +short), the whole run. */
  digRaw(...args: string[]): Promise<CommandResult>;
  /** `nsupdate [-v] -y alg:name:secret` fed `server host port` and then `script`. */
  nsupdate(key: TsigKeySpec, script: string, options?: { tcp?: boolean }): Promise<CommandResult>;
  stop(): Promise<void>;
  /** What named has logged so far (-g logs to stderr), the last 16 KiB. */
  log(): string;
  diagnostics(): string;
}

/** Writes a TSIG key statement for `name` (hmac-sha256, fresh secret) to `file`, made by tsig-keygen. */
export async function makeTsigKey(file: string, name: string): Promise<void> {
  const key = await runCommand(requireBinary("tsig-keygen", "bind9"), ["-a", "hmac-sha256", name]);
  if (key.code !== 0) throw new Error(`tsig-keygen failed: ${key.stderr.trim()}`);
  writeFileSync(file, key.stdout, { mode: 0o600 });
}

export async function startBind(options: BindOptions): Promise<BindServer> {
  const named = requireBinary("named", "bind9");
  const rndc = requireBinary("rndc", "bind9-utils");
  const dig = requireBinary("dig", "bind9-dnsutils");
  const checkzone = requireBinary("named-checkzone", "bind9-utils");
  const { dir, zone } = options;
  const host = options.host ?? "127.0.0.1";
  const controlHost = options.controlHost ?? host;
  const port = options.port ?? (await freePort([host], { udp: true }));
  const controlPort = await freePort([controlHost], { avoid: [port] });
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const keyFile = join(dir, "rndc.key");
  const zoneFile = join(dir, `${zone}.zone`);
  const confFile = join(dir, "named.conf");
  const keyName = "mailpool-it-rndc";
  await makeTsigKey(keyFile, keyName);
  writeFileSync(zoneFile, options.zoneText);
  const keysFile = join(dir, "tsig.keys");
  writeFileSync(keysFile, (options.keys ?? []).map((k) => `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };\n`).join(""), { mode: 0o600 });
  const nsupdateBin = options.keys?.length ? requireBinary("nsupdate", "bind9-dnsutils") : undefined;
  /** The default view's file of each zone (zoneFileOf). */
  const zoneFiles = new Map<string, string>([[zone, zoneFile]]);
  const zoneStatement = (z: ZoneSpec, view?: string) => {
    const file = join(dir, `${view ? `${view}-` : ""}${z.zone}.zone`);
    writeFileSync(file, z.text);
    if (!view) zoneFiles.set(z.zone, file);
    return `zone "${z.zone}" {\n  type primary;\n  file "${file}";\n  key-directory "${dir}";\n${z.statements ?? ""}\n};\n`;
  };
  const mainZones =
    `zone "${zone}" {\n  type primary;\n  file "${zoneFile}";\n${options.zoneStatements ?? ""}\n};\n` +
    (options.extraZones ?? []).map((z) => zoneStatement(z)).join("");
  const zonesText = options.views?.length
    ? options.views
        .map((v) => `view "${v.name}" {\n  match-clients { ${v.matchClients.map((c) => `${c}; `).join("")}};\n${v.zones.map((z) => zoneStatement(z, v.name)).join("")}};\n`)
        .join("") + `view "default" {\n  match-clients { any; };\n${mainZones}};\n`
    : mainZones;
  writeFileSync(
    confFile,
    `// written by test/integration/helpers/bind-server.ts
include "${keyFile}";
include "${keysFile}";
options {
  directory "${dir}";
  pid-file "${join(dir, "named.pid")}";
  session-keyfile "${join(dir, "session.key")}";
  managed-keys-directory "${dir}";
  listen-on port ${port} { ${host}; };
  listen-on-v6 { none; };
  recursion no;
  allow-query { 127.0.0.0/8; };
  allow-transfer { none; };
  dnssec-validation no;
  notify no;
};
controls {
  inet ${controlHost} port ${controlPort} allow { 127.0.0.0/8; } keys { "${keyName}"; };
};
${zonesText}`,
  );

  const proc = spawnServer(`named ${host}:${port}`, named, ["-g", "-c", confFile]);
  const diagnostics = () => `--- named -g output (tail) ---\n${tailLines(proc.output(), 60) || "(none)"}`;
  const digArgs = (name: string, type: string) => ["+short", "+time=1", "+tries=2", `@${host}`, "-p", String(port), name, type];
  const server: BindServer = {
    host,
    controlHost,
    keyName,
    port,
    controlPort,
    keyFile,
    zoneFile,
    rndcArgv: (...args) => [rndc, "-s", controlHost, "-p", String(controlPort), "-k", keyFile, ...args],
    async dig(name, type) {
      const r = await runCommand(dig, digArgs(name, type), 10_000);
      if (r.code !== 0) throw new Error(`dig ${digArgs(name, type).join(" ")} failed (${r.code}): ${r.stdout}${r.stderr}\n${diagnostics()}`);
      return r.stdout.split("\n").map((l) => l.trim()).filter(Boolean).sort();
    },
    async serial() {
      const [soa] = await server.dig(zone, "SOA");
      const serial = Number(soa?.split(/\s+/)[2]);
      if (!Number.isInteger(serial)) throw new Error(`no SOA serial for ${zone} from ${host}:${port}: ${JSON.stringify(soa)}`);
      return serial;
    },
    checkZone: () => runCommand(checkzone, [zone, zoneFile]),
    zoneFileOf(name) {
      const file = zoneFiles.get(name);
      if (file === undefined) throw new Error(`named serves no zone ${name} here`);
      return file;
    },
    digRaw: (...args) => runCommand(dig, ["+time=1", "+tries=2", `@${host}`, "-p", String(port), ...args], 10_000),
    async nsupdate(key, script, opts = {}) {
      if (nsupdateBin === undefined) throw new Error("startBind was given no TSIG keys, so nsupdate has none to sign with");
      const input = `server ${host} ${port}\n${script.trim()}\n`;
      return runCommandWithInput(nsupdateBin, [...(opts.tcp ? ["-v"] : []), "-t", "5", "-y", `${key.algorithm}:${key.name}:${key.secret}`], input);
    },
    log: () => proc.output(),
    async stop() {
      await proc.stop("SIGTERM", 10_000);
    },
    diagnostics,
  };

  await waitFor(
    `named on ${host}:${port} (config ${confFile})`,
    async () => {
      const r = await runCommand(dig, digArgs(zone, "SOA"), 5000);
      if (r.code !== 0 || r.stdout.trim() === "") return { note: `dig SOA: exit ${r.code} ${(r.stdout + r.stderr).trim()}` };
      const status = await runCommand(rndc, server.rndcArgv("status").slice(1), 5000);
      return status.code === 0 ? { value: true } : { note: `rndc status: exit ${status.code} ${status.stderr.trim()}` };
    },
    {
      timeoutMs: options.startTimeoutMs ?? 30_000,
      intervalMs: 150,
      failedBecause: () => (proc.hasExited() ? `\`named -g -c ${confFile}\` exited (exit code ${proc.child.exitCode ?? "by signal"})` : undefined),
      diagnostics,
    },
  );
  return server;
}
