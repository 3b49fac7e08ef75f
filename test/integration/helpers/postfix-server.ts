/**
 * A private Postfix instance: its own config_directory (main.cf and master.cf written here),
 * queue and data directories and mail log, all in a folder the caller owns; smtpd on a
 * 127.0.0.x address and high ports, never port 25, never the system-wide instance.
 *
 * What makes Postfix run this way (found out on Debian 12, Postfix 3.7):
 * - As root, `postfix -c <dir>` needs no `alternate_config_directories` entry (that check is for
 *   unprivileged and set-gid callers) and no /etc/postfix/main.cf at all.
 * - `inet_interfaces` only accepts addresses configured on an interface, and lo has just
 *   127.0.0.1/8: 127.0.0.x is "no local interface found". So inet_interfaces is loopback-only
 *   and each smtpd listener names its address in master.cf (`127.0.0.x:port inet …`), which
 *   binds any 127/8 address.
 * - `postfix start-fg` keeps the master daemon in the foreground (`master -s`, as a child of
 *   postfix-script), so this process reaps it; a daemonised master would be re-parented to PID 1.
 *   `postfix -c <dir> stop` stops it.
 * - data_directory must be owned by the mail_owner (postfix), or master cannot create its lock.
 * - Without syslog, logs go to maillog_file (through the postlog service), which must sit under
 *   one of maillog_file_prefixes. The postfix command's own early fatal errors go to syslog, or
 *   to stderr only when stderr is a terminal.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { probers } from "../../../src/probes/index.js";
import { connectionRefused, freePort } from "./free-port.js";
import { integrationCheck } from "./integration-check.js";
import {
  forgetGroupAtExit,
  killGroupAtExit,
  requireBinary,
  runCommand,
  spawnServer,
  tailLines,
  waitFor,
  type ServerProcess,
} from "./server-process.js";

export interface PostfixOptions {
  /** An empty folder for this instance (config, queue, data, log). */
  readonly dir: string;
  /** The 127.0.0.x address smtpd listens on. */
  readonly host: string;
  /** myhostname, shown in the banner and the EHLO reply. */
  readonly hostname: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Plain SMTP port (STARTTLS offered); default: a free one. */
  readonly smtpPort?: number;
  /** Implicit-TLS port (smtpd_tls_wrappermode); default: a free one. */
  readonly smtpsPort?: number;
  /** A plain SMTP port with TLS switched off (no STARTTLS); default: a free one. */
  readonly noTlsPort?: number;
  /** How long to wait for the banner after starting. */
  readonly startTimeoutMs?: number;
}

export interface PostfixServer {
  readonly host: string;
  readonly hostname: string;
  readonly smtpPort: number;
  readonly smtpsPort: number;
  readonly noTlsPort: number;
  readonly configDir: string;
  readonly running: boolean;
  /** Starts it again after stop(). */
  start(): Promise<void>;
  /** `postfix stop`, then waits until its ports refuse connections. Idempotent. */
  stop(): Promise<void>;
  /** The mail log's last lines and the start command's output. */
  diagnostics(): string;
}

export const BANNER_TAG = "ESMTP mailpool-integration";

function mainCf(dir: string, o: PostfixOptions): string {
  return `# written by test/integration/helpers/postfix-server.ts
compatibility_level = 3.6
queue_directory = ${join(dir, "queue")}
data_directory = ${join(dir, "data")}
mail_owner = postfix
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = ${o.hostname}
mydomain = example.com
myorigin = $myhostname
mydestination =
relay_domains =
relayhost =
mynetworks = 127.0.0.1/32
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_banner = $myhostname ${BANNER_TAG}
maillog_file = ${join(dir, "postfix.log")}
maillog_file_prefixes = ${dir}
smtpd_tls_cert_file = ${o.certFile}
smtpd_tls_key_file = ${o.keyFile}
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtp_tls_security_level = none
`;
}

function masterCf(host: string, smtpPort: number, smtpsPort: number, noTlsPort: number): string {
  return `# written by test/integration/helpers/postfix-server.ts; no chroot, no port 25
${host}:${smtpPort} inet n - n - - smtpd
${host}:${smtpsPort} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
${host}:${noTlsPort} inet n - n - - smtpd
  -o smtpd_tls_security_level=none
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
`;
}

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * The postfix command writes its early fatal errors (a bad main.cf parameter, before any log
 * file is open) to syslog, or to stderr only when stderr is a terminal: `postfix check`, run
 * under script(1) for a terminal, shows them. Best effort: empty when script is not installed.
 */
async function earlyErrors(postfix: string, configDir: string): Promise<string> {
  let script: string;
  try {
    script = requireBinary("script", "bsdutils");
  } catch {
    return "";
  }
  const command = `${shellQuote(postfix)} -c ${shellQuote(configDir)} check`;
  const result = await runCommand(script, ["-qec", command, "/dev/null"], 20_000);
  const said = `${result.stdout}${result.stderr}`.replace(/\r/g, "").trim();
  return `\n--- postfix -c ${configDir} check (exit ${result.code}, run in a terminal) ---\n${tailLines(said) || "(nothing)"}`;
}

/** Writes the instance's configuration into `options.dir` and starts it; resolves once it greets. */
export async function startPostfix(options: PostfixOptions): Promise<PostfixServer> {
  const postfix = requireBinary("postfix", "postfix");
  const chown = requireBinary("chown", "coreutils");
  const { dir, host } = options;
  const smtpPort = options.smtpPort ?? (await freePort([host]));
  const smtpsPort = options.smtpsPort ?? (await freePort([host], { avoid: [smtpPort] }));
  const noTlsPort = options.noTlsPort ?? (await freePort([host], { avoid: [smtpPort, smtpsPort] }));
  const configDir = join(dir, "conf");
  const logFile = join(dir, "postfix.log");
  // Postfix's daemons run as the postfix user: the folders on the way must be searchable.
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  for (const sub of ["conf", "queue", "data"]) mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
  const owned = await runCommand(chown, ["postfix:postfix", join(dir, "data")]);
  if (owned.code !== 0) throw new Error(`chown postfix:postfix ${join(dir, "data")} failed: ${owned.stderr.trim()}`);
  writeFileSync(join(configDir, "main.cf"), mainCf(dir, options));
  writeFileSync(join(configDir, "master.cf"), masterCf(host, smtpPort, smtpsPort, noTlsPort));

  let proc: ServerProcess | undefined;
  let masterPid: number | undefined;
  let lastStop = "";

  const diagnostics = () => {
    const log = existsSync(logFile) ? tailLines(readFileSync(logFile, "utf8")) : "(no mail log was written)";
    return `--- ${logFile} (tail) ---\n${log}\n--- postfix start-fg output ---\n${tailLines(proc?.output() ?? "") || "(none)"}${lastStop}`;
  };

  const start = async () => {
    if (proc && !proc.hasExited()) return;
    const started = spawnServer(`postfix ${host}`, postfix, ["-c", configDir, "start-fg"]);
    proc = started;
    const check = integrationCheck("smtp", smtpPort);
    await waitFor(
      `Postfix on ${host}:${smtpPort} (config ${configDir})`,
      async () => {
        const obs = await probers.smtp({ host, port: smtpPort }, check, AbortSignal.timeout(5000));
        return obs.ok && obs.greeting?.includes(BANNER_TAG) ? { value: obs } : { note: obs.ok ? `greeting ${obs.greeting}` : obs.reason };
      },
      {
        timeoutMs: options.startTimeoutMs ?? 30_000,
        intervalMs: 150,
        failedBecause: () => (started.hasExited() ? `\`postfix -c ${configDir} start-fg\` exited (exit code ${started.child.exitCode ?? "by signal"})` : undefined),
        diagnostics: async () => diagnostics() + (started.hasExited() ? await earlyErrors(postfix, configDir) : ""),
      },
    );
    const pidFile = join(dir, "queue", "pid", "master.pid");
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0) {
      masterPid = pid;
      killGroupAtExit(pid);
    }
  };

  const stop = async () => {
    const running = proc;
    if (!running || running.hasExited()) return;
    const result = await runCommand(postfix, ["-c", configDir, "stop"], 20_000);
    lastStop = `\n--- postfix stop (exit ${result.code}) ---\n${result.stdout}${result.stderr}`;
    // postfix-script waits up to 5 s, then kills the master's process group itself.
    await Promise.race([running.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    await running.stop("SIGKILL", 2000);
    await waitFor(
      `Postfix on ${host}:${smtpPort} to stop`,
      async () => ((await connectionRefused(host, smtpPort)) ? { value: true } : { note: "still accepting connections" }),
      { timeoutMs: 10_000, intervalMs: 100, diagnostics },
    );
    if (masterPid !== undefined) forgetGroupAtExit(masterPid);
  };

  await start();
  return {
    host,
    hostname: options.hostname,
    smtpPort,
    smtpsPort,
    noTlsPort,
    configDir,
    get running() {
      return proc !== undefined && !proc.hasExited();
    },
    start,
    stop,
    diagnostics,
  };
}
