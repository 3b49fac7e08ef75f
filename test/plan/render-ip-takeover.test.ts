import { describe, expect, it } from "vitest";
import { MemoryProvider } from "../../providers/memory/index.js";
import type { Provider } from "../../providers/types.js";
import { parseConfig } from "../../src/config/load.js";
import { runCycle, type CycleReport } from "../../src/controller/cycle.js";
import { createRuntime } from "../../src/controller/runtime.js";
import { HysteresisJudge } from "../../src/health/hysteresis.js";
import type { ProbeFn } from "../../src/health/probe-round.js";
import { createLogger } from "../../src/log.js";
import { renderJson, renderText } from "../../src/plan/render.js";
import { MemoryIpAdapter } from "../fakes/memory-ip-adapter.js";

const config = parseConfig(
  `controllerId: t
defaults: { rise: 1, fall: 1 }
providers: { mem: { type: memory }, broken: { type: memory } }
ipTakeover: { onprem: { type: exec, command: [/bin/false] } }
pools:
  - name: smtp.example.com
    provider: mem
    checks: [smtp]
    members:
      - { address: 192.0.2.10, label: mx1, hostAddress: 10.0.0.4, ipTakeover: { via: onprem, standby: 10.0.0.5 } }
      - { address: 192.0.2.11, label: mx2 }
      - { address: 192.0.2.12, label: mx3, hostAddress: 10.0.0.6, ipTakeover: { via: onprem, standby: 10.0.0.7 } }
  - name: imap.example.com
    provider: broken
    checks: [imap]
    members:
      - { address: 192.0.2.30, label: imap1, hostAddress: 10.0.0.30, ipTakeover: { via: onprem, standby: 10.0.0.32 } }`,
  { env: {} },
);

/**
 * mx1's host is down and its standby up: the address moves and the standby answers on it. mx3's
 * host and standby are both down: it stays. imap1's host is back while its standby holds the
 * address: it returns, although the imap pool's DNS provider cannot be read.
 */
async function report(dryRun: boolean): Promise<CycleReport> {
  const ip = new MemoryIpAdapter();
  ip.set("192.0.2.10", { kind: "host", host: "10.0.0.4" });
  ip.set("192.0.2.12", { kind: "host", host: "10.0.0.6" });
  ip.set("192.0.2.30", { kind: "host", host: "10.0.0.32" });
  const up = new Set(["10.0.0.5", "192.0.2.11", "10.0.0.30", "10.0.0.32"]);
  const probe: ProbeFn = async (t) => {
    const h = ip.holder(t.host);
    const host = h?.kind === "host" ? h.host : t.host;
    return up.has(host)
      ? { ok: true, reason: "ok", latencyMs: 1, phases: [], warnings: [], greeting: `220 ${host} ESMTP` }
      : { ok: false, reason: `connection refused by ${t.host}:${t.port}`, latencyMs: 1, phases: [], warnings: [] };
  };
  const mem = new MemoryProvider([
    { name: "smtp.example.com", type: "A", ttl: 300, values: ["192.0.2.10", "192.0.2.11", "192.0.2.12"] },
    { name: "_mailpool.smtp.example.com", type: "TXT", ttl: 300, values: ["mailpool owner=t"] },
  ]);
  const broken: Provider = {
    kind: "memory",
    read: async () => {
      throw new Error("zone not found");
    },
    apply: async () => ({ applied: 0, notes: [] }),
  };
  const runtime = createRuntime(config, createLogger("silent"), {
    probe,
    providers: new Map<string, Provider>([["mem", mem], ["broken", broken]]),
    ipAdapters: new Map([["onprem", ip]]),
    sleep: async () => undefined,
  });
  // No retries of the broken provider: its failure is the point, not its backoff.
  const once = { ...config, retry: { retries: 0, minTimeoutMs: 0, maxTimeoutMs: 0 } };
  return runCycle({ ...runtime, config: once }, { dryRun, judge: new HysteresisJudge(), signal: AbortSignal.timeout(5000) });
}

describe("IP takeover in the plan's renderings (golden files)", () => {
  it("text: who holds each address, the moves with their reasons and verification, alarms, a pool whose DNS failed", async () => {
    await expect(renderText(await report(false))).toMatchFileSnapshot("../golden/plan-ip-takeover.txt");
  });

  it("text in a dry run: the same moves, nothing moved", async () => {
    const text = renderText(await report(true));
    expect(text).not.toContain("verified");
    await expect(text).toMatchFileSnapshot("../golden/plan-ip-takeover-dry-run.txt");
  });

  it("JSON: the documented ipTakeover shape", async () => {
    const value = JSON.parse(renderJson(await report(false), { controllerId: "t", mode: "apply" })) as { ipTakeover: unknown; summary: unknown };
    await expect(JSON.stringify({ ipTakeover: value.ipTakeover, summary: value.summary }, null, 2) + "\n").toMatchFileSnapshot("../golden/plan-ip-takeover.json");
  });
});
