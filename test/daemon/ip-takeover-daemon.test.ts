import { afterEach, describe, expect, it } from "vitest";
import { MemoryIpAdapter } from "../fakes/memory-ip-adapter.js";
import { sample, startHarness, type Harness } from "./harness.js";

const CONFIG = `
controllerId: ci
schedule: "*/30 * * * * *"
defaults: { rise: 1, fall: 2 }
daemon: { listen: "127.0.0.1:0", shutdownGraceMs: 5000 }
providers:
  mem: { type: memory }
ipTakeover:
  onprem: { type: exec, command: [/bin/false] }
pools:
  - name: smtp.example.com
    provider: mem
    checks: [smtp]
    members:
      - { address: 192.0.2.10, label: mx1, hostAddress: 10.0.0.4, ipTakeover: { via: onprem, standby: 10.0.0.5 } }
      - { address: 192.0.2.11, label: mx2 }
      - { address: 192.0.2.12, label: mx3 }
`;

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("IP takeover in the daemon", () => {
  it("moves after `fall` failed rounds of the host; /status and /metrics show who holds the address", async () => {
    const ip = new MemoryIpAdapter();
    ip.set("192.0.2.10", { kind: "host", host: "10.0.0.4" });
    h = await startHarness(CONFIG, { runtime: { ipAdapters: new Map([["onprem", ip]]), sleep: async () => undefined } });
    await h.cycle();
    h.down.add("10.0.0.4");
    await h.cycle();
    expect(ip.moves).toEqual([]); // one failure: fall is 2
    await h.cycle();
    expect(ip.moves.map((m) => [m.action, m.to])).toEqual([["takeover", "10.0.0.5"]]);
    // The DNS records are untouched: the address lives on at the standby.
    expect(h.provider.get({ name: "smtp.example.com", type: "A" })?.values).toEqual(["192.0.2.10", "192.0.2.11", "192.0.2.12"]);

    const status = JSON.parse((await h.get("/status")).text) as { pools: { ipTakeover: { address: string; holder: string }[]; members: { address: string; role: string; health: string }[] }[] };
    expect(status.pools[0]!.ipTakeover).toEqual([expect.objectContaining({ address: "192.0.2.10", holder: "standby", standby: "10.0.0.5" })]);
    expect(status.pools[0]!.members).toEqual(expect.arrayContaining([expect.objectContaining({ address: "10.0.0.4", role: "host", health: "down" })]));
    const metrics = (await h.get("/metrics")).text;
    expect(sample(metrics, "mailpool_ip_moves_total", { kind: "takeover-ip", result: "ok" })).toBe(1);
    expect(sample(metrics, "mailpool_ip_address_holder", { pool: "smtp.example.com", address: "192.0.2.10", holder: "standby" })).toBe(1);
    expect(sample(metrics, "mailpool_address_up", { pool: "smtp.example.com", address: "10.0.0.4", role: "host" })).toBe(0);

    // The host is back: one passed round (rise 1) returns the address.
    h.down.delete("10.0.0.4");
    await h.cycle();
    expect(ip.moves.map((m) => m.action)).toEqual(["takeover", "return"]);
    expect(ip.holder("192.0.2.10")).toEqual({ kind: "host", host: "10.0.0.4" });
  });

  it("a daemon in dry-run mode reads and plans, and never moves", async () => {
    const ip = new MemoryIpAdapter();
    ip.set("192.0.2.10", { kind: "host", host: "10.0.0.4" });
    h = await startHarness(CONFIG, { dryRun: true, runtime: { ipAdapters: new Map([["onprem", ip]]) } });
    h.down.add("10.0.0.4");
    await h.cycle();
    await h.cycle();
    expect(ip.reads).toBe(2);
    expect(ip.moves).toEqual([]);
    const status = JSON.parse((await h.get("/status")).text) as { schedules: { lastPlan: { ipTakeover: { actions: unknown[] } } }[] };
    expect(status.schedules[0]!.lastPlan.ipTakeover.actions).toEqual([expect.objectContaining({ kind: "takeover-ip", to: "10.0.0.5" })]);
  });
});
