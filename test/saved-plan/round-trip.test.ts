/**
 * plan → save → apply FILE, on the zone file and through the Route 53 and Cloudflare fakes: the
 * saved plan is applied exactly, and every way it can have gone stale or been edited refuses with
 * nothing changed. The clock is injected: T0 is a fixed instant, never the wall clock.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Provider } from "../../providers/types.js";
import { parseConfig, type Config } from "../../src/config/load.js";
import { runCycle } from "../../src/controller/cycle.js";
import { createRuntime, type Runtime } from "../../src/controller/runtime.js";
import type { ProbeFn } from "../../src/health/probe-round.js";
import { createLogger } from "../../src/log.js";
import { applyPlanFile, type ApplyPlanOutcome } from "../../src/saved-plan/apply-plan.js";
import { buildPlanFile, DEFAULT_MAX_AGE_MS, parsePlanFile, PlanFileError, serializePlanFile, type PlanFile } from "../../src/saved-plan/plan-file.js";
import { CONTROLLER, harness, seedA, seedMarker, type Harness, addresses } from "../providers/cloudflare/helpers.js";
import { startRig, type Rig } from "../providers/route53/harness.js";
import { zoneCopy } from "../providers/zonefile/zone-test-kit.js";

const T0 = new Date("2031-03-04T05:06:07.000Z");
const at = (minutes: number) => () => new Date(T0.getTime() + minutes * 60_000);
const logger = createLogger("silent");
const signal = () => AbortSignal.timeout(20_000);

const probe =
  (down: readonly string[]): ProbeFn =>
  async (t) =>
    down.includes(t.host)
      ? { ok: false, reason: "connection refused", latencyMs: 1, phases: [], warnings: [] }
      : { ok: true, reason: "ok", latencyMs: 1, phases: [], warnings: [] };

async function planned(runtime: Runtime, now = T0): Promise<PlanFile> {
  const report = await runCycle(runtime, { dryRun: true, signal: signal() });
  // Through the file's text, as `plan --out` and `apply FILE` see it.
  return parsePlanFile(serializePlanFile(buildPlanFile({ config: runtime.config, report, now, force: false, adopt: false })));
}

const apply = (runtime: Runtime, file: PlanFile, now = at(1), maxAgeMs = DEFAULT_MAX_AGE_MS): Promise<ApplyPlanOutcome> =>
  applyPlanFile(file, { config: runtime.config, provider: runtime.provider, now, maxAgeMs, signal: signal(), logger });

const refusal = (o: ApplyPlanOutcome): string => (o.status === "refused" ? o.reasons.join("\n") : "(applied)");

// ---- the zone file --------------------------------------------------------------------------

const zoneConfig = (path: string, maxRemovePercent = 50, changeWindow = ""): Config =>
  parseConfig(
    `controllerId: test
defaults: { rise: 1, fall: 1, confirmIntervalMs: 0 }
safety: { maxRemovePercent: ${maxRemovePercent}${changeWindow ? `, changeWindow: ${changeWindow}` : ""} }
providers: { zone: { type: zonefile, path: ${JSON.stringify(path)} } }
pools:
  - name: smtp.example.com
    provider: zone
    checks: [smtp]
    members: [{ address: 192.0.2.10 }, { address: 192.0.2.11 }, { address: 192.0.2.12 }, { address: "2001:db8::10" }, { address: "2001:db8::11" }]
`,
    { env: {} },
  );

describe("saved plan on the zone file", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  async function setUp(down = ["192.0.2.12"]) {
    const zone = await zoneCopy();
    cleanup = zone.cleanup;
    const runtime = createRuntime(zoneConfig(zone.path), logger, { probe: probe(down), env: {} });
    const file = await planned(runtime);
    return { zone, runtime, file, bytes: await readFile(zone.path, "utf8") };
  }

  it("saves the reads, the evidence and the change, and applies exactly that change", async () => {
    const { zone, runtime, file, bytes } = await setUp();
    expect(file.createdAt).toBe(T0.toISOString());
    expect(file.expiresAt).toBe(new Date(T0.getTime() + 15 * 60_000).toISOString());
    expect(file.controllerId).toBe("test");
    const pool = file.providers[0]!.pools[0]!;
    expect(pool.read.A!.values).toEqual(["192.0.2.10", "192.0.2.11", "192.0.2.12"]);
    expect(pool.read.A!.native).toBeDefined();
    expect(pool.actions.map((a) => `${a.kind} ${a.address}`)).toEqual(["remove 192.0.2.12"]);
    expect(file.health.find((h) => h.address === "192.0.2.12")).toMatchObject({ health: "down", reason: expect.stringContaining("connection refused") });
    expect(file.providers[0]!.changes[0]!.after).toEqual({ ttl: 300, values: ["192.0.2.10", "192.0.2.11"] });
    // Planning wrote nothing.
    expect(await readFile(zone.path, "utf8")).toBe(bytes);

    const outcome = await apply(runtime, file);
    expect(refusal(outcome)).toBe("(applied)");
    if (outcome.status === "applied") expect(outcome.report.results[0]!.applied!.applied).toBe(1);
    const after = await readFile(zone.path, "utf8");
    expect(after).not.toMatch(/192\.0\.2\.12/);
    expect(after).toMatch(/192\.0\.2\.11/);
    // Applying the same plan again refuses: what it read is gone.
    const again = await apply(runtime, file);
    expect(refusal(again)).toMatch(/smtp\.example\.com A changed since the plan was made: values 192\.0\.2\.10 192\.0\.2\.11 192\.0\.2\.12 → 192\.0\.2\.10 192\.0\.2\.11/);
    await runtime.close();
  });

  it("refuses when the zone changed between plan and apply, and leaves it as it is", async () => {
    const { zone, runtime, file, bytes } = await setUp();
    const edited = bytes.replace("300             A       192.0.2.12", "600             A       192.0.2.12");
    expect(edited).not.toBe(bytes);
    await writeFile(zone.path, edited);
    const outcome = await apply(runtime, file);
    expect(outcome.status).toBe("refused");
    expect(refusal(outcome)).toMatch(/smtp\.example\.com A changed since the plan was made/);
    expect(await readFile(zone.path, "utf8")).toBe(edited);
    await runtime.close();
  });

  it("applies when only other parts of the zone changed (its records moved down the file)", async () => {
    const { zone, runtime, file, bytes } = await setUp();
    const edited = bytes.replace("; name servers", "; name servers\nhelp    IN      A       192.0.2.99 ; added by hand after the plan");
    await writeFile(zone.path, edited);
    const outcome = await apply(runtime, file);
    expect(refusal(outcome)).toBe("(applied)");
    const after = await readFile(zone.path, "utf8");
    expect(after).toContain("192.0.2.99 ; added by hand after the plan");
    expect(after).not.toMatch(/192\.0\.2\.12/);
    await runtime.close();
  });

  it("refuses an expired plan, and one older than --max-age", async () => {
    const { zone, runtime, file, bytes } = await setUp();
    expect(refusal(await apply(runtime, file, at(15)))).toMatch(/expired at 2031-03-04T05:21:07.000Z/);
    expect(refusal(await apply(runtime, file, at(6), 5 * 60_000))).toMatch(/6 min old, more than --max-age 5 min/);
    expect(refusal(await apply(runtime, file, at(-10)))).toMatch(/in the future/);
    expect(await readFile(zone.path, "utf8")).toBe(bytes);
    // Within both limits it applies.
    expect((await apply(runtime, file, at(4), 5 * 60_000)).status).toBe("applied");
    void zone;
    await runtime.close();
  });

  it("refuses when the config changed (hash), and names the controller mismatch", async () => {
    const { zone, runtime, file, bytes } = await setUp();
    const changed = createRuntime(zoneConfig(zone.path, 40), logger, { probe: probe([]), env: {} });
    expect(refusal(await apply(changed, file))).toMatch(/the config changed since the plan was made/);
    const other = createRuntime({ ...zoneConfig(zone.path), controllerId: "someone-else" }, logger, { probe: probe([]), env: {} });
    expect(refusal(await apply(other, file))).toMatch(/made by controller test, not someone-else/);
    expect(await readFile(zone.path, "utf8")).toBe(bytes);
    await Promise.all([runtime.close(), changed.close(), other.close()]);
  });

  it("refuses a tampered file: an edited after, an added action, a dropped hold, a forged native", async () => {
    // Two members down: maxRemovePercent 50 of 3 lets one go and holds the other.
    const { zone, runtime, file, bytes } = await setUp(["192.0.2.11", "192.0.2.12"]);
    const provider = file.providers[0]!;
    expect(provider.pools[0]!.held.map((h) => h.rule)).toEqual(["maxRemovePercent"]);
    const edit = (f: (p: PlanFile) => void): PlanFile => {
      const copy = structuredClone(file);
      f(copy);
      return parsePlanFile(serializePlanFile(copy));
    };

    const otherAfter = edit((p) => (p.providers[0]!.changes[0]!.after = { ttl: 300, values: ["203.0.113.66"] }));
    expect(refusal(await apply(runtime, otherAfter))).toMatch(/RRset changes .* are not what its actions make of what it read/);

    const extraAction = edit((p) => {
      const pool = p.providers[0]!.pools[0]!;
      const held = pool.held.pop()!;
      pool.actions.push(held.action);
      p.providers[0]!.changes[0]!.after = { ttl: 300, values: ["192.0.2.10"] };
    });
    expect(refusal(await apply(runtime, extraAction))).toMatch(/the plan's actions do not follow from its own reads and health/);

    const unknownKind = edit((p) => p.providers[0]!.pools[0]!.actions.push({ pool: "smtp.example.com", type: "A", kind: "wipe", reason: "because" }));
    expect(refusal(await apply(runtime, unknownKind))).toMatch(/the plan's actions do not follow from its own reads and health/);

    const forgedNative = edit((p) => {
      const forged = { records: [{ value: "192.0.2.10", ttl: 300, line: 1 }] };
      p.providers[0]!.pools[0]!.read.A!.native = forged;
      p.providers[0]!.changes.find((c) => c.key.type === "A")!.before!.native = forged;
    });
    expect(refusal(await apply(runtime, forgedNative))).toMatch(/the provider's records behind it changed/);

    // Forcing, or hiding prober isolation, in the file does not switch the safety rules off.
    const forced = edit((p) => {
      p.options.force = true;
      const pool = p.providers[0]!.pools[0]!;
      pool.actions.push(pool.held.pop()!.action);
      p.providers[0]!.changes[0]!.after = { ttl: 300, values: ["192.0.2.10"] };
    });
    expect(refusal(await apply(runtime, forced))).toMatch(/the plan was made with --force .*apply it with --force/);
    const isolated = edit((p) => (p.proberIsolation = "made up"));
    expect(refusal(await apply(runtime, isolated))).toMatch(/the plan's proberIsolation \("made up"\) is not what its own health says \(null\)/);

    expect(() => parsePlanFile(serializePlanFile(file).replace('"format"', '"sneaky": true, "format"'))).toThrow(PlanFileError);
    expect(() => parsePlanFile(serializePlanFile(file).replace('"version": 1', '"version": 2'))).toThrow(/version 2 is not supported/);
    expect(() => parsePlanFile("{ not json")).toThrow(/not JSON/);
    expect(() => parsePlanFile(JSON.stringify({ ...file, configHash: "md5:abc" }))).toThrow(/configHash/);

    expect(await readFile(zone.path, "utf8")).toBe(bytes);
    expect((await apply(runtime, file)).status).toBe("applied");
    await runtime.close();
  });

  it("a plan made inside the change window is refused once the window has closed", async () => {
    const zone = await zoneCopy();
    cleanup = zone.cleanup;
    // T0 is a Tuesday 05:06 UTC; the window opens every day at 05:00 for 10 minutes.
    const config = zoneConfig(zone.path, 50, '{ cron: "0 5 * * *", durationMinutes: 10 }');
    const runtime = createRuntime(config, logger, { probe: probe(["192.0.2.12"]), env: {}, now: () => T0 });
    const file = await planned(runtime);
    expect(file.providers[0]!.pools[0]!.actions.map((a) => a.kind)).toEqual(["remove"]);
    const bytes = await readFile(zone.path, "utf8");
    expect(refusal(await apply(runtime, file, at(5)))).toMatch(/pool smtp\.example\.com: remove 192\.0\.2\.12 would be held by changeWindow now: outside the change window/);
    expect(await readFile(zone.path, "utf8")).toBe(bytes);
    expect((await apply(runtime, file, at(3))).status).toBe("applied");
    // Planned outside the window, the removal is held in the saved plan like any held change.
    const late = createRuntime(config, logger, { probe: probe(["192.0.2.11", "192.0.2.12"]), env: {}, now: at(30) });
    const held = await planned(late, at(30)());
    expect(held.providers[0]!.pools[0]!.held.map((h) => h.rule)).toEqual(["changeWindow"]);
    expect(held.providers[0]!.changes).toEqual([]);
    await Promise.all([runtime.close(), late.close()]);
  });

  it("a plan with nothing to do applies as a no-op", async () => {
    const { zone, runtime, file, bytes } = await setUp([]);
    expect(file.providers[0]!.changes).toEqual([]);
    expect((await apply(runtime, file)).status).toBe("applied");
    expect(await readFile(zone.path, "utf8")).toBe(bytes);
    await runtime.close();
  });

  it("does not save a plan whose provider failed", async () => {
    const zone = await zoneCopy();
    cleanup = zone.cleanup;
    const runtime = createRuntime(zoneConfig(join(zone.dir, "missing.zone")), logger, { probe: probe([]), env: {} });
    const report = await runCycle(runtime, { dryRun: true, signal: signal() });
    expect(() => buildPlanFile({ config: runtime.config, report, now: T0, force: false, adopt: false })).toThrow(/not saving a plan: provider zone/);
    await runtime.close();
  });
});

// ---- the API fakes ------------------------------------------------------------------------

const POOLS = ["smtp.example.com"];
const MEMBERS = ["192.0.2.10", "192.0.2.11", "192.0.2.12"];
const apiConfig = parseConfig(
  `controllerId: ${CONTROLLER}
defaults: { rise: 1, fall: 1, confirmIntervalMs: 0 }
providers: { p: { type: memory } }
pools:
  - { name: smtp.example.com, provider: p, checks: [smtp], members: [${MEMBERS.map((a) => `{ address: ${a} }`).join(", ")}] }`,
  { env: {} },
);
const withProvider = (provider: Provider) => createRuntime(apiConfig, logger, { probe: probe(["192.0.2.12"]), providers: new Map([["p", provider]]) });

describe("saved plan through the Route 53 fake", () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  async function setUp() {
    rig = await startRig();
    rig.fake.put(rig.zoneId, { name: "smtp.example.com.", type: "A", ttl: 300, values: MEMBERS });
    rig.fake.put(rig.zoneId, { name: "_mailpool.smtp.example.com.", type: "TXT", ttl: 300, values: [`"mailpool owner=${CONTROLLER}"`] });
    const runtime = withProvider(await rig.provider({}, POOLS.map((name) => ({ name, recordStyle: "simple" as const }))));
    return { runtime, file: await planned(runtime) };
  }

  it("applies the saved removal in one change batch", async () => {
    const { runtime, file } = await setUp();
    expect(rig!.fake.requests("ChangeResourceRecordSets")).toHaveLength(0);
    expect((await apply(runtime, file)).status).toBe("applied");
    expect(rig!.fake.requests("ChangeResourceRecordSets")).toHaveLength(1);
    expect(rig!.fake.find(rig!.zoneId, "smtp.example.com.", "A")[0]!.values).toEqual(["192.0.2.10", "192.0.2.11"]);
  });

  it("refuses when someone changed the record set meanwhile, writing nothing", async () => {
    const { runtime, file } = await setUp();
    rig!.fake.put(rig!.zoneId, { name: "smtp.example.com.", type: "A", ttl: 600, values: MEMBERS });
    expect(refusal(await apply(runtime, file))).toMatch(/smtp\.example\.com A changed since the plan was made: ttl 300 → 600/);
    expect(rig!.fake.requests("ChangeResourceRecordSets")).toHaveLength(0);
    expect(rig!.fake.find(rig!.zoneId, "smtp.example.com.", "A")[0]).toMatchObject({ ttl: 600, values: MEMBERS });
  });

  it("a change landing between the check and the write is refused by the provider's compare-and-swap", async () => {
    const { runtime, file } = await setUp();
    rig!.fake.onRequest((info) => {
      if (info.action === "ChangeResourceRecordSets") rig!.fake.put(rig!.zoneId, { name: "smtp.example.com.", type: "A", ttl: 300, values: ["192.0.2.10"] });
    });
    const outcome = await apply(runtime, file);
    expect(outcome.status).toBe("applied");
    if (outcome.status === "applied") expect(outcome.report.results[0]!.error?.message).toMatch(/changed between the check and the write/);
    expect(rig!.fake.find(rig!.zoneId, "smtp.example.com.", "A")[0]!.values).toEqual(["192.0.2.10"]);
  });
});

describe("saved plan through the Cloudflare fake", () => {
  let cf: Harness | undefined;
  afterEach(async () => {
    await cf?.fake.close();
    cf = undefined;
  });

  async function setUp() {
    cf = await harness();
    seedMarker(cf);
    for (const a of MEMBERS) seedA(cf, a);
    const runtime = withProvider(await cf.provider());
    return { runtime, file: await planned(runtime) };
  }

  it("applies the saved removal", async () => {
    const { runtime, file } = await setUp();
    expect(cf!.fake.writes()).toEqual([]);
    expect((await apply(runtime, file)).status).toBe("applied");
    expect(addresses(cf!)).toEqual(["192.0.2.10", "192.0.2.11"]);
  });

  it("refuses when a record was replaced meanwhile (same values, another record id)", async () => {
    const { runtime, file } = await setUp();
    const old = cf!.fake.records(cf!.zoneId, "smtp.example.com", "A").find((r) => r.content === "192.0.2.11")!;
    cf!.fake.remove(cf!.zoneId, old.id);
    seedA(cf!, "192.0.2.11");
    const writes = cf!.fake.writes().length;
    expect(refusal(await apply(runtime, file))).toMatch(/smtp\.example\.com A changed since the plan was made: the provider's records behind it changed/);
    expect(cf!.fake.writes()).toHaveLength(writes);
    expect(addresses(cf!)).toEqual(MEMBERS);
  });
});
