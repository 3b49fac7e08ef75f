/**
 * `mailpool lint` against real BIND: named on 127.0.0.1 serves one zone per misconfiguration and
 * one clean zone (which must give no finding at all), plus offsite.test (the "other operator's"
 * name servers and MX hosts) and the reverse zones of 127.0.0.0–127.0.4.255. The project's own SMTP
 * listeners are the fallback MX hosts: one accepts RCPT for every domain, one refuses relay
 * with 550. UDP relays on other 127.0.x.y addresses at named's port stand in for name servers in
 * other networks (named binds only 127.0.0.1); they forward to named from their own address, so
 * named's views answer them REFUSED (a lame server) or from a stale copy of a zone.
 * Needs root and bind9 (scripts/install-integration-deps.sh); fails without them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMailListener, type MailListener } from "../../src/demo/mail-listener.js";
import { startBind, type BindServer, type ZoneSpec } from "./helpers/bind-server.js";
import { startDnsRelay, type DnsRelay } from "./helpers/dns-relay.js";
import { freePort } from "./helpers/free-port.js";
import { requireBuiltCli, runCli, shown, type CliRun } from "./helpers/run-cli.js";

const SERIAL = 2026010101;
const STALE_SERIAL = 2025120101;

/** Name servers: named itself, and relays in front of it. */
const NS = {
  named: "127.0.0.1",
  offsite: "127.0.1.2", // ns.offsite.test: another network, another operator
  near: "127.0.0.2", // ns-near.offsite.test: another operator, same /24 as named
  lame: "127.0.2.3", // ns-lame.offsite.test: named's "lame" view has no zones → REFUSED
  stale: "127.0.3.4", // ns-stale.offsite.test: named's "stale" view has an old serial
  dead: "127.0.4.5", // ns-dead.offsite.test: nothing listens there
} as const;
/** Fallback MX listeners. */
const MX = { offsite: "127.0.1.21", strict: "127.0.2.21", near: "127.0.0.99" } as const;
/** A fallback MX address where nothing listens. */
const DEAD_MX = "127.0.4.21";

interface Case {
  readonly domain: string;
  /** Finding ids expected, sorted, duplicates removed; [] for the clean zone. */
  readonly expected: readonly string[];
  readonly zone: Partial<ZoneParts>;
  /** Reverse record for the primary MX address; null: none; default mx1.<domain>. */
  readonly ptr?: string | null;
}

interface ZoneParts {
  ns: string[];
  mx: string[];
  hosts: string[];
  srv: string[];
  extra: string[];
}

const CASES: readonly Case[] = [
  { domain: "clean.test", expected: [], zone: {} },
  { domain: "mx-cname.test", expected: ["mx-cname"], zone: { mx: ["10 mail", "20 mx.offsite.test."], extra: ["mail CNAME mx1"] } },
  { domain: "mx-no-address.test", expected: ["mx-no-address"], zone: { mx: ["10 mx1", "15 nothing", "20 mx.offsite.test."] } },
  { domain: "mx-address-literal.test", expected: ["mx-address-literal"], zone: { mx: ["10 mx1", "15 192.0.2.25.", "20 mx.offsite.test."] } },
  { domain: "mx-null.test", expected: ["mx-null"], zone: { mx: ["0 ."] } },
  { domain: "mx-missing.test", expected: ["mx-missing"], zone: { mx: [] } },
  { domain: "mx-single.test", expected: ["mx-single"], zone: { mx: ["10 mx1"] } },
  { domain: "mx-one-network.test", expected: ["mx-one-network"], zone: { mx: ["10 mx1", "20 mx-near.offsite.test."] } },
  { domain: "mx-one-provider.test", expected: ["mx-one-provider"], zone: { mx: ["10 mx1", "20 mx2"], extra: [`mx2 300 A ${MX.offsite}`] } },
  { domain: "mx-fallback-refuses.test", expected: ["mx-fallback-refuses"], zone: { mx: ["10 mx1", "20 mx-strict.offsite.test."] } },
  {
    domain: "service-name-missing.test",
    expected: ["service-name-missing"],
    zone: { hosts: ["mx1", "smtp"], srv: ["_submission._tcp SRV 0 1 587 smtp", "_imap._tcp SRV 0 1 143 mx1", "_imaps._tcp SRV 0 1 993 mx1", "_pop3s._tcp SRV 0 0 0 ."] },
  },
  { domain: "service-name-is-mx.test", expected: ["service-name-is-mx"], zone: { mx: ["10 smtp", "20 mx.offsite.test."] } },
  { domain: "srv-missing.test", expected: ["srv-missing"], zone: { srv: [] } },
  {
    domain: "srv-target-unresolvable.test",
    expected: ["srv-target-unresolvable"],
    zone: { srv: ["_submission._tcp SRV 0 1 587 smtp", "_imap._tcp SRV 0 1 143 imap", "_imaps._tcp SRV 0 1 993 nowhere", "_pop3s._tcp SRV 0 0 0 ."] },
  },
  { domain: "ttl-too-long.test", expected: ["ttl-too-long"], zone: { extra: ["$TTL 3600"] } },
  { domain: "ttl-too-short.test", expected: ["ttl-too-short"], zone: { hosts: ["smtp", "imap"], extra: ["mx1 60 A {addr}"] } },
  { domain: "ns-too-few.test", expected: ["ns-too-few"], zone: { ns: ["ns1"] } },
  { domain: "ns-one-network.test", expected: ["ns-one-network"], zone: { ns: ["ns1", "ns-near.offsite.test."] } },
  { domain: "ns-one-provider.test", expected: ["ns-one-provider"], zone: { ns: ["ns1", "ns2"], extra: [`ns2 A ${NS.offsite}`] } },
  { domain: "ns-lame.test", expected: ["ns-lame"], zone: { ns: ["ns1", "ns.offsite.test.", "ns-lame.offsite.test."] } },
  { domain: "ns-silent.test", expected: ["ns-lame"], zone: { ns: ["ns1", "ns.offsite.test.", "ns-dead.offsite.test."] } },
  { domain: "mx-fallback-unreachable.test", expected: ["mx-fallback-unreachable"], zone: { mx: ["10 mx1", "20 mx-dead.offsite.test."] } },
  { domain: "ns-serial-mismatch.test", expected: ["ns-serial-mismatch"], zone: { ns: ["ns1", "ns.offsite.test.", "ns-stale.offsite.test."] } },
  { domain: "ptr-missing.test", expected: ["ptr-missing"], zone: {}, ptr: null },
  { domain: "ptr-not-forward-confirmed.test", expected: ["ptr-not-forward-confirmed"], zone: {}, ptr: "mx1.clean.test." },
];

/** The primary MX (and service names') address of case i: 127.0.0.20+i. */
const addressOf = (i: number) => `127.0.0.${20 + i}`;

function zoneText(c: Case, i: number, serial = SERIAL): string {
  const z: ZoneParts = {
    ns: ["ns1", "ns.offsite.test."],
    mx: ["10 mx1", "20 mx.offsite.test."],
    hosts: ["mx1", "smtp", "imap"],
    srv: ["_submission._tcp SRV 0 1 587 smtp", "_imap._tcp SRV 0 1 143 imap", "_imaps._tcp SRV 0 1 993 imap", "_pop3s._tcp SRV 0 0 0 ."],
    extra: [],
    ...c.zone,
  };
  const addr = addressOf(i);
  // In ttl-too-long, "$TTL 3600" comes before the hosts, which then carry no TTL of their own.
  const ttl = z.extra.includes("$TTL 3600") ? "" : "300 ";
  return [
    `$ORIGIN ${c.domain}.`,
    "$TTL 3600",
    `@ IN SOA ns1 hostmaster ( ${serial} 3600 900 604800 300 )`,
    ...z.ns.map((n) => `@ IN NS ${n}`),
    ...z.mx.map((m) => `@ IN MX ${m}`),
    `ns1 IN A ${NS.named}`,
    ...z.srv,
    ...z.extra.map((e) => e.replace("{addr}", addr)),
    ...z.hosts.map((h) => `${h} ${ttl}IN A ${addr}`),
    "",
  ].join("\n");
}

const OFFSITE = `$ORIGIN offsite.test.
$TTL 3600
@ IN SOA ns hostmaster ( ${SERIAL} 3600 900 604800 300 )
@ IN NS ns
ns IN A ${NS.offsite}
ns-near IN A ${NS.near}
ns-lame IN A ${NS.lame}
ns-stale IN A ${NS.stale}
ns-dead IN A ${NS.dead}
mx-dead 300 IN A ${DEAD_MX}
mx 300 IN A ${MX.offsite}
mx-strict 300 IN A ${MX.strict}
mx-near 300 IN A ${MX.near}
`;

/** Reverse zones x.0.127.in-addr.arpa, with the PTRs of every case's primary MX and the fallbacks. */
function reverseZones(): ZoneSpec[] {
  const ptrs = new Map<string, string[]>();
  const add = (address: string, name: string) => {
    const [, , c = "", d = ""] = address.split(".");
    ptrs.set(c, [...(ptrs.get(c) ?? []), `${d} IN PTR ${name}`]);
  };
  CASES.forEach((c, i) => {
    if (c.ptr !== null) add(addressOf(i), c.ptr ?? `mx1.${c.domain}.`);
  });
  add(MX.offsite, "mx.offsite.test.");
  add(MX.strict, "mx-strict.offsite.test.");
  add(MX.near, "mx-near.offsite.test.");
  add(DEAD_MX, "mx-dead.offsite.test.");
  return ["0", "1", "2", "3", "4"].map((c) => ({
    zone: `${c}.0.127.in-addr.arpa`,
    text: `$TTL 3600\n@ IN SOA ns.offsite.test. hostmaster.offsite.test. ( ${SERIAL} 3600 900 604800 300 )\n@ IN NS ns.offsite.test.\n${(ptrs.get(c) ?? []).join("\n")}\n`,
  }));
}

interface Report {
  domains: { domain: string; findings: { id: string; severity: string; subject: string; message: string; evidence: string[]; fix: string; rfc: string }[]; queries: { used: number; limit: number }; rcptChecks: number }[];
  summary: Record<string, number>;
}

let dir: string;
let bind: BindServer | undefined;
let dnsPort = 0;
let smtpPort = 0;
const relays: DnsRelay[] = [];
const listeners: Record<keyof typeof MX, MailListener | undefined> = { offsite: undefined, strict: undefined, near: undefined };
let all: CliRun;
let report: Report;

const lintArgs = () => ["--resolver", `127.0.0.1:${dnsPort}`, "--ns-port", String(dnsPort), "--smtp-port", String(smtpPort), "--timeout", "2000", "--ehlo-name", "lint.mailpool.test"];
const findingsOf = (domain: string) => {
  const d = report.domains.find((x) => x.domain === domain);
  if (!d) throw new Error(`no report for ${domain}:\n${shown(all)}`);
  return d.findings;
};

beforeAll(async () => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "mailpool-it-lint-"));
  const relayHosts = [NS.offsite, NS.near, NS.lame, NS.stale];
  dnsPort = await freePort([NS.named, ...relayHosts], { udp: true });
  smtpPort = await freePort(Object.values(MX));
  listeners.offsite = await startMailListener({ protocol: "smtp", host: MX.offsite, port: smtpPort, hostname: "mx.offsite.test" });
  listeners.near = await startMailListener({ protocol: "smtp", host: MX.near, port: smtpPort, hostname: "mx-near.offsite.test" });
  listeners.strict = await startMailListener({
    protocol: "smtp",
    host: MX.strict,
    port: smtpPort,
    hostname: "mx-strict.offsite.test",
    behaviour: { rcptDomains: ["offsite.test"] },
  });
  const [first, ...rest] = CASES.map((c, i) => ({ zone: c.domain, text: zoneText(c, i) }));
  const serialCase = CASES.findIndex((c) => c.domain === "ns-serial-mismatch.test");
  bind = await startBind({
    dir: join(dir, "bind"),
    port: dnsPort,
    zone: first!.zone,
    zoneText: first!.text,
    extraZones: [...rest, { zone: "offsite.test", text: OFFSITE }, ...reverseZones()],
    views: [
      { name: "lame", matchClients: [NS.lame], zones: [] },
      { name: "stale", matchClients: [NS.stale], zones: [{ zone: CASES[serialCase]!.domain, text: zoneText(CASES[serialCase]!, serialCase, STALE_SERIAL) }] },
    ],
    controlHost: "127.0.0.152",
  });
  for (const host of relayHosts) relays.push(await startDnsRelay({ host, port: dnsPort, upstream: { host: NS.named, port: dnsPort } }));
  all = await runCli(["lint", "--output", "json", ...lintArgs(), ...CASES.map((c) => c.domain)], 120_000);
  try {
    report = JSON.parse(all.stdout) as Report;
    if (process.env.LINT_DUMP) writeFileSync(process.env.LINT_DUMP, all.stdout);
  } catch {
    throw new Error(`lint did not print JSON:\n${shown(all)}\n${bind.diagnostics()}`);
  }
});

afterAll(async () => {
  await Promise.all([...relays.map((r) => r.stop()), ...Object.values(listeners).map((l) => l?.stop()), bind?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("mailpool lint against BIND", () => {
  it("exits 1 for the set of domains, since some have errors", () => {
    expect(all.code, shown(all)).toBe(1);
  });

  for (const c of CASES) {
    it(c.expected.length ? `finds ${c.expected.join(", ")} in ${c.domain}, and nothing else` : `finds nothing in ${c.domain}`, () => {
      const ids = [...new Set(findingsOf(c.domain).map((f) => f.id))].sort();
      expect(ids, JSON.stringify(findingsOf(c.domain), null, 2)).toEqual([...c.expected].sort());
    });
  }

  it("says how each finding was observed: the lame server's REFUSED to a non-recursive SOA query", () => {
    const [lame] = findingsOf("ns-lame.test");
    expect(lame).toMatchObject({ severity: "error", subject: `ns-lame.offsite.test (${NS.lame})`, rfc: "RFC 1912 §2.8, RFC 8499 §7" });
    expect(lame?.evidence).toEqual([`SOA ns-lame.test @${NS.lame}:${dnsPort} (non-recursive): REFUSED, no records`]);
  });

  it("calls a listed server where nothing answers lame, saying what the query met", () => {
    const [f] = findingsOf("ns-silent.test");
    expect(f?.subject).toBe(`ns-dead.offsite.test (${NS.dead})`);
    expect(f?.evidence).toEqual([`SOA ns-silent.test @${NS.dead}:${dnsPort} (non-recursive): no answer, port unreachable (ICMP)`]);
  });

  it("reports a fallback MX where nothing listens as unreachable, not as refusing", () => {
    const [f] = findingsOf("mx-fallback-unreachable.test");
    expect(f).toMatchObject({ severity: "warning", subject: "mx-dead.offsite.test" });
    expect(f?.evidence).toEqual([`SMTP ${DEAD_MX}:${smtpPort} (mx-dead.offsite.test): connection refused by ${DEAD_MX}:${smtpPort}`]);
  });

  it("names both serials and who serves each", () => {
    const [f] = findingsOf("ns-serial-mismatch.test");
    expect(f?.message).toContain(`${SERIAL} at ns.offsite.test (${NS.offsite}), ns1.ns-serial-mismatch.test (${NS.named})`);
    expect(f?.message).toContain(`${STALE_SERIAL} at ns-stale.offsite.test (${NS.stale})`);
  });

  it("reports the relay refusal with the server's own reply, after an RCPT dialogue that never sent DATA", () => {
    const [f] = findingsOf("mx-fallback-refuses.test");
    expect(f).toMatchObject({ severity: "error", subject: "mx-strict.offsite.test" });
    expect(f?.evidence[0]).toBe(
      `SMTP ${MX.strict}:${smtpPort} (mx-strict.offsite.test): EHLO, MAIL FROM:<>, RCPT TO:<postmaster@mx-fallback-refuses.test> → 550 5.7.1 Relay access denied, RSET, QUIT (no DATA)`,
    );
    const seen = listeners.strict!.commands;
    expect(seen).toEqual(["EHLO lint.mailpool.test", "MAIL FROM:<>", "RCPT TO:<postmaster@mx-fallback-refuses.test>", "RSET", "QUIT"]);
  });

  it("asked the accepting fallback for every domain that has it as fallback, and it accepted", () => {
    const asked = listeners.offsite!.commands.filter((l) => l.startsWith("RCPT TO:"));
    expect(asked).toContain("RCPT TO:<postmaster@clean.test>");
    expect(listeners.offsite!.commands).not.toContain("DATA");
    expect(report.domains.find((d) => d.domain === "clean.test")?.rcptChecks).toBe(1);
  });

  it("reads TTLs from the zone's own server, not a countdown in a cache", () => {
    const [f] = findingsOf("ttl-too-long.test");
    expect(f?.message).toContain("TTL 3600 s");
    expect(f?.evidence.some((e) => e.includes("(non-recursive): NOERROR aa"))).toBe(true);
  });

  it("stays inside the query budget it reports", () => {
    for (const d of report.domains) expect(d.queries.used).toBeLessThanOrEqual(d.queries.limit);
  });

  it("exits 0 with 'no findings' on the clean domain alone, as text", async () => {
    const run = await runCli(["lint", ...lintArgs(), "clean.test"]);
    expect(run.code, shown(run)).toBe(0);
    expect(run.stdout).toMatch(/^clean\.test: no findings \(\d+ DNS queries of 300, 1 RCPT check\)\n1 domain: 0 errors, 0 warnings, 0 info\n$/);
  });

  it("lints the domains of a config, with its pools: the clean one protected and reached gives nothing", async () => {
    const config = join(dir, "clean.yaml");
    writeFileSync(
      config,
      `controllerId: it
providers: { m: { type: memory } }
pools:
  - { name: mx1.clean.test, provider: m, checks: [smtp], members: [{ address: ${addressOf(0)} }] }
  - { name: smtp.clean.test, provider: m, checks: [submission], members: [{ address: ${addressOf(0)} }] }
`,
    );
    const run = await runCli(["-c", config, "lint", ...lintArgs()]);
    expect(run.code, shown(run)).toBe(0);
    expect(run.stdout).toContain("clean.test: no findings");
  });

  it("finds a pool nothing reaches and an MX host no pool protects; --fail-on warning makes that exit 1", async () => {
    const config = join(dir, "coverage.yaml");
    writeFileSync(
      config,
      `controllerId: it
providers: { m: { type: memory } }
pools:
  - { name: spare.clean.test, provider: m, checks: [smtp], members: [{ address: ${addressOf(0)} }] }
`,
    );
    const run = await runCli(["-c", config, "--output", "json", "lint", ...lintArgs(), "--fail-on", "warning"]);
    expect(run.code, shown(run)).toBe(1);
    const r = JSON.parse(run.stdout) as Report;
    expect(r.domains.map((d) => d.domain)).toEqual(["clean.test"]);
    expect(r.domains[0]!.findings.map((f) => [f.id, f.subject])).toEqual([
      ["pool-unreached", "spare.clean.test"],
      ["mx-unprotected", "mx1.clean.test"],
    ]);
  });
});
