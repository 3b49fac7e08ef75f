/**
 * Probes on worker threads (src/probes/threads.ts): the same observations as on the main
 * thread, the same global bound, the same abort, and a dead worker fails its probes loudly.
 * The workers run the built script (dist/, made by `npm test`), as the CLI does.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { DIALOGUES } from "../../src/probes/protocols.js";
import { compileDialogue, probeDialogue } from "../../src/probes/scripted.js";
import { createProbeRunner } from "../../src/probes/index.js";
import { createThreadedProbeRunner, type ThreadedRunnerOptions } from "../../src/probes/threads.js";
import type { CheckSpec, Observation } from "../../src/probes/types.js";
import { testCerts } from "../fakes/certs.js";
import { checkFor, listen, never, targetOf, until } from "./helpers.js";

const DIST = join(import.meta.dirname, "../../dist/src/probes");
const SCRIPT = pathToFileURL(join(DIST, "probe-worker.js"));

beforeAll(() => {
  if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT.pathname} is missing: run \`npm run build\` first (npm test does)`);
});

function threaded(options: Omit<ThreadedRunnerOptions, "script"> & { script?: URL }) {
  const run = createThreadedProbeRunner({ script: SCRIPT, ...options });
  onTestFinished(() => run.close());
  return run;
}

/** What varies between two runs of the same probe: timings. */
const shape = (o: Observation) => ({ ...o, latencyMs: 0, phases: o.phases.map((p) => p.name), ...(o.tls && { tls: { ...o.tls, daysLeft: 0 } }) });

describe("createThreadedProbeRunner", () => {
  it("gives the observations the main thread gives: plain, STARTTLS with the config's CA, implicit TLS, a failure, a dialogue", async () => {
    const certs = await testCerts();
    const plain = await listen({ protocol: "smtp" });
    const starttls = await listen({ protocol: "smtp", tls: certs.valid });
    const implicit = await listen({ protocol: "imap", tls: certs.valid, implicitTls: true });
    const refused = await listen({ protocol: "pop3", behaviour: { greeting: "-ERR go away" } });
    const cases: [ReturnType<typeof targetOf>, CheckSpec][] = [
      [targetOf(plain), checkFor("smtp", "none")],
      [targetOf(starttls), checkFor("smtp", "starttls", {}, { ca: certs.ca })],
      [targetOf(starttls), checkFor("smtp", "starttls")], // unknown CA: a failure with its reason
      [targetOf(implicit), checkFor("imap", "implicit", {}, { ca: certs.ca })],
      [targetOf(refused), checkFor("pop3", "none")],
    ];
    const inProcess = createProbeRunner({ concurrency: 4 });
    const run = threaded({ concurrency: 4, threads: 2, mainThread: false });
    const here = await Promise.all(cases.map(([t, c]) => inProcess(t, c, never())));
    const there = await Promise.all(cases.map(([t, c]) => run(t, c, never())));
    expect(there.map(shape)).toEqual(here.map(shape));
    expect(there.map((o) => o.ok)).toEqual([true, true, false, true, false]);
    expect(there[1]?.tls?.authorized).toBe(true);
    // A dialogue check (compiled steps with regular expressions) crosses to the worker too.
    const l = await listen({ protocol: "lmtp" });
    const check: CheckSpec = {
      ...checkFor("smtp", "none"),
      name: "lmtp",
      protocol: "dialogue",
      port: l.port,
      dialogue: compileDialogue("lmtp", DIALOGUES.lmtp, { ehloName: "probe.example.org" }),
    };
    const a = await probeDialogue(targetOf(l), check, never());
    const b = await run(targetOf(l), check, never());
    expect(a).toMatchObject({ ok: true, capabilities: ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME"] });
    expect(shape(b)).toEqual(shape(a));
  });

  it("keeps `concurrency` global across its workers and runs every probe", async () => {
    const l = await listen({ protocol: "smtp", behaviour: { greetingDelayMs: 50 } });
    const run = threaded({ concurrency: 3, threads: 3 }); // the main thread and two workers
    const results = await Promise.all(Array.from({ length: 24 }, () => run(targetOf(l), checkFor("smtp", "none"), never())));
    expect(results.map((r) => r.reason)).toEqual(Array(24).fill("ok"));
    expect(l.connections).toBe(24);
    expect(l.peak).toBe(3);
  });

  it("aborts running probes in their workers and queued ones without connecting", async () => {
    const l = await listen({ protocol: "smtp", behaviour: { silent: true } });
    const run = threaded({ concurrency: 2, threads: 2, mainThread: false });
    const ac = new AbortController();
    const other = new AbortController();
    const probes = Array.from({ length: 6 }, () => run(targetOf(l), checkFor("smtp", "none", { timeoutMs: 30_000 }), ac.signal));
    await until(() => l.active === 2, "two running probes");
    ac.abort(new Error("cycle over"));
    const results = await Promise.all(probes);
    expect(results.map((r) => r.ok)).toEqual(Array(6).fill(false));
    expect(results.slice(2)).toEqual(Array(4).fill({ ok: false, reason: "aborted", latencyMs: 0, phases: [], warnings: [] }));
    expect(l.connections).toBe(2); // the queued four never connected
    // Another signal is not aborted by the first: the runner still probes.
    l.setBehaviour({ silent: false });
    expect((await run(targetOf(l), checkFor("smtp", "none"), other.signal)).ok).toBe(true);
    // An already-aborted signal never reaches a worker.
    expect((await run(targetOf(l), checkFor("smtp", "none"), ac.signal)).reason).toBe("aborted");
    expect(l.connections).toBe(3);
  });

  it("fails the probes of a worker that dies, with an error, and starts a new worker for the next", async () => {
    // A worker script that dies at its first message.
    const dying = new URL(`data:text/javascript,${encodeURIComponent('import { parentPort } from "node:worker_threads"; parentPort.on("message", () => process.exit(3));')}`);
    const run = threaded({ concurrency: 4, threads: 1, script: dying, mainThread: false });
    const l = await listen({ protocol: "smtp" });
    await expect(run(targetOf(l), checkFor("smtp", "none"), never())).rejects.toThrow(/probe worker exited \(code 3\)/);
    await expect(run(targetOf(l), checkFor("smtp", "none"), never())).rejects.toThrow(/probe worker exited \(code 3\)/);
  });

  it("never keeps the process alive once idle, and a probe in flight on a worker does", () => {
    // A child probes twice at once, on two threads: the first probe (the main thread's) on a
    // server that answers at once, the second (the worker's) on one that greets after 300 ms,
    // when only the worker's probe in flight keeps the child's loop alive. It never calls
    // close(): it must print both results, then exit by itself.
    const code = `
      import { createServer } from "node:net";
      import { createThreadedProbeRunner } from ${JSON.stringify(pathToFileURL(join(DIST, "threads.js")).href)};
      import { BUILTIN_CHECKS } from ${JSON.stringify(pathToFileURL(join(DIST, "builtin-checks.js")).href)};
      // Nothing of the servers' own (listener, accepted sockets, greeting timers) holds the loop.
      const serve = (delay) => createServer((s) => {
        s.unref();
        setTimeout(() => s.write("220 hi\\r\\n"), delay).unref();
        s.on("data", (d) => { const t = d.toString(); if (t.startsWith("EHLO")) s.write("250 ok\\r\\n"); if (t.startsWith("QUIT")) s.end("221 bye\\r\\n"); });
      });
      const up = (server) => new Promise((r) => server.listen(0, "127.0.0.1", () => { server.unref(); r(server.address().port); }));
      const [fast, slow] = [await up(serve(0)), await up(serve(300))];
      const run = createThreadedProbeRunner({ concurrency: 2, threads: 2 });
      const probe = (port) => run({ host: "127.0.0.1", port }, { ...BUILTIN_CHECKS.smtp, name: "smtp", port }, new AbortController().signal);
      const [a, b] = await Promise.all([probe(fast), probe(slow)]);
      console.log(a.reason, b.reason, b.latencyMs >= 290);`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 20_000 });
    expect(out.trim()).toBe("ok ok true");
  });

  it("refuses new probes once closed", async () => {
    const run = threaded({ concurrency: 1, threads: 1 });
    await run.close();
    await expect(run({ host: "127.0.0.1", port: 1 }, checkFor("smtp", "none"), never())).rejects.toThrow(/closed/);
  });
});
