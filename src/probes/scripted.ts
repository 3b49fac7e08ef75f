/**
 * Line protocols as data: a dialogue is a list of steps (expect a reply / send a line / STARTTLS),
 * as blackbox_exporter's tcp prober `query_response` has them. The built-in LMTP and ManageSieve
 * entries (protocols.ts) and the config's `dialogues:` are this same shape. A dialogue is
 * compiled once, when the config is loaded: its patterns become RegExps and its lines are
 * filled in for the check, so a probe only walks the steps. Every read is a Dialogue read, with
 * the check's byte bounds and its deadline.
 */
import { abortedObservation, fail, reasonOf, Dialogue } from "./dialogue.js";
import { clip } from "./line-reader.js";
import type { Prober, TlsMode } from "./types.js";

/** One step as written. Exactly one of expect, send, starttls. */
export interface StepSource {
  /** Read one reply; its last line must match this pattern (else the probe fails). */
  readonly expect?: string;
  /** With expect: lines matching this are continuation lines of the same reply ("^250-"). */
  readonly continued?: string;
  /** With expect: the reply's capability list: from each line that matches, group 1 (or the match). */
  readonly capabilities?: string;
  /** With expect: the reason's start when the reply does not match ("STARTTLS refused"). */
  readonly refused?: string;
  /** Send this line (CRLF added); {ehloName} becomes the check's ehloName. */
  readonly send?: string;
  /** With send: fail with "<name> not advertised" unless the last capability list has it. */
  readonly requires?: string;
  /**
   * With send: this line ends the session (QUIT, LOGOUT). A failure from here on is a warning
   * ("QUIT failed: …"), not a failed probe, as with the dialects in code.
   */
  readonly quit?: boolean;
  /** The TLS handshake, now; runs only when the check's tls is starttls. */
  readonly starttls?: boolean;
  /** Run this step only when the check's tls mode is this one. */
  readonly when?: TlsMode;
  /** Start a phase of this name here (reported timings). Default: a send starts one named after its command. */
  readonly phase?: string;
}

export interface DialogueSource {
  /** Port of a check using the dialogue that sets none. */
  readonly port?: number;
  /** TLS mode of a check using the dialogue that sets none. Default none. */
  readonly tls?: TlsMode;
  readonly steps: readonly StepSource[];
}

type Step =
  | {
      readonly kind: "expect";
      readonly expect: RegExp;
      readonly continued: RegExp | undefined;
      readonly capabilities: RegExp | undefined;
      readonly refused: string | undefined;
      /** What the read waits for, in reasons: "banner", "LHLO reply". */
      readonly what: string;
    }
  | { readonly kind: "send"; readonly line: string; readonly requires: string | undefined }
  | { readonly kind: "starttls" };

interface StepPhase {
  readonly name: string;
  readonly steps: readonly Step[];
  /** Set from the quit step on: its command, for the warning when the phase fails. */
  readonly farewell: string | undefined;
}

/** A dialogue ready to run: its phases for each TLS mode, patterns compiled, lines filled in. */
export interface CompiledDialogue {
  readonly name: string;
  readonly hasStartTls: boolean;
  readonly phases: Readonly<Record<TlsMode, readonly StepPhase[]>>;
}

/** A dialogue that cannot work; `problems` are "steps[2].expect: …" places within it. */
export class DialogueError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("; "));
    this.name = "DialogueError";
  }
}

const MODES: readonly TlsMode[] = ["none", "starttls", "implicit"];
const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Compiles `source` for a check with this ehloName; throws DialogueError listing every problem. */
export function compileDialogue(name: string, source: DialogueSource, fill: { readonly ehloName: string }): CompiledDialogue {
  const problems: string[] = [];
  const pattern = (text: string | undefined, where: string): RegExp | undefined => {
    if (text === undefined) return undefined;
    try {
      return new RegExp(text);
    } catch {
      problems.push(`${where}: not a valid regular expression`);
      return undefined;
    }
  };
  const written: { readonly step: Step; readonly when: TlsMode | undefined; readonly phase: string | undefined; readonly quit?: boolean }[] = [];
  source.steps.forEach((s, i) => {
    const where = `steps[${i}]`;
    const kinds = (["expect", "send", "starttls"] as const).filter((k) => s[k] !== undefined);
    if (kinds.length !== 1) {
      problems.push(`${where}: needs exactly one of expect, send, starttls${kinds.length ? ` (has ${kinds.join(", ")})` : ""}`);
      return;
    }
    const kind = kinds[0]!;
    const misplaced: string[] = (["continued", "capabilities", "refused"] as const).filter((k) => kind !== "expect" && s[k] !== undefined);
    if (kind !== "send" && s.requires !== undefined) misplaced.push("requires");
    if (kind !== "send" && s.quit !== undefined) misplaced.push("quit");
    for (const k of misplaced) problems.push(`${where}.${k}: belongs to ${k === "requires" || k === "quit" ? "a send" : "an expect"} step`);
    if (kind === "starttls") {
      if (s.starttls !== true) problems.push(`${where}.starttls: must be true`);
      if (s.when !== undefined && s.when !== "starttls") problems.push(`${where}.when: a starttls step runs only with tls: starttls`);
      written.push({ step: { kind }, when: "starttls", phase: s.phase ?? "tls" });
    } else if (kind === "send") {
      const text = s.send!;
      if (/[\r\n]/.test(text)) problems.push(`${where}.send: holds CR or LF; a step sends one line`);
      for (const [, key] of text.matchAll(PLACEHOLDER)) {
        if (key !== "ehloName") problems.push(`${where}.send: {${key}} is not a placeholder (only {ehloName} is)`);
      }
      const line = text.replace(PLACEHOLDER, () => fill.ehloName);
      const command = (text.split(" ")[0] ?? "").toLowerCase();
      written.push({ step: { kind, line, requires: s.requires?.toUpperCase() }, when: s.when, phase: s.phase ?? (command || "send"), quit: s.quit === true });
    } else {
      const expect = pattern(s.expect, `${where}.expect`);
      const continued = pattern(s.continued, `${where}.continued`);
      const capabilities = pattern(s.capabilities, `${where}.capabilities`);
      if (expect) written.push({ step: { kind, expect, continued, capabilities, refused: s.refused, what: "" }, when: s.when, phase: s.phase });
    }
  });
  if (!source.steps.some((s) => s.expect !== undefined)) problems.push("steps: needs at least one expect step (a dialogue that reads nothing proves nothing)");
  if (problems.length > 0) throw new DialogueError(problems);

  const phasesFor = (mode: TlsMode): StepPhase[] => {
    const phases: { name: string; steps: Step[]; farewell: string | undefined }[] = [];
    let lastSent: string | undefined;
    let first = true;
    let farewell: string | undefined;
    for (const { step, when, phase, quit } of written) {
      if (when !== undefined && when !== mode) continue;
      if (quit && step.kind === "send") farewell ??= (step.line.split(" ")[0] ?? "").toUpperCase();
      const current = phases.at(-1);
      if (phase !== undefined || current === undefined || current.farewell !== farewell) {
        phases.push({ name: phase ?? "greeting", steps: [], farewell });
      }
      const into = phases.at(-1)!;
      if (step.kind === "expect") {
        const what = first ? "banner" : lastSent !== undefined ? `${lastSent} reply` : `${into.name} reply`;
        into.steps.push({ ...step, what });
        first = false;
        lastSent = undefined;
      } else {
        into.steps.push(step);
        lastSent = step.kind === "send" ? (step.line.split(" ")[0] ?? "").toUpperCase() : undefined;
      }
    }
    return phases;
  };
  return Object.freeze({
    name,
    hasStartTls: written.some((w) => w.step.kind === "starttls"),
    phases: Object.freeze(Object.fromEntries(MODES.map((mode) => [mode, Object.freeze(phasesFor(mode))])) as Record<TlsMode, StepPhase[]>),
  });
}

const firstWord = (capability: string): string => (capability.split(" ")[0] ?? "").toUpperCase();

async function expectReply(d: Dialogue, step: Extract<Step, { kind: "expect" }>): Promise<void> {
  const lines: string[] = [];
  let line: string;
  do {
    line = await d.read(step.what);
    lines.push(line);
  } while (step.continued?.test(line));
  const isGreeting = d.greeting === undefined;
  if (isGreeting) d.greeting = lines.join("\n");
  if (!step.expect.test(line)) {
    fail(step.refused !== undefined ? `${step.refused}: ${clip(lines.join(" "))}` : `unexpected ${step.what}: ${JSON.stringify(clip(line))}`);
  }
  const expectGreeting = d.check.expectGreeting;
  if (isGreeting && expectGreeting !== undefined && !new RegExp(expectGreeting).test(d.greeting ?? "")) {
    fail(`greeting does not match /${expectGreeting}/: ${clip(d.greeting ?? "")}`);
  }
  const capture = step.capabilities;
  if (capture) {
    const list: string[] = [];
    for (const l of lines) {
      const match = capture.exec(l);
      if (match) list.push(match[1] ?? match[0]);
    }
    d.capabilities = list;
  }
}

async function run(d: Dialogue, steps: readonly Step[]): Promise<void> {
  for (const step of steps) {
    switch (step.kind) {
      case "expect":
        await expectReply(d, step);
        break;
      case "send":
        if (step.requires !== undefined && !d.capabilities?.some((c) => firstWord(c) === step.requires)) fail(`${step.requires} not advertised`);
        d.send(step.line);
        break;
      case "starttls":
        await d.startTls();
        break;
    }
  }
}

/**
 * The prober of checks that speak a dialogue (check.dialogue): connect → [implicit TLS] → the
 * dialogue's phases for the check's TLS mode. Never throws; always destroys its sockets.
 */
export const probeDialogue: Prober = async (target, check, signal, deps = {}) => {
  if (signal.aborted) return abortedObservation();
  const d = new Dialogue(target, check, signal, deps.now ?? Date.now);
  try {
    const dialogue = check.dialogue ?? fail(`check ${check.name} names no dialogue`);
    await d.phase("connect", () => d.connect());
    if (check.tls === "implicit") await d.phase("tls", () => d.startTls());
    for (const phase of dialogue.phases[check.tls]) {
      try {
        await d.phase(phase.name, () => run(d, phase.steps));
      } catch (error) {
        if (phase.farewell === undefined || signal.aborted) throw error;
        d.warnings.push(`${phase.farewell} failed: ${reasonOf(error)}`);
        break;
      }
    }
    return d.observe(true, "ok");
  } catch (error) {
    return d.observe(false, reasonOf(error));
  } finally {
    d.close();
  }
};
