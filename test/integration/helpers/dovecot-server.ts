/**
 * A private Dovecot (IMAP and POP3): `dovecot -F -c <conf>` in the foreground, its base_dir,
 * state_dir and log in a folder the caller owns, listeners for imap, imaps, pop3 and pop3s on
 * one 127.0.0.x address and high ports, TLS with the test certificate, and a passwd-file user so
 * that authentication is configured as on a normal server. Dovecot binds any 127/8 address.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { probers } from "../../../src/probes/index.js";
import { connectionRefused, freePort } from "./free-port.js";
import { integrationCheck } from "./integration-check.js";
import { requireBinary, runCommand, spawnServer, tailLines, waitFor, type ServerProcess } from "./server-process.js";

export interface DovecotOptions {
  /** An empty folder for this instance. */
  readonly dir: string;
  /** The 127.0.0.x address every listener binds. */
  readonly host: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly startTimeoutMs?: number;
  /** Also LMTP and ManageSieve listeners (packages dovecot-lmtpd, dovecot-managesieved). */
  readonly lineProtocols?: boolean;
}

export interface DovecotServer {
  readonly host: string;
  readonly ports: { readonly imap: number; readonly imaps: number; readonly pop3: number; readonly pop3s: number; readonly lmtp?: number; readonly sieve?: number };
  readonly configFile: string;
  /** SIGTERM, then waits until its ports refuse connections. Idempotent. */
  stop(): Promise<void>;
  diagnostics(): string;
}

/** Writes dovecot.conf into `options.dir` and starts Dovecot; resolves once IMAP and POP3 both greet. */
export async function startDovecot(options: DovecotOptions): Promise<DovecotServer> {
  const dovecot = requireBinary("dovecot", "dovecot-core");
  const { dir, host } = options;
  const taken: number[] = [];
  const port = async () => {
    const p = await freePort([host], { avoid: taken });
    taken.push(p);
    return p;
  };
  const ports = { imap: await port(), imaps: await port(), pop3: await port(), pop3s: await port() };
  const lines = options.lineProtocols ? { lmtp: await port(), sieve: await port() } : undefined;
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  for (const sub of ["base", "state", "mail"]) mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
  const id = async (flag: string) => {
    const r = await runCommand(requireBinary("id", "coreutils"), [flag, "nobody"]);
    if (r.code !== 0) throw new Error(`id ${flag} nobody failed: ${r.stderr.trim()}`);
    return r.stdout.trim();
  };
  // One user, never used to log in: a passdb and a userdb make the auth service start as usual.
  writeFileSync(join(dir, "users"), `tester:{PLAIN}not-a-secret:${await id("-u")}:${await id("-g")}::${join(dir, "mail", "tester")}::\n`);
  const logFile = join(dir, "dovecot.log");
  const configFile = join(dir, "dovecot.conf");
  writeFileSync(
    configFile,
    `# written by test/integration/helpers/dovecot-server.ts
protocols = imap pop3${lines ? " lmtp sieve" : ""}
listen = ${host}
base_dir = ${join(dir, "base")}
state_dir = ${join(dir, "state")}
instance_name = mailpool-it-${ports.imap}
log_path = ${logFile}
info_log_path = ${logFile}
ssl = yes
ssl_cert = <${options.certFile}
ssl_key = <${options.keyFile}
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain
disable_plaintext_auth = no
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${join(dir, "users")}
}
userdb {
  driver = passwd-file
  args = ${join(dir, "users")}
}
service imap-login {
  inet_listener imap {
    port = ${ports.imap}
  }
  inet_listener imaps {
    port = ${ports.imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    port = ${ports.pop3s}
    ssl = yes
  }
}
${
  lines
    ? `service lmtp {
  inet_listener lmtp {
    port = ${lines.lmtp}
  }
}
service managesieve-login {
  inet_listener sieve {
    port = ${lines.sieve}
  }
}
`
    : ""
}`,
  );

  const proc: ServerProcess = spawnServer(`dovecot ${host}`, dovecot, ["-F", "-c", configFile]);
  const diagnostics = () => {
    const log = existsSync(logFile) ? tailLines(readFileSync(logFile, "utf8")) : "(no log was written)";
    return `--- ${logFile} (tail) ---\n${log}\n--- dovecot -F output ---\n${tailLines(proc.output()) || "(none)"}`;
  };
  const imap = integrationCheck("imap", ports.imap);
  const pop3 = integrationCheck("pop3", ports.pop3);
  await waitFor(
    `Dovecot on ${host} (imap ${ports.imap}, pop3 ${ports.pop3}; config ${configFile})`,
    async () => {
      const a = await probers.imap({ host, port: ports.imap }, imap, AbortSignal.timeout(5000));
      if (!a.ok) return { note: `imap: ${a.reason}` };
      const b = await probers.pop3({ host, port: ports.pop3 }, pop3, AbortSignal.timeout(5000));
      return b.ok ? { value: true } : { note: `pop3: ${b.reason}` };
    },
    {
      timeoutMs: options.startTimeoutMs ?? 30_000,
      intervalMs: 150,
      failedBecause: () => (proc.hasExited() ? `\`dovecot -F -c ${configFile}\` exited (exit code ${proc.child.exitCode ?? "by signal"})` : undefined),
      diagnostics,
    },
  );

  return {
    host,
    ports: { ...ports, ...lines },
    configFile,
    async stop() {
      if (proc.hasExited()) return;
      await proc.stop("SIGTERM", 10_000);
      await waitFor(
        `Dovecot on ${host} to stop`,
        async () => ((await connectionRefused(host, ports.imap)) ? { value: true } : { note: "still accepting connections" }),
        { timeoutMs: 10_000, diagnostics },
      );
    },
    diagnostics,
  };
}
