/**
 * Checks that speak a dialogue (`checks.X.dialogue`) and the config's own `dialogues:`: a line
 * protocol added with config alone, compiled at load, probing a real listener; and every way such
 * an entry is refused, with its place.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/load.js";
import { startMailListener } from "../../src/demo/mail-listener.js";
import { createProbeRunner } from "../../src/probes/index.js";

const POOL = "pools: [{ name: lmtp.example.com, provider: m, checks: [c], members: [{ address: 192.0.2.1 }] }]";
const config = (body: string) => `controllerId: t\nproviders: { m: { type: memory } }\n${body}\n${POOL}\n`;

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, { env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("checks with a dialogue", () => {
  it("start from the built-in dialogue's port and TLS mode, and override them", () => {
    const loaded = parseConfig(
      config(`checks:
  c: { dialogue: managesieve }
  sieve-tls: { dialogue: managesieve, tls: starttls, timeoutMs: 4000 }
  lmtp: { dialogue: lmtp, port: 2424, ehloName: probe.example.org }`),
      { env: {} },
    );
    expect(loaded.checks.c).toMatchObject({ name: "c", protocol: "dialogue", port: 4190, tls: "none", timeoutMs: 10_000, maxTotalBytes: 65_536 });
    expect(loaded.checks["sieve-tls"]).toMatchObject({ port: 4190, tls: "starttls", timeoutMs: 4000 });
    expect(loaded.checks.lmtp).toMatchObject({ protocol: "dialogue", port: 2424, ehloName: "probe.example.org" });
    expect(loaded.checks.lmtp!.dialogue?.name).toBe("lmtp");
    expect(loaded.checks.c!.dialogue?.hasStartTls).toBe(true);
  });

  it("lets an operator add a line protocol with config alone, and probe a real server with it", async () => {
    const server = await startMailListener({ protocol: "lmtp" });
    onTestFinished(() => server.stop());
    const loaded = parseConfig(
      config(`dialogues:
  my-lmtp:
    port: 24
    steps:
      - expect: "^220 "
      - send: "LHLO {ehloName}"
      - { expect: "^250 ", continued: "^250-" }
      - { send: QUIT, quit: true }
      - expect: "^221 "
checks:
  c: { dialogue: my-lmtp, port: ${server.port}, ehloName: probe.example.org, timeoutMs: 3000 }`),
      { env: {} },
    );
    const check = loaded.checks.c!;
    const obs = await createProbeRunner({ concurrency: 1 })({ host: server.host, port: check.port }, check, new AbortController().signal);
    expect(obs).toMatchObject({ ok: true, reason: "ok", greeting: "220 mx1.example.net LMTP mailpool demo" });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "lhlo", "quit"]);
    expect(server.commands).toEqual(["LHLO probe.example.org", "QUIT"]);
  });

  it.each([
    [
      "a pattern that is not a regular expression",
      `dialogues: { d: { port: 1, steps: [{ expect: "^220 (" }] } }\nchecks: { c: { dialogue: d } }`,
      ["dialogues.d.steps[0].expect: not a valid regular expression"],
    ],
    [
      "an unknown placeholder",
      `dialogues: { d: { port: 1, steps: [{ expect: "^OK" }, { send: "HELLO {host}" }] } }\nchecks: { c: { dialogue: d } }`,
      ["dialogues.d.steps[1].send: {host} is not a placeholder (only {ehloName} is)"],
    ],
    [
      "an unknown dialogue",
      `checks: { c: { dialogue: nope, port: 24 } }`,
      ['checks.c.dialogue: "nope" is neither a built-in dialogue nor defined under dialogues (known: lmtp, managesieve)'],
    ],
    ["a module and a dialogue at once", `checks: { c: { module: smtp, dialogue: lmtp } }`, ["checks.c.dialogue: a check starts from a module or a dialogue, not both (module smtp)"]],
    [
      "no port anywhere",
      `dialogues: { d: { steps: [{ expect: "^OK" }] } }\nchecks: { c: { dialogue: d } }`,
      ["checks.c.port: is required (dialogue d sets no port)"],
    ],
    [
      "STARTTLS with a dialogue that has no starttls step",
      `dialogues: { d: { port: 1, steps: [{ expect: "^OK" }] } }\nchecks: { c: { dialogue: d, tls: starttls } }`,
      ["checks.c.tls: starttls, but dialogue d has no starttls step"],
    ],
    [
      "a dialogue named like a built-in one",
      `dialogues: { lmtp: { port: 1, steps: [{ expect: "^OK" }] } }\nchecks: { c: { dialogue: lmtp } }`,
      ["dialogues.lmtp: lmtp is a built-in dialogue; give yours another name"],
    ],
    ["rcptTo on a dialogue check", `checks: { c: { dialogue: lmtp, rcptTo: postmaster@example.com } }`, ["checks.c.rcptTo: is for SMTP checks; this one speaks the dialogue lmtp"]],
    [
      "an unknown key in a step, without a second complaint about the check using it",
      `dialogues: { d: { port: 1, steps: [{ expect: "^OK", colour: red }] } }\nchecks: { c: { dialogue: d } }`,
      ["dialogues.d.steps[0].colour: unknown key"],
    ],
    [
      "a step of the wrong shape",
      `dialogues: { d: { port: 1, steps: [{ expect: "^OK" }, { when: starttls }] } }\nchecks: { c: { dialogue: d } }`,
      ["dialogues.d.steps[1]: needs exactly one of expect, send, starttls"],
    ],
  ])("refuses %s, naming the place", (_what, body, problems) => {
    expect(problemsOf(config(body))).toEqual(problems);
  });
});
