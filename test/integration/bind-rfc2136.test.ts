/**
 * The rfc2136 provider against a real BIND (Debian's named) on 127.0.0.1 on a free high port:
 * a dynamic zone example.com whose update-policy grants key mailpool-it only the pool's A/AAAA
 * and its _mailpool marker, a key `limited` granted only the marker, an `operator` key for
 * concurrent edits with nsupdate, and an inline-signed zone signed.test (dnssec-policy default).
 * The pool's members are SMTP listeners on 127.0.0.161–164 in this process; the built CLI
 * (`mailpool plan` / `apply`) probes them and updates named. What named answers (dig, delv) is
 * the proof. Needs root and the Debian packages (scripts/install-integration-deps.sh); fails
 * without them.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "../../providers/rfc2136/index.js";
import type { Rfc2136Provider } from "../../providers/rfc2136/index.js";
import { ConflictError, ProviderError, type Provider, type RRsetChange } from "../../providers/types.js";
import { reconcileProvider } from "../../src/controller/reconcile.js";
import { startListenersOnOnePort, type MailListener } from "../../src/demo/mail-listener.js";
import type { PoolSpec } from "../../src/model.js";
import { makeTsigKey, startBind, type BindServer, type TsigKeySpec } from "./helpers/bind-server.js";
import { requireBuiltCli, runCli, shown, type CliRun } from "./helpers/run-cli.js";
import { requireBinary, runCommand, waitFor } from "./helpers/server-process.js";

const HOSTS = ["127.0.0.161", "127.0.0.162", "127.0.0.163", "127.0.0.164", "127.0.0.171"] as const;
const [M1, M2, M3, STANDBY, SIGNED_UP] = HOSTS;
const SIGNED_DOWN = "127.0.0.172"; // nothing listens there
const POOL = "smtp.example.com";
const SIGNED_POOL = "smtp.signed.test";

const secret = () => randomBytes(32).toString("base64");
const LIMITED: TsigKeySpec = { name: "limited", algorithm: "hmac-sha256", secret: secret() };
const OPERATOR: TsigKeySpec = { name: "operator", algorithm: "hmac-sha512", secret: secret() };

const ZONE = `$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1.example.com. hostmaster.example.com. ( 2026010101 3600 900 604800 300 )
  IN NS ns1
  IN MX 10 smtp
ns1 IN A 127.0.0.1
smtp 300 IN A ${M1}
smtp 300 IN A ${M2}
smtp 300 IN A ${M3}
_mailpool.smtp 300 IN TXT "mailpool owner=it"
www IN A 192.0.2.80
`;
const SIGNED_ZONE = `$ORIGIN signed.test.
$TTL 3600
@ IN SOA ns1.signed.test. hostmaster.signed.test. ( 1 3600 900 604800 300 )
  IN NS ns1
ns1 IN A 127.0.0.1
smtp 300 IN A ${SIGNED_UP}
smtp 300 IN A ${SIGNED_DOWN}
_mailpool.smtp 300 IN TXT "mailpool owner=it"
`;

let dir: string;
let bind: BindServer | undefined;
let listeners: MailListener[] = [];
let port: number;
let keyFile: string;
let mailpoolKey: TsigKeySpec;

const named = (): BindServer => {
  if (!bind) throw new Error("named did not start (see beforeAll)");
  return bind;
};
const listener = (host: string): MailListener => {
  const l = listeners.find((x) => x.host === host);
  if (!l) throw new Error(`no listener on ${host}`);
  return l;
};
const served = () => named().dig(POOL, "A");
/** `dig +noall +answer`: [ttl, value] of each record. */
const answer = async (name: string, type: string): Promise<[number, string][]> => {
  const r = await named().digRaw("+noall", "+answer", name, type);
  if (r.code !== 0) throw new Error(`dig ${name} ${type}: ${r.stdout}${r.stderr}`);
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split(/\s+/))
    .filter((f) => f[3] === type)
    .map((f) => [Number(f[1]), f.slice(4).join(" ")] as [number, string])
    .sort((a, b) => a[1].localeCompare(b[1]));
};

interface PlanJson {
  pools: { pool: string; actions: { kind: string; address?: string | null }[]; held: unknown[]; alarms: string[] }[];
  providers: { name: string; applied: { changes: number; notes: string[] } | null; error: string | null }[];
}
const json = (run: CliRun): PlanJson => {
  try {
    return JSON.parse(run.stdout) as PlanJson;
  } catch {
    throw new Error(`not JSON:\n${shown(run)}`);
  }
};

interface ProviderOverrides {
  keyName?: string;
  algorithm?: string;
  secretLine?: string;
  zone?: string;
  pools?: "example" | "signed";
  retries?: number;
}
const configText = (o: ProviderOverrides = {}): string => {
  const signed = o.pools === "signed";
  return `# written by test/integration/bind-rfc2136.test.ts
controllerId: it
defaults: { ttl: 300, rise: 2, fall: 2, confirmIntervalMs: 200 }
daemon: { listen: "" }
retry: { retries: ${o.retries ?? 1}, minTimeoutMs: 100, maxTimeoutMs: 500 }
providers:
  ns:
    type: rfc2136
    server: 127.0.0.1
    port: ${named().port}
    zone: ${o.zone ?? (signed ? "signed.test" : "example.com")}
    keyName: ${o.keyName ?? "mailpool-it"}
    algorithm: ${o.algorithm ?? "hmac-sha256"}
    ${o.secretLine ?? `secretFile: ${JSON.stringify(keyFile)}`}
    timeoutMs: 2000
    connectTimeoutMs: 1000
checks:
  plain-smtp: { module: smtp, port: ${port}, tls: none, connectTimeoutMs: 1000, timeoutMs: 3000, expectGreeting: "^220 " }
pools:
${
  signed
    ? `  - name: ${SIGNED_POOL}
    provider: ns
    checks: [plain-smtp]
    members:
      - { address: ${SIGNED_UP} }
      - { address: ${SIGNED_DOWN} }`
    : `  - name: ${POOL}
    provider: ns
    checks: [plain-smtp]
    members:
      - { address: ${M1}, label: mx1 }
      - { address: ${M2}, label: mx2 }
      - { address: ${M3}, label: mx3, standby: ${STANDBY} }`
}
`;
};
const writeConfig = (name: string, o: ProviderOverrides = {}): string => {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, configText(o));
  return file;
};
const apply = (file: string) => runCli(["--output", "json", "apply", "-c", file]);

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const providerCtx = { name: "ns", controllerId: "it", pools: [{ name: POOL, recordStyle: "simple" as const }], env: {}, logger: silent };
const directProvider = (over: Record<string, unknown> = {}, deps: { now?: () => number } = {}): Promise<Rfc2136Provider> =>
  create(
    { type: "rfc2136", server: "127.0.0.1", port: named().port, zone: "example.com", keyName: "mailpool-it", secret: mailpoolKey.secret, timeoutMs: 2000, ...over },
    providerCtx,
    deps,
  );
const poolSpec = (): PoolSpec => ({
  name: POOL,
  provider: "ns",
  ttl: 300,
  checks: ["plain-smtp"],
  rise: 1,
  fall: 1,
  confirmIntervalMs: 0,
  recordStyle: "simple",
  safety: { neverEmpty: true, minHealthy: 1, failOpen: true, maxRemovePercent: 50 },
  members: [
    { address: M1, label: "mx1" },
    { address: M2, label: "mx2" },
    { address: M3, label: "mx3", standby: STANDBY },
  ],
});
const signal = () => AbortSignal.timeout(30_000);

beforeAll(async () => {
  requireBuiltCli();
  requireBinary("nsupdate", "bind9-dnsutils");
  requireBinary("delv", "bind9-dnsutils");
  dir = mkdtempSync(join(tmpdir(), "mailpool-it-rfc2136-"));
  listeners = await startListenersOnOnePort("smtp", HOSTS, { hostname: "mx.example.com" });
  port = listeners[0]!.port;
  // The key mailpool signs with is tsig-keygen's own output, read by the provider's secretFile.
  keyFile = join(dir, "mailpool-it.key");
  await makeTsigKey(keyFile, "mailpool-it");
  const generated = /secret "([^"]+)"/.exec(readFileSync(keyFile, "utf8"))?.[1];
  if (!generated) throw new Error(`tsig-keygen wrote no secret to ${keyFile}`);
  mailpoolKey = { name: "mailpool-it", algorithm: "hmac-sha256", secret: generated };
  bind = await startBind({
    dir: join(dir, "bind"),
    zone: "example.com",
    zoneText: ZONE,
    controlHost: "127.0.0.152",
    keys: [mailpoolKey, LIMITED, OPERATOR],
    zoneStatements: `  update-policy {
    grant mailpool-it name ${POOL}. A AAAA;
    grant mailpool-it name _mailpool.${POOL}. TXT;
    grant limited name _mailpool.${POOL}. TXT;
    grant operator zonesub ANY;
  };`,
    extraZones: [
      {
        zone: "signed.test",
        text: SIGNED_ZONE,
        statements: `  update-policy {
    grant mailpool-it name ${SIGNED_POOL}. A AAAA;
    grant mailpool-it name _mailpool.${SIGNED_POOL}. TXT;
  };
  dnssec-policy default;
  inline-signing yes;`,
      },
    ],
  });
});

afterAll(async () => {
  await Promise.all([...listeners.map((l) => l.stop()), bind?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("mailpool keeps a real BIND's dynamic zone true through signed updates", () => {
  it("starts with every member served, and `plan` with all up has nothing to do", async () => {
    expect(await served()).toEqual([M1, M2, M3]);
    const file = writeConfig("main");
    const valid = await runCli(["validate", "-c", file]);
    expect(valid.code, shown(valid)).toBe(0);
    const plan = await runCli(["--output", "json", "plan", "-c", file, "--detailed-exitcode"]);
    expect(plan.code, shown(plan)).toBe(0);
    expect(json(plan).pools[0]).toMatchObject({ pool: POOL, actions: [], held: [] });
  });

  it("removes a dead member with one UPDATE; named serves the rest at once, bumps the serial, keeps the rest of the zone", async () => {
    const serial = await named().serial();
    await listener(M2).stop();
    const run = await apply(writeConfig("main"));
    expect(run.code, shown(run)).toBe(0);
    const report = json(run);
    expect(report.pools[0]?.actions).toEqual([expect.objectContaining({ kind: "remove", address: M2 })]);
    expect(report.providers[0]).toMatchObject({ error: null, applied: { changes: 1 } });
    expect(report.providers[0]?.applied?.notes).toEqual([expect.stringMatching(/^UPDATE of zone example\.com: 1 RRset change\(s\) \(3 prerequisite and 3 update record\(s\)\) over UDP, signed with key mailpool-it$/)]);
    expect(await served()).toEqual([M1, M3]);
    expect(await named().serial()).toBeGreaterThan(serial);
    expect(await named().dig(`_mailpool.${POOL}`, "TXT")).toEqual(['"mailpool owner=it"']);
    expect(await named().dig("www.example.com", "A")).toEqual(["192.0.2.80"]);
  });

  it("reinstates the member once it answers again", async () => {
    await listener(M2).start();
    const run = await apply(writeConfig("main"));
    expect(run.code, shown(run)).toBe(0);
    expect(json(run).pools[0]?.actions).toEqual([expect.objectContaining({ kind: "reinstate", address: M2 })]);
    expect(await served()).toEqual([M1, M2, M3]);
  });

  it("hands a dead member's place to its standby (takeover), and back (restore)", async () => {
    await listener(M3).stop();
    const run = await apply(writeConfig("main"));
    expect(run.code, shown(run)).toBe(0);
    expect(json(run).pools[0]?.actions).toEqual([expect.objectContaining({ kind: "takeover", address: M3 })]);
    expect(await served()).toEqual([M1, M2, STANDBY]);
    await listener(M3).start();
    const back = await apply(writeConfig("main"));
    expect(back.code, shown(back)).toBe(0);
    expect(json(back).pools[0]?.actions).toEqual([expect.objectContaining({ kind: "restore", address: M3 })]);
    expect(await served()).toEqual([M1, M2, M3]);
  });

  it("corrects a TTL an operator set outside the window, values untouched", async () => {
    const set = await named().nsupdate(OPERATOR, `zone example.com.\nupdate delete ${POOL}. A\nupdate add ${POOL}. 3600 A ${M1}\nupdate add ${POOL}. 3600 A ${M2}\nupdate add ${POOL}. 3600 A ${M3}\nsend`);
    expect(set.code, `${set.stdout}${set.stderr}`).toBe(0);
    expect((await answer(POOL, "A")).map(([ttl]) => ttl)).toEqual([3600, 3600, 3600]);
    const run = await apply(writeConfig("main"));
    expect(run.code, shown(run)).toBe(0);
    expect(json(run).pools[0]?.actions).toEqual([expect.objectContaining({ kind: "ttl" })]);
    expect(await answer(POOL, "A")).toEqual([
      [300, M1],
      [300, M2],
      [300, M3],
    ]);
  });

  it("a concurrent nsupdate between read and write: BIND answers NXRRSET, the controller re-reads and re-plans, and nothing of either edit is lost", async () => {
    const provider = await directProvider();
    // The direct race: read, someone adds an address, our write of what we read is refused.
    const [a] = await provider.read([{ name: POOL, type: "A" }], signal());
    const added = await named().nsupdate(OPERATOR, `zone example.com.\nupdate add ${POOL}. 300 A 127.0.0.165\nsend`);
    expect(added.code, `${added.stdout}${added.stderr}`).toBe(0);
    const err = await provider.apply([{ key: a!, before: a!, after: { ttl: 300, values: [M1, M3] }, pool: POOL }], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/NXRRSET/);
    expect(await served()).toEqual([M1, M2, M3, "127.0.0.165"].sort());

    // Under the controller: the operator's edit lands between mailpool's read and its write.
    await named().nsupdate(OPERATOR, `zone example.com.\nupdate delete ${POOL}. A 127.0.0.165\nsend`);
    let raced = false;
    const racing: Provider = {
      kind: provider.kind,
      read: (keys, s) => provider.read(keys, s),
      async apply(changes: readonly RRsetChange[], s: AbortSignal) {
        if (!raced) {
          raced = true;
          const r = await named().nsupdate(OPERATOR, `zone example.com.\nupdate add ${POOL}. 300 A 127.0.0.166\nsend`);
          if (r.code !== 0) throw new Error(`nsupdate: ${r.stdout}${r.stderr}`);
        }
        return provider.apply(changes, s);
      },
    };
    const result = await reconcileProvider({
      provider: racing,
      providerName: "ns",
      pools: [poolSpec()],
      health: (_p, address) => (address === M2 ? { health: "down", reason: "test: down" } : { health: "up", reason: "test: up" }),
      controllerId: "it",
      dryRun: false,
      signal: signal(),
      retry: { retries: 2, minTimeoutMs: 50, maxTimeoutMs: 100 },
    });
    expect(result.error).toBeUndefined();
    expect(result.attempts).toBe(2);
    // mailpool's removal of M2 and the operator's 127.0.0.166 both stand.
    expect(await served()).toEqual([M1, M3, "127.0.0.166"].sort());
    // Put the pool back for the next tests.
    const reset = await named().nsupdate(OPERATOR, `zone example.com.\nupdate delete ${POOL}. A 127.0.0.166\nupdate add ${POOL}. 300 A ${M2}\nsend`);
    expect(reset.code, `${reset.stdout}${reset.stderr}`).toBe(0);
    expect(await served()).toEqual([M1, M2, M3]);
  });

  it("a wrong secret (BADSIG) or a wrong algorithm (BADKEY) is a clear error, and nothing changes", async () => {
    await listener(M2).stop();
    try {
      const wrongSecret = await apply(writeConfig("wrong-secret", { secretLine: `secret: ${JSON.stringify(secret())}` }));
      expect(wrongSecret.code, shown(wrongSecret)).toBe(1);
      expect(json(wrongSecret).providers[0]?.error).toMatch(/knows key mailpool-it \(hmac-sha256\) but our signature does not verify \(NOTAUTH\/BADSIG\): the secret differs/);
      const wrongAlg = await apply(writeConfig("wrong-alg", { algorithm: "hmac-sha512" }));
      // The key file says hmac-sha256: mailpool refuses before sending anything.
      expect(wrongAlg.code, shown(wrongAlg)).toBe(1);
      expect(json(wrongAlg).providers[0]?.error).toMatch(/secretFile .*: key mailpool-it in the file is hmac-sha256, but algorithm is hmac-sha512; set algorithm: hmac-sha256/);
      // With the secret given directly, named itself refuses the algorithm.
      const alg = await apply(writeConfig("wrong-alg-env", { algorithm: "hmac-sha512", secretLine: `secret: ${JSON.stringify(mailpoolKey.secret)}` }));
      expect(alg.code, shown(alg)).toBe(1);
      expect(json(alg).providers[0]?.error).toMatch(/does not know key mailpool-it \(hmac-sha512\) \(NOTAUTH\/BADKEY\): keyName and algorithm must match/);
      for (const run of [wrongSecret, alg]) expect(`${run.stdout}${run.stderr}`).not.toContain(mailpoolKey.secret);
      // The UPDATE itself, signed wrong after a good read, is refused as well.
      const good = await directProvider();
      const [a] = await good.read([{ name: POOL, type: "A" }], signal());
      const bad = await directProvider({ secret: secret() });
      await expect(bad.apply([{ key: a!, before: a!, after: { ttl: 300, values: [M1, M3] }, pool: POOL }], signal())).rejects.toThrow(/BADSIG/);
      expect(await served()).toEqual([M1, M2, M3]);
    } finally {
      await listener(M2).start();
    }
  });

  it("a key the update-policy grants only the marker gets REFUSED, named in the error, and nothing changes", async () => {
    await listener(M2).stop();
    try {
      const run = await apply(writeConfig("limited", { keyName: "limited", secretLine: "secret: ${MAILPOOL_IT_LIMITED}" }));
      // ${MAILPOOL_IT_LIMITED} is resolved by the loader from the environment.
      expect(run.code, shown(run)).not.toBe(0);
      expect(shown(run)).toMatch(/MAILPOOL_IT_LIMITED is not set/);
      process.env.MAILPOOL_IT_LIMITED = LIMITED.secret;
      const refused = await apply(join(dir, "limited.yaml"));
      expect(refused.code, shown(refused)).toBe(1);
      expect(json(refused).providers[0]?.error).toMatch(
        /refused the update \(REFUSED\): its update policy does not let key limited \(hmac-sha256\) change smtp\.example\.com in zone example\.com/,
      );
      expect(`${refused.stdout}${refused.stderr}`).not.toContain(LIMITED.secret);
      expect(await served()).toEqual([M1, M2, M3]);
    } finally {
      delete process.env.MAILPOOL_IT_LIMITED;
      await listener(M2).start();
    }
  });

  it("a clock off by an hour gets BADTIME from named, with the skew measured", async () => {
    const skewed = await directProvider({}, { now: () => Date.now() - 3_600_000 });
    const err = (await skewed.read([{ name: POOL, type: "A" }], signal()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/disagree on the time by 3[56]\d\d s \(the server's clock is ahead\), more than the fudge of 300 s \(NOTAUTH\/BADTIME\)/);
  });

  it("an update to an inline-signed zone keeps it validating: new RRSIGs over the changed RRset, delv says fully validated", async () => {
    // Wait for named to sign the zone (dnssec-policy default makes a CSK at load).
    const dnskey = await waitFor<string>(
      "named to sign signed.test",
      async () => {
        const r = await named().digRaw("+noall", "+answer", "signed.test", "DNSKEY");
        const key = r.stdout.split("\n").find((l) => /\tDNSKEY\t257 /.test(l) || /\sDNSKEY\s+257\s/.test(l));
        const sig = await named().digRaw("+dnssec", "+noall", "+answer", SIGNED_POOL, "A");
        if (key === undefined || !/RRSIG\s+A\s/.test(sig.stdout)) return { note: r.stdout || "no DNSKEY yet" };
        return { value: key };
      },
      { timeoutMs: 30_000, intervalMs: 300, diagnostics: () => named().diagnostics() },
    );
    const run = await apply(writeConfig("signed", { pools: "signed" }));
    expect(run.code, shown(run)).toBe(0);
    expect(json(run).pools[0]?.actions).toEqual([expect.objectContaining({ kind: "remove", address: SIGNED_DOWN })]);
    const [, , , , flags, protocol, algorithm, ...keyData] = dnskey.trim().split(/\s+/);
    const anchors = join(dir, "signed.test.anchor");
    writeFileSync(anchors, `trust-anchors {\n  "signed.test." static-key ${flags} ${protocol} ${algorithm} "${keyData.join("")}";\n};\n`);
    const delv = requireBinary("delv", "bind9-dnsutils");
    await waitFor(
      "named to serve the re-signed RRset",
      async () => {
        const r = await runCommand(delv, ["-a", anchors, "+root=signed.test", `@${named().host}`, "-p", String(named().port), SIGNED_POOL, "A"], 10_000);
        return r.code === 0 && r.stdout.includes("; fully validated") && !r.stdout.includes(SIGNED_DOWN) ? { value: r } : { note: `${r.code} ${r.stdout}${r.stderr}` };
      },
      { timeoutMs: 15_000, intervalMs: 300, diagnostics: () => named().diagnostics() },
    );
    const withSigs = await named().digRaw("+dnssec", "+noall", "+answer", SIGNED_POOL, "A");
    expect(withSigs.stdout).toMatch(new RegExp(`${SIGNED_POOL.replace(/\./g, "\\.")}\\.\\s+300\\s+IN\\s+A\\s+${SIGNED_UP.replace(/\./g, "\\.")}`));
    expect(withSigs.stdout).not.toContain(SIGNED_DOWN);
    expect(withSigs.stdout).toMatch(/RRSIG\s+A\s+13\s/);
    const marker = await runCommand(delv, ["-a", anchors, "+root=signed.test", `@${named().host}`, "-p", String(named().port), `_mailpool.${SIGNED_POOL}`, "TXT"], 10_000);
    expect(marker.stdout).toContain("; fully validated");
    // The control: with a trust anchor that is not the zone's key, delv validates nothing.
    const wrongAnchors = join(dir, "wrong.anchor");
    const key = keyData.join("");
    const flippedKey = `${key.slice(0, 10)}${key[10] === "A" ? "B" : "A"}${key.slice(11)}`;
    writeFileSync(wrongAnchors, `trust-anchors {\n  "signed.test." static-key ${flags} ${protocol} ${algorithm} "${flippedKey}";\n};\n`);
    const control = await runCommand(delv, ["-a", wrongAnchors, "+root=signed.test", `@${named().host}`, "-p", String(named().port), SIGNED_POOL, "A"], 10_000);
    expect(`${control.stdout}${control.stderr}`).not.toContain("; fully validated");
  });

  it("with named down, every attempt is a transient failure, retried, and the end a clear error", async () => {
    await named().stop();
    const provider = await directProvider({ connectTimeoutMs: 500 });
    const warned: string[] = [];
    const result = await reconcileProvider({
      provider,
      providerName: "ns",
      pools: [poolSpec()],
      health: () => ({ health: "up", reason: "test: up" }),
      controllerId: "it",
      dryRun: false,
      signal: signal(),
      retry: { retries: 2, minTimeoutMs: 50, maxTimeoutMs: 100 },
      logger: { ...silent, warn: (_o: object, msg?: string) => warned.push(msg ?? "") },
    });
    expect(result.attempts).toBe(3);
    // p-retry reports every failed attempt, the last one too (which says it gives up).
    expect(warned).toEqual([...Array(2).fill("transient provider failure; retrying"), "transient provider failure; giving up"]);
    expect(result.error).toMatchObject({ transient: true });
    expect(result.error?.message).toMatch(/query smtp\.example\.com A|query example\.com SOA/);
    expect(result.error?.message).toMatch(/connection refused by 127\.0\.0\.1:\d+ over TCP \(is the name server running\?\)/);
    const run = await apply(writeConfig("main"));
    expect(run.code, shown(run)).toBe(1);
    expect(shown(run)).toMatch(/connection refused by 127\.0\.0\.1:\d+ over TCP/);
  });
});
