/**
 * `mailpool demo`: the whole product on one machine with nothing installed. Throwaway SMTP, IMAP
 * and POP3 listeners on 127.0.0.x, a temporary zone file, the real controller (probes, judge,
 * plan, guard, zone-file provider). A member is killed and leaves the zone; it comes back and
 * returns. A member with a standby dies and the standby takes its place; it comes back and the
 * standby steps aside. Ends by itself.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../config/load.js";
import { runCycle, type CycleReport } from "../controller/cycle.js";
import { createRuntime } from "../controller/runtime.js";
import { HysteresisJudge } from "../health/hysteresis.js";
import { createLogger } from "../log.js";
import { renderText } from "../plan/render.js";
import { sleep } from "../util/rate-limiter.js";
import { startListenersOnOnePort, type MailListener, type MailProtocol } from "./mail-listener.js";

export interface DemoOptions {
  readonly out: NodeJS.WritableStream;
  readonly color?: boolean;
  /** Pause between cycles (ms). */
  readonly intervalMs?: number;
  /** Give up after this long (ms). */
  readonly deadlineMs?: number;
}

const ZONE = "demo.example";

interface DemoPool {
  readonly name: string;
  readonly protocol: MailProtocol;
  readonly hosts: readonly string[];
  /** member → standby that takes its place while it is down */
  readonly standbys?: Readonly<Record<string, string>>;
}

const POOLS: readonly DemoPool[] = [
  { name: `smtp.${ZONE}`, protocol: "smtp", hosts: ["127.0.0.11", "127.0.0.12", "127.0.0.13"] },
  { name: `imap.${ZONE}`, protocol: "imap", hosts: ["127.0.0.21", "127.0.0.22"], standbys: { "127.0.0.22": "127.0.0.29" } },
  { name: `pop3.${ZONE}`, protocol: "pop3", hosts: ["127.0.0.31", "127.0.0.32"] },
];

/** Every address a pool listens on: members and standbys. */
const listening = (p: DemoPool): string[] => [...p.hosts, ...Object.values(p.standbys ?? {})];

export async function runDemo(opts: DemoOptions): Promise<number> {
  const say = (s = "") => opts.out.write(`${s}\n`);
  const interval = opts.intervalMs ?? 400;
  const deadline = Date.now() + (opts.deadlineMs ?? 60_000);
  const dir = await mkdtemp(join(tmpdir(), "mailpool-demo-"));
  const listeners = new Map<string, MailListener>();
  const ac = new AbortController();
  try {
    say("mailpool demo: a throwaway mail service on 127.0.0.x, a temporary zone file, the real controller.");
    const ports: Record<string, number> = {};
    for (const pool of POOLS) {
      const started = await startListenersOnOnePort(pool.protocol, listening(pool));
      ports[pool.protocol] = started[0]!.port;
      for (const l of started) listeners.set(l.host, l);
      const standbys = Object.entries(pool.standbys ?? {}).map(([m, s]) => ` (standby ${s} for ${m})`).join("");
      say(`  ${pool.protocol.toUpperCase().padEnd(4)} listeners ${pool.hosts.join(", ")}${standbys} on port ${ports[pool.protocol]} for ${pool.name}`);
    }
    const zonePath = join(dir, `${ZONE}.zone`);
    await writeFile(zonePath, demoZone());
    say(`  zone file ${zonePath}`);
    const config = parseConfig(demoConfig(zonePath, ports), { env: {} });
    const runtime = createRuntime(config, createLogger("silent"));
    const judge = new HysteresisJudge();
    let cycles = 0;
    const cycle = async (): Promise<CycleReport> => {
      if (Date.now() > deadline) throw new Error("the demo took too long; giving up");
      cycles += 1;
      const report = await runCycle(runtime, { dryRun: false, judge, signal: ac.signal });
      const failed = report.results.find((r) => r.error);
      if (failed) throw failed.error;
      return report;
    };
    const until = async (what: string, done: () => Promise<boolean>) => {
      for (;;) {
        const report = await cycle();
        const changed = report.results.some((r) => r.applied);
        if (changed) {
          say(`\n--- cycle ${cycles}: the controller changed the zone ---`);
          say(renderText(report, { color: opts.color ?? false, changedOnly: true }).trimEnd());
        }
        if (await done()) return;
        say(`  cycle ${cycles}: ${what}…`);
        await sleep(interval, ac.signal);
      }
    };
    const poolLines = async (label: string) =>
      (await readFile(zonePath, "utf8")).split("\n").filter((l) => new RegExp(`^${label}(\\.demo\\.example\\.)?\\s.*\\sA\\s`).test(l));
    const show = async (label: string) => {
      say(`  ${label} records in the zone now:`);
      for (const l of await poolLines(label)) say(`    ${l}`);
    };
    const inZone = async (address: string) => (await readFile(zonePath, "utf8")).includes(address);

    say("\n1. Every member answers its handshake; the judge needs `rise` passes before it trusts them.");
    await until("members still being judged", async () => config.pools.every((p) => p.members.every((m) => judge.verdict(p.name, m.address).health === "up")));
    say(`  all ${config.pools.reduce((n, p) => n + p.members.length, 0)} members are up; the zone is already right, nothing to change.`);

    const victim = listeners.get("127.0.0.12")!;
    say("\n2. Killing the SMTP member 127.0.0.12 (its listener stops; connections are refused).");
    await victim.stop();
    await until("waiting for `fall` failed probes", async () => !(await inZone("127.0.0.12")));
    await show("smtp");

    say("\n3. Bringing 127.0.0.12 back.");
    await victim.start();
    await until("waiting for `rise` passed probes", () => inZone("127.0.0.12"));
    await show("smtp");

    const imap2 = listeners.get("127.0.0.22")!;
    say("\n4. Killing the IMAP member 127.0.0.22, which has a standby: 127.0.0.29 takes its place (takeover).");
    await imap2.stop();
    await until("waiting for `fall` failed probes", async () => !(await inZone("127.0.0.22")) && (await inZone("127.0.0.29")));
    await show("imap");

    say("\n5. Bringing 127.0.0.22 back: it returns and the standby steps aside (restore).");
    await imap2.start();
    await until("waiting for `rise` passed probes", async () => (await inZone("127.0.0.22")) && !(await inZone("127.0.0.29")));
    await show("imap");

    await runtime.close();
    say(`\nDone in ${cycles} cycles. Next: copy config/example.yaml, point it at your pools, check it with \`mailpool validate -c FILE\`, then dry-run it with \`mailpool plan -c FILE\`.`);
    return 0;
  } catch (err) {
    say(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    ac.abort();
    await Promise.all([...listeners.values()].map((l) => l.stop().catch(() => undefined)));
    await rm(dir, { recursive: true, force: true });
  }
}

function demoZone(): string {
  const lines = [
    `$ORIGIN ${ZONE}.`,
    "$TTL 3600",
    `@   IN SOA ns1.${ZONE}. hostmaster.${ZONE}. (`,
    "        2026010101 ; serial",
    "        3600 900 604800 300 )",
    `    IN NS  ns1.${ZONE}.`,
    `    IN MX  10 smtp.${ZONE}.`,
    "ns1 IN A   127.0.0.53",
    "; the pools mailpool keeps true (marked with _mailpool TXT records)",
  ];
  for (const p of POOLS) {
    const label = p.name.split(".")[0]!;
    for (const h of p.hosts) lines.push(`${label} 300 IN A ${h}`);
    lines.push(`_mailpool.${label} 300 IN TXT "mailpool owner=demo"`);
  }
  return lines.join("\n") + "\n";
}

function demoConfig(zonePath: string, ports: Record<string, number>): string {
  return `
controllerId: demo
defaults: { ttl: 300, rise: 2, fall: 2 }
providers:
  zone:
    type: zonefile
    path: ${JSON.stringify(zonePath)}
checks:
${POOLS.map(({ protocol: p }) => `  demo-${p}: { module: ${p}, port: ${ports[p]}, connectTimeoutMs: 1000, timeoutMs: 2000 }`)
  .join("\n")}
pools:
${POOLS.map(
  (p) => `  - name: ${p.name}
    provider: zone
    checks: [demo-${p.protocol}]
    members:
${p.hosts
  .map((h) => {
    const standby = p.standbys?.[h];
    return `      - { address: ${h}, label: ${p.protocol}${h.slice(-1)}${standby ? `, standby: ${standby}` : ""} }`;
  })
  .join("\n")}`,
).join("\n")}
`;
}
