/**
 * The zone-file provider under the real controller: reconcileProvider reads the zone, plans,
 * guards, and applies through the provider.
 */
import { readFile, writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { ApplyResult, Provider, RRsetChange } from "../../../providers/types.js";
import { create, parseZone, rrsetOf } from "../../../providers/zonefile/index.js";
import { reconcileProvider } from "../../../src/controller/reconcile.js";
import type { HealthView, PoolSpec, Verdict } from "../../../src/model.js";
import { pool } from "../../helpers/pools.js";
import { context, lineDiff, listDir, signal, zoneCopy } from "./zone-test-kit.js";

const NOW = new Date("2026-11-24T10:00:00Z");
const RETRY = { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 20 };
const safety = { neverEmpty: true, minHealthy: 1, failOpen: true, maxRemovePercent: 50 };

const member = (address: string) => ({ address, label: address });
const SMTP: PoolSpec = pool({ provider: "zone", safety, addresses: ["192.0.2.10", "192.0.2.11", "192.0.2.12", "2001:db8::10", "2001:db8::11"] });
/** pop.example.com has no ownership marker in the fixture. */
const POP: PoolSpec = { ...SMTP, name: "pop.example.com", members: ["192.0.2.30", "192.0.2.31"].map(member) };

const downOnly =
  (...down: string[]): HealthView =>
  (_pool, address): Verdict =>
    down.includes(address)
      ? { health: "down", reason: "timeout waiting for banner after 1000 ms" }
      : { health: "up", reason: "220 banner in 3 ms" };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const copy = await zoneCopy();
  cleanups.push(copy.cleanup);
  const provider = await create({ type: "zonefile", path: copy.path }, context(["smtp.example.com", "pop.example.com"]), {
    now: () => NOW,
  });
  return { ...copy, provider, original: await readFile(copy.path, "latin1") };
}

const reconcile = (provider: Provider, pools: PoolSpec[], health: HealthView, dryRun: boolean) =>
  reconcileProvider({
    provider,
    providerName: "zone",
    pools,
    health,
    controllerId: "test",
    dryRun,
    signal: signal(),
    retry: RETRY,
  });

describe("reconcileProvider with the zone-file provider", () => {
  it("takes a down member's A record out of the file and touches nothing else", async () => {
    const { provider, path, original } = await setup();
    const result = await reconcile(provider, [SMTP], downOnly("192.0.2.10"), false);
    expect(result.error).toBeUndefined();
    expect(result.attempts).toBe(1);
    expect(result.plans[0]?.actions.map((a) => [a.kind, a.address])).toEqual([["remove", "192.0.2.10"]]);
    expect(result.applied?.applied).toBe(1);
    expect(result.applied?.notes).toContain("serial 2026112401 → 2026112402");
    const text = await readFile(path, "latin1");
    expect(rrsetOf(parseZone(text), { name: "smtp.example.com", type: "A" })?.values).toEqual(["192.0.2.11", "192.0.2.12"]);
    expect(lineDiff(original, text)).toEqual({
      removed: [
        "                        2026112401 ; serial (YYYYMMDDnn)",
        "smtp    300     IN      A       192.0.2.10",
        "        300     IN      A       192.0.2.11",
        "        300             A       192.0.2.12      ; third member, added 2026-10",
      ],
      added: [
        "                        2026112402 ; serial (YYYYMMDDnn)",
        "smtp.example.com.\t300\tIN\tA\t192.0.2.11",
        "smtp.example.com.\t300\tIN\tA\t192.0.2.12",
      ],
    });

    // The next cycle finds nothing to do and writes nothing.
    const again = await reconcile(provider, [SMTP], downOnly("192.0.2.10"), false);
    expect(again.applied).toBeNull();
    expect(await readFile(path, "latin1")).toBe(text);
  });

  it("dry-run plans the removal and leaves the file byte-identical", async () => {
    const { provider, path, original, dir } = await setup();
    const result = await reconcile(provider, [SMTP], downOnly("192.0.2.10"), true);
    expect(result.error).toBeUndefined();
    expect(result.applied).toBeNull();
    expect(result.plans[0]?.actions.map((a) => [a.kind, a.address])).toEqual([["remove", "192.0.2.10"]]);
    expect(await readFile(path, "latin1")).toBe(original);
    expect(await listDir(dir)).toEqual(["example.com.zone"]);
  });

  it("leaves a pool without its ownership marker alone and says why", async () => {
    const { provider, path, original } = await setup();
    const result = await reconcile(provider, [POP], downOnly("192.0.2.30"), false);
    expect(result.applied).toBeNull();
    // The removal, and the TTL fix and repair the drift of pop's records asks for: all held.
    expect(result.plans[0]?.held.map((h) => [h.rule, h.action.kind])).toEqual([
      ["ownership", "remove"],
      ["ownership", "ttl"],
      ["ownership", "repair"],
    ]);
    expect(result.plans[0]?.held[0]?.why).toContain("no ownership marker at _mailpool.pop.example.com TXT");
    expect(await readFile(path, "latin1")).toBe(original);
  });

  it("re-reads and re-plans when someone edits the zone between read and apply", async () => {
    const { provider, path } = await setup();
    let edited = false;
    // The real provider; before its first apply an operator removes 192.0.2.12 by hand.
    const racing: Provider = {
      kind: provider.kind,
      read: (keys, s) => provider.read(keys, s),
      apply: async (changes: readonly RRsetChange[], s): Promise<ApplyResult> => {
        if (!edited) {
          edited = true;
          const text = await readFile(path, "latin1");
          await writeFile(path, text.replace("        300             A       192.0.2.12      ; third member, added 2026-10\n", ""), "latin1");
        }
        return provider.apply(changes, s);
      },
    };
    const result = await reconcile(racing, [SMTP], downOnly("192.0.2.10"), false);
    expect(result.error).toBeUndefined();
    expect(result.attempts).toBe(2);
    // Re-planned from the edited file: 192.0.2.10 removed, and healthy 192.0.2.12 reinstated.
    expect(result.plans[0]?.actions.map((a) => [a.kind, a.address])).toEqual([
      ["remove", "192.0.2.10"],
      ["reinstate", "192.0.2.12"],
    ]);
    const smtp = rrsetOf(parseZone(await readFile(path, "latin1")), { name: "smtp.example.com", type: "A" });
    expect([...(smtp?.values ?? [])].sort()).toEqual(["192.0.2.11", "192.0.2.12"]);
  });
});
