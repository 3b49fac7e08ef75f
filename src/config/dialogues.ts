/**
 * The config's `dialogues:` (line protocols as data, src/probes/scripted.ts) and the checks that
 * speak one (`checks.<name>.dialogue`). Each dialogue is compiled once here, at load: a bad
 * pattern or placeholder is a config error naming its step, never a failure at probe time.
 */
import { z } from "zod";
import { CHECK_DEFAULTS } from "../probes/builtin-checks.js";
import { DIALOGUES } from "../probes/protocols.js";
import { compileDialogue, DialogueError, type CompiledDialogue, type DialogueSource } from "../probes/scripted.js";
import type { CheckSpec, TlsMode } from "../probes/types.js";

const tlsMode = z.enum(["none", "starttls", "implicit"]);

const stepSchema = z
  .strictObject({
    expect: z.string().describe("Read one reply; its last line must match this regular expression (JavaScript syntax, case-sensitive), else the probe fails."),
    continued: z.string().describe("With expect: lines matching this regular expression are continuation lines of the same reply, e.g. '^250-'. Tried before expect."),
    capabilities: z
      .string()
      .describe("With expect: the reply is the server's capability list: from each line matching this regular expression, its group 1 (or the whole match). A later send's requires looks here."),
    refused: z.string().describe("With expect: how the reason starts when the reply does not match, e.g. 'STARTTLS refused' (default: 'unexpected <what> reply')."),
    send: z.string().describe("Send this line (CRLF is added). {ehloName} becomes the check's ehloName."),
    requires: z.string().describe("With send: fail with '<requires> not advertised' unless the last capability list has this capability (first word, any case)."),
    quit: z
      .literal(true)
      .describe("With send: this line ends the session (QUIT, LOGOUT); a failure from here on is a warning ('QUIT failed: …'), not a failed probe."),
    starttls: z.literal(true).describe("The TLS handshake, at this point of the dialogue. Runs only when the check's tls is starttls."),
    when: tlsMode.describe("Run this step only when the check's tls mode is this one (typically starttls)."),
    phase: z.string().min(1).describe("Start a timing phase of this name at this step. Default: each send starts one named after its command (lhlo, quit), the starttls step one named tls."),
  })
  .partial();

export const dialogueSchema = z
  .strictObject({
    port: z.number().int().min(1).max(65535).optional().describe("Port of a check using this dialogue that sets none."),
    tls: tlsMode.optional().describe("TLS mode of a check using this dialogue that sets none. Default none."),
    steps: z.array(stepSchema).min(1).max(64).describe("The dialogue, in order: expect / send / starttls steps (blackbox_exporter's query_response)."),
  })
  .describe("A line protocol as data; a check speaks it with `dialogue: <name>`.");

export const dialoguesSchema = z
  .record(z.string(), dialogueSchema)
  .default({})
  .describe(`Line protocols as data, by name, for checks with \`dialogue:\`. Built in: ${Object.keys(DIALOGUES).join(", ")}.`);

/** Dialogue config blocks salvage() put in for ones that failed the schema: not checked further. */
export const dialogueStandIns = new WeakSet<object>();

/**
 * Every dialogue a check may name: the built-in ones and the config's, each compiled once to
 * find its problems (reported at `dialogues.<name>…`); a broken one maps to undefined.
 */
export function resolveDialogues(
  configured: Readonly<Record<string, DialogueSource>>,
  problems: string[],
): ReadonlyMap<string, DialogueSource | undefined> {
  const all = new Map<string, DialogueSource | undefined>(Object.entries(DIALOGUES));
  for (const [name, source] of Object.entries(configured)) {
    const where = `dialogues.${name}`;
    if (all.has(name)) {
      problems.push(`${where}: ${name} is a built-in dialogue; give yours another name`);
      continue;
    }
    if (dialogueStandIns.has(source)) {
      all.set(name, undefined);
      continue;
    }
    try {
      compileDialogue(name, source, { ehloName: CHECK_DEFAULTS.ehloName });
      all.set(name, source);
    } catch (err) {
      if (!(err instanceof DialogueError)) throw err;
      for (const problem of err.problems) problems.push(`${where}.${problem}`);
      all.set(name, undefined);
    }
  }
  return all;
}

/**
 * What a check speaking `dialogue` starts from (before its own keys): protocol "dialogue", the
 * dialogue's port and TLS mode, the usual defaults. Undefined, with a problem, when the name is
 * unknown or the port unset; undefined alone when the dialogue itself was already reported.
 */
export function dialogueCheckBase(
  c: { readonly dialogue?: string | undefined; readonly module?: string | undefined; readonly port?: number | undefined; readonly tls?: TlsMode | undefined },
  where: string,
  dialogues: ReadonlyMap<string, DialogueSource | undefined>,
  problems: string[],
): Omit<CheckSpec, "name"> | undefined {
  const name = c.dialogue!;
  if (c.module !== undefined) {
    problems.push(`${where}.dialogue: a check starts from a module or a dialogue, not both (module ${c.module})`);
    return undefined;
  }
  if (!dialogues.has(name)) {
    const known = [...dialogues.keys()].join(", ");
    problems.push(`${where}.dialogue: ${JSON.stringify(name)} is neither a built-in dialogue nor defined under dialogues (known: ${known})`);
    return undefined;
  }
  const source = dialogues.get(name);
  if (source === undefined) return undefined;
  const port = c.port ?? source.port;
  if (port === undefined) {
    problems.push(`${where}.port: is required (dialogue ${name} sets no port)`);
    return undefined;
  }
  return { ...CHECK_DEFAULTS, protocol: "dialogue", port, tls: c.tls ?? source.tls ?? "none" };
}

/** The check with its dialogue compiled for its ehloName; a problem when its TLS mode cannot work. */
export function withDialogue(
  spec: CheckSpec,
  name: string,
  where: string,
  dialogues: ReadonlyMap<string, DialogueSource | undefined>,
  problems: string[],
): CheckSpec {
  const dialogue: CompiledDialogue = compileDialogue(name, dialogues.get(name)!, { ehloName: spec.ehloName });
  if (spec.tls === "starttls" && !dialogue.hasStartTls) {
    problems.push(`${where}.tls: starttls, but dialogue ${name} has no starttls step`);
  }
  return { ...spec, dialogue };
}
