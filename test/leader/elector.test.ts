/**
 * Leader election against a wire-level fake Kubernetes API server on loopback: real
 * @kubernetes/client-node clients (kubeconfig and in-cluster), real HTTP, 409s on stale
 * resourceVersions. Durations are short but every assertion is about order (who applied when,
 * relative to the Lease writes the server recorded), never about speed.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LeaderElector } from "../../src/leader/elector.js";
import { kubeLeaseApi, resolveKube } from "../../src/leader/kube.js";
import { testCerts } from "../fakes/certs.js";
import { FakeKubeApiServer } from "../fakes/kube-api-server.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const LEASE_MS = 3000;
const RENEW_MS = 2000;
const RETRY_MS = 200;

let fake: FakeKubeApiServer | undefined;
const electors: LeaderElector[] = [];
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
  await fake?.stop();
  fake = undefined;
});

let ca = "";
function kubeconfigFor(server: string, token: string, namespace = "mail"): string {
  const dir = mkdtempSync(join(tmpdir(), "mailpool-kube-"));
  const path = join(dir, "config");
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "${server}", certificate-authority-data: "${Buffer.from(ca).toString("base64")}" } }]
users: [{ name: u, user: { token: "${token}" } }]
contexts: [{ name: c, context: { cluster: fake, user: u, namespace: ${namespace} } }]
current-context: c
`,
  );
  return path;
}

async function startFake(tokens: Record<string, string>): Promise<FakeKubeApiServer> {
  const certs = await testCerts();
  ca = certs.ca;
  return new FakeKubeApiServer({ tokens, tls: certs.valid }).start();
}

function elector(server: FakeKubeApiServer, who: string, onChange?: (leader: boolean) => void): LeaderElector {
  const { kubeConfig, namespace, identity } = resolveKube(
    { leaseName: "mailpool", kubeconfig: kubeconfigFor(server.url, `token-${who}`), identity: who },
    { env: {}, serviceAccountDir: "/nonexistent" },
  );
  const e = new LeaderElector({
    api: kubeLeaseApi(kubeConfig, namespace, "mailpool"),
    identity,
    leaseDurationMs: LEASE_MS,
    renewDeadlineMs: RENEW_MS,
    retryPeriodMs: RETRY_MS,
    logger: silent,
    ...(onChange ? { onChange } : {}),
  });
  electors.push(e);
  return e;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
  });

async function until(what: string, f: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!f()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface ApplyWindow {
  who: string;
  start: number;
  end: number;
}

/** What the daemon does: apply only while the elector says leader, inside the term's signal. */
function applier(who: string, e: LeaderElector, windows: ApplyWindow[], stop: AbortSignal): Promise<void> {
  return (async () => {
    while (!stop.aborted) {
      if (e.isLeader()) {
        const term = e.leadership;
        const start = performance.now();
        await sleep(40, term); // the "write"; a lost term cuts it short
        windows.push({ who, start, end: performance.now() });
      } else await sleep(15);
    }
  })();
}

describe("leader election on a Lease", () => {
  it("two candidates: exactly one leads; the Lease names it; the other follows and keeps reading", async () => {
    fake = await startFake({ "token-a": "a", "token-b": "b" });
    const a = elector(fake, "a");
    const b = elector(fake, "b");
    a.start();
    b.start();
    await until("a leader", () => a.isLeader() || b.isLeader());
    await sleep(RETRY_MS * 5);
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    const leader = a.isLeader() ? "a" : "b";
    const lease = fake.lease("mail", "mailpool")!;
    expect(lease.spec).toMatchObject({ holderIdentity: leader, leaseDurationSeconds: 3, leaseTransitions: 0 });
    expect(lease.spec.renewTime).toMatch(/\.\d{6}Z$/);
    const follower = leader === "a" ? b : a;
    expect(follower.observedHolder).toBe(leader);
    // The follower only reads; every write came from the leader (at most one losing POST race).
    const writes = fake.writes().filter((w) => w.status < 300);
    expect(new Set(writes.map((w) => w.client))).toEqual(new Set([leader]));
    // Renewals keep coming.
    expect(writes.length).toBeGreaterThan(2);
  });

  it("a stale resourceVersion gets 409; the elector re-reads and renews instead of overwriting", async () => {
    fake = await startFake({ "token-a": "a" });
    const a = elector(fake, "a");
    a.start();
    await until("leadership", () => a.isLeader());
    const before = fake.requests.length;
    fake.touchAfterNextGet("mail", "mailpool"); // someone else writes between our read and our write
    await until("a 409 and a later successful renew", () => {
      const later = fake!.requests.slice(before);
      const i = later.findIndex((r) => r.method === "PUT" && r.status === 409);
      return i >= 0 && later.slice(i + 1).some((r) => r.method === "PUT" && r.status === 200);
    });
    // The 409 was followed by a fresh GET before the next PUT: it re-read, it did not retry blindly.
    const later = fake.requests.slice(before);
    const i = later.findIndex((r) => r.method === "PUT" && r.status === 409);
    expect(later[i + 1]!.method).toBe("GET");
    expect(a.isLeader()).toBe(true);
  });

  it("the leader loses its API connection: it stops applying before its lease can expire, and the other takes over; never two appliers", async () => {
    fake = await startFake({ "token-a": "a", "token-b": "b" });
    const changes: { who: string; leader: boolean; at: number }[] = [];
    const a = elector(fake, "a", (l) => changes.push({ who: "a", leader: l, at: performance.now() }));
    a.start();
    await until("a leads", () => a.isLeader());
    const b = elector(fake, "b", (l) => changes.push({ who: "b", leader: l, at: performance.now() }));
    b.start();
    const windows: ApplyWindow[] = [];
    const stop = new AbortController();
    const runs = [applier("a", a, windows, stop.signal), applier("b", b, windows, stop.signal)];
    await sleep(RETRY_MS * 5);
    expect(b.isLeader()).toBe(false);

    const cutAt = performance.now();
    fake.cut("a");
    await until("b leads", () => b.isLeader());
    await until("b applied", () => windows.some((w) => w.who === "b"));
    stop.abort();
    await Promise.all(runs);

    // a lost leadership by itself (renew deadline), before b acquired.
    const aLost = changes.find((c) => c.who === "a" && !c.leader)!;
    const bWon = changes.find((c) => c.who === "b" && c.leader)!;
    expect(aLost).toBeDefined();
    expect(aLost.at).toBeGreaterThan(cutAt);
    expect(aLost.at).toBeLessThan(bWon.at);

    // a's last successful write, as the server received it: a's term ended within the renew
    // deadline of it, so every a-apply ended before that write + the lease duration.
    const aLastWrite = Math.max(...fake.requests.filter((r) => r.client === "a" && r.method === "PUT" && r.status === 200).map((r) => r.at));
    const aWindows = windows.filter((w) => w.who === "a");
    const bWindows = windows.filter((w) => w.who === "b");
    expect(aWindows.length).toBeGreaterThan(0);
    expect(Math.max(...aWindows.map((w) => w.end))).toBeLessThan(aLastWrite + LEASE_MS);
    // b's takeover write came only after a's lease expired by b's clock.
    const bFirstWrite = fake.requests.find((r) => r.client === "b" && r.method === "PUT" && r.status === 200 && r.holder === "b")!;
    expect(bFirstWrite.at).toBeGreaterThanOrEqual(aLastWrite + LEASE_MS - 50);
    expect(fake.lease("mail", "mailpool")!.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });

    // Never a moment with two appliers.
    for (const x of aWindows) for (const y of bWindows) expect(x.end <= y.start || y.end <= x.start, `a ${x.start}–${x.end} overlaps b ${y.start}–${y.end}`).toBe(true);
  }, 30_000);

  it("the leader's requests hang unanswered: its term still ends at the renew deadline, not when a request gives up", async () => {
    fake = await startFake({ "token-a": "a", "token-b": "b" });
    const changes: { who: string; leader: boolean; at: number }[] = [];
    const a = elector(fake, "a", (l) => changes.push({ who: "a", leader: l, at: performance.now() }));
    a.start();
    await until("a leads", () => a.isLeader());
    const b = elector(fake, "b", (l) => changes.push({ who: "b", leader: l, at: performance.now() }));
    b.start();
    await sleep(RETRY_MS * 3);
    fake.hang("a");
    await until("b leads", () => b.isLeader());
    const aLastWrite = Math.max(...fake.requests.filter((r) => r.client === "a" && r.method === "PUT" && r.status === 200).map((r) => r.at));
    const aLost = changes.find((c) => c.who === "a" && !c.leader)!;
    const bWon = changes.find((c) => c.who === "b" && c.leader)!;
    // a's renewal was sent before the server received it, so a's deadline fell before
    // aLastWrite + RENEW_MS; the timer may be late on a busy machine, but never by the margin.
    expect(aLost.at).toBeLessThan(aLastWrite + LEASE_MS);
    expect(aLost.at).toBeGreaterThan(aLastWrite);
    expect(aLost.at).toBeLessThan(bWon.at);
    // a has stepped down. (Whether its hung request has given up yet is not asserted: under the
    // full suite's load with the clock shifted it was seen still pending after 20 s; see the
    // closing note of the session that merged this.)
    expect(a.isLeader()).toBe(false);
  }, 30_000);

  it("a leader that stops releases the Lease, so the follower takes over without waiting out the lease", async () => {
    fake = await startFake({ "token-a": "a", "token-b": "b" });
    const a = elector(fake, "a");
    a.start();
    await until("a leads", () => a.isLeader());
    const b = elector(fake, "b");
    b.start();
    await sleep(RETRY_MS * 3);
    await a.stop();
    expect(a.isLeader()).toBe(false);
    const released = fake.requests.filter((r) => r.client === "a" && r.method === "PUT" && r.status === 200).at(-1)!;
    expect(released.holder).toBe("");
    await until("b leads", () => b.isLeader());
    const bWon = fake.requests.find((r) => r.client === "b" && r.status === 200 && r.holder === "b")!;
    // Well within one lease duration: b did not wait for expiry.
    expect(bWon.at - released.at).toBeLessThan(LEASE_MS);
  });

  it("works in-cluster: HTTPS with the service account's CA, token file and namespace", async () => {
    const certs = await testCerts();
    fake = await new FakeKubeApiServer({ tokens: { "sa-token": "pod" }, tls: certs.valid }).start();
    const sa = mkdtempSync(join(tmpdir(), "mailpool-sa-"));
    writeFileSync(join(sa, "ca.crt"), certs.ca);
    writeFileSync(join(sa, "token"), "sa-token");
    writeFileSync(join(sa, "namespace"), "mail-system");
    const resolved = resolveKube(
      { leaseName: "mailpool" },
      { env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(fake.port), POD_NAME: "mailpool-7d9f-x2" }, serviceAccountDir: sa },
    );
    expect(resolved).toMatchObject({ namespace: "mail-system", identity: "mailpool-7d9f-x2", source: "in-cluster" });
    const e = new LeaderElector({
      api: kubeLeaseApi(resolved.kubeConfig, resolved.namespace, "mailpool"),
      identity: resolved.identity,
      leaseDurationMs: LEASE_MS,
      renewDeadlineMs: RENEW_MS,
      retryPeriodMs: RETRY_MS,
      logger: silent,
    });
    electors.push(e);
    e.start();
    await until("leadership in-cluster", () => e.isLeader());
    expect(fake.lease("mail-system", "mailpool")!.spec.holderIdentity).toBe("mailpool-7d9f-x2");
  });

  it("says plainly when there is no API to use", () => {
    expect(() => resolveKube({ leaseName: "x" }, { env: {}, serviceAccountDir: "/nonexistent", homedir: () => "/nonexistent" })).toThrow(
      /not in a cluster .* and no kubeconfig at \/nonexistent\/\.kube\/config/,
    );
  });
});
