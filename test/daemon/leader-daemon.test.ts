/**
 * Two daemons, one DNS provider, one Lease on a fake Kubernetes API server: only the leader
 * writes; the follower probes, plans and serves. When the leader's API connection dies it stops
 * applying by itself before its lease can expire, the follower takes over, and the record of
 * every apply shows there was never a moment with two appliers.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Provider } from "../../providers/types.js";
import { MemoryProvider } from "../../providers/memory/memory-provider.js";
import { testCerts } from "../fakes/certs.js";
import { FakeKubeApiServer } from "../fakes/kube-api-server.js";
import { CONFIG, failObservation, okObservation, poolRecords, sample, startHarness, type Harness } from "./harness.js";

const LEASE_S = 3;

let fake: FakeKubeApiServer | undefined;
const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.stop()));
  await fake?.stop();
  fake = undefined;
});

function kubeconfig(server: string, token: string, ca: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "mailpool-kube-")), "config");
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "${server}", certificate-authority-data: "${Buffer.from(ca).toString("base64")}" } }]
users: [{ name: u, user: { token: "${token}" } }]
contexts: [{ name: c, context: { cluster: fake, user: u, namespace: mail } }]
current-context: c
`,
  );
  return path;
}

interface Window {
  who: string;
  start: number;
  end?: number;
}

describe("two daemons with leader election", () => {
  it("one applier at a time, across a leader losing its API connection", async () => {
    const certs = await testCerts();
    fake = await new FakeKubeApiServer({ tokens: { "token-a": "a", "token-b": "b" }, tls: certs.valid }).start();
    const dns = new MemoryProvider(poolRecords("smtp.example.com", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]));
    // Each apply takes a while (and gives up when its signal fires), so overlaps would show.
    const slow = (p: MemoryProvider): Provider => ({
      kind: "memory",
      read: (k, s) => p.read(k, s),
      apply: async (c, s) => {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, 60);
          s.addEventListener("abort", () => (clearTimeout(t), reject(s.reason)), { once: true });
        });
        return p.apply(c, s);
      },
    });
    let flap = false; // 192.0.2.12 alternates: every cycle has a change to apply
    const probe = async (target: { host: string }) => (target.host === "192.0.2.12" && flap ? failObservation() : okObservation());
    const windows: Window[] = [];
    const open = new Map<string, Window>();
    const start = async (who: string) => {
      const daemon = `  leaderElection:
    enabled: true
    identity: ${who}
    kubeconfig: ${kubeconfig(fake!.url, `token-${who}`, certs.ca)}
    leaseDurationSeconds: ${LEASE_S}
    renewDeadlineSeconds: 2
    retryPeriodSeconds: 0.2`;
      const h = await startHarness(CONFIG("", daemon).replace("defaults: { rise: 1, fall: 2 }", "defaults: { rise: 1, fall: 1 }"), {
        provider: dns,
        wrap: slow,
        probe,
        defaultMetrics: false,
        onApply: (phase) => {
          if (phase === "start") {
            const w: Window = { who, start: performance.now() };
            windows.push(w);
            open.set(who, w);
          } else open.get(who)!.end = performance.now();
        },
      });
      harnesses.push(h);
      return h;
    };
    const a = await start("a");
    await waitFor("a leads", async () => JSON.parse((await a.get("/status")).text).role === "leader");
    const b = await start("b");
    await a.cycles(1);
    await b.cycles(1);

    const round = async () => {
      flap = !flap;
      await Promise.all([a.cycle(), b.cycle()]);
    };
    for (let i = 0; i < 4; i++) await round();
    expect(windows.filter((w) => w.who === "a").length).toBeGreaterThanOrEqual(3);
    expect(windows.filter((w) => w.who === "b")).toEqual([]);
    const bStatus = JSON.parse((await b.get("/status")).text);
    expect(bStatus).toMatchObject({ role: "follower", applies: false, leaderElection: { enabled: true, identity: "b", holder: "a" } });
    // The follower still plans: its last plan has the change the leader applied.
    expect(bStatus.schedules[0].lastPlan.dryRun).toBe(true);
    expect(sample((await b.get("/metrics")).text, "mailpool_leader")).toBe(0);

    fake.cut("a");
    const cutAt = performance.now();
    // Keep both cycling while the lease changes hands.
    while (JSON.parse((await b.get("/status")).text).role !== "leader") {
      if (performance.now() - cutAt > 20_000) throw new Error("b never took over");
      await round();
    }
    for (let i = 0; i < 4; i++) await round();

    const aStatus = JSON.parse((await a.get("/status")).text);
    expect(aStatus.role).toBe("follower");
    expect(sample((await a.get("/metrics")).text, "mailpool_leader")).toBe(0);
    const after = windows.filter((w) => w.start > cutAt);
    expect(after.some((w) => w.who === "b")).toBe(true);

    // a stopped on its own, before its lease could expire: after a's last renewal the server
    // saw, every a-apply ended within the lease duration.
    const aLastRenew = Math.max(...fake.requests.filter((r) => r.client === "a" && r.method === "PUT" && r.status === 200).map((r) => r.at));
    for (const w of windows.filter((x) => x.who === "a")) expect(w.end!).toBeLessThan(aLastRenew + LEASE_S * 1000);
    // And never two appliers at once.
    for (const x of windows) {
      for (const y of windows) {
        if (x.who === y.who) continue;
        expect(x.end! <= y.start || y.end! <= x.start, `${x.who} ${x.start}–${x.end} overlaps ${y.who} ${y.start}–${y.end}`).toBe(true);
      }
    }
    expect(fake.lease("mail", "mailpool")!.spec.holderIdentity).toBe("b");
  }, 60_000);

  it("a leader that stops (SIGTERM) releases the Lease; the other takes over without waiting it out", async () => {
    const certs = await testCerts();
    fake = await new FakeKubeApiServer({ tokens: { "token-a": "a", "token-b": "b" }, tls: certs.valid }).start();
    const dns = new MemoryProvider(poolRecords("smtp.example.com", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]));
    const start = (who: string) =>
      startHarness(
        CONFIG(
          "",
          `  leaderElection: { enabled: true, identity: ${who}, kubeconfig: ${kubeconfig(fake!.url, `token-${who}`, certs.ca)}, leaseDurationSeconds: 10, renewDeadlineSeconds: 5, retryPeriodSeconds: 0.2 }`,
        ),
        { provider: dns, defaultMetrics: false },
      );
    const a = await start("a");
    harnesses.push(a);
    await waitFor("a leads", async () => JSON.parse((await a.get("/status")).text).role === "leader");
    const b = await start("b");
    harnesses.push(b);
    await b.cycles(1);
    a.signals.emit("SIGTERM", "SIGTERM");
    expect(await a.done).toBe(0);
    harnesses.splice(harnesses.indexOf(a), 1);
    expect(fake.lease("mail", "mailpool")!.spec.holderIdentity).not.toBe("a");
    const released = performance.now();
    await waitFor("b leads", async () => JSON.parse((await b.get("/status")).text).role === "leader");
    expect(performance.now() - released).toBeLessThan(10_000); // well inside the 10 s lease
  }, 30_000);
});

async function waitFor(what: string, f: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await f())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
