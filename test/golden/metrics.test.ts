/**
 * The daemon's /metrics exposition pinned as a golden file, for a fixed state: two pools, a
 * removal applied, a removal held by minHealthy, fixed probe durations and a fixed clock, so
 * every value is the same on each run. prom-client's process metrics are off (they measure
 * this process); the one label that names the machine's Node.js is normalised. Samples of one
 * family are sorted by their labels: prom-client prints them in the order label sets first
 * appeared, which follows the order concurrent probes finished in, and that is not a contract.
 */
import { afterEach, describe, it } from "vitest";
import { poolRecords, startHarness, type Harness } from "../daemon/harness.js";
import { MemoryProvider } from "../../providers/memory/memory-provider.js";
import { golden } from "./golden.js";

const CONFIG = `
controllerId: ci
schedule: "*/30 * * * * *"
defaults: { rise: 1, fall: 2 }
daemon:
  listen: "127.0.0.1:0"
  shutdownGraceMs: 5000
providers:
  mem: { type: memory }
pools:
  - name: smtp.example.com
    provider: mem
    checks: [smtp]
    members:
      - { address: 192.0.2.10, label: mx1 }
      - { address: 192.0.2.11, label: mx2 }
      - { address: 192.0.2.12, label: mx3, standby: 198.51.100.5 }
  - name: imap.example.com
    provider: mem
    checks: [imaps]
    safety: { minHealthy: 2 }
    members:
      - { address: 192.0.2.30, label: imap1 }
      - { address: 192.0.2.31, label: imap2 }
`;

/** The fixed instant the daemon's clock always reads (durations come out 0). */
const T = Date.UTC(2030, 0, 5, 12, 0, 0);

/** Sorts each family's samples by name and labels (without `le`, so buckets keep their order); normalises the Node.js version. */
export function normalise(text: string): string {
  const out: string[] = [];
  let samples: string[] = [];
  const flush = () => {
    const key = (l: string) => l.slice(0, l.lastIndexOf(" ")).replace(/,?le="[^"]*"/, "");
    out.push(...samples.map((l, i) => ({ l, i })).sort((a, b) => (key(a.l) < key(b.l) ? -1 : key(a.l) > key(b.l) ? 1 : a.i - b.i)).map((x) => x.l));
    samples = [];
  };
  for (const line of text.replace(/nodejs="[^"]*"/g, 'nodejs="<node>"').split("\n")) {
    if (line.startsWith("#")) {
      flush();
      out.push(line);
    } else if (line !== "") samples.push(line);
    else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out.join("\n");
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("/metrics (golden file)", () => {
  it("exposes the documented series with their help, types, labels and values for a fixed state", async () => {
    const provider = new MemoryProvider([
      ...poolRecords("smtp.example.com", ["192.0.2.10", "192.0.2.11", "192.0.2.12"]),
      ...poolRecords("imap.example.com", ["192.0.2.30", "192.0.2.31"]),
    ]);
    h = await startHarness(CONFIG, {
      provider,
      defaultMetrics: false,
      now: () => T,
      probe: async (target, check) => {
        const down = h?.down.has(target.host) ?? false;
        const base = { latencyMs: down ? 3 : 12, phases: [], warnings: [] };
        if (down) return { ...base, ok: false, reason: "connection refused" };
        return check.tls === "implicit"
          ? { ...base, ok: true, reason: "ok", tls: { protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", authorized: true, subject: "CN=imap.example.com", issuer: "CN=Example CA", subjectAltNames: "DNS:imap.example.com", validTo: "2031-02-01T00:00:00.000Z", daysLeft: 392 } }
          : { ...base, ok: true, reason: "ok" };
      },
    });
    await h.cycles(1);
    h.down.add("192.0.2.11");
    h.down.add("192.0.2.31");
    await h.cycle();
    await h.cycle(); // fall = 2: mx2 is removed; imap2's removal is held by minHealthy
    golden("metrics.prom", normalise((await h.get("/metrics")).text));
  });
});
