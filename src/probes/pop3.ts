import { clip } from "./line-reader.js";
import { fail, mailProber, type Dialect, type Dialogue } from "./dialogue.js";

/** Why CAPA gave no list, per probe, for the STLS reason. */
const capaRefusals = new WeakMap<Dialogue, string>();

/** Sends a command; returns its "+OK" status line, fails on anything else. */
async function status(d: Dialogue, command: string, refused: (line: string) => string): Promise<string> {
  d.send(command);
  const what = `${command} reply`;
  const line = await d.read(what);
  if (line.startsWith("+OK")) return line;
  if (line.startsWith("-ERR")) return fail(refused(clip(line)));
  return fail(`unexpected ${what}: ${JSON.stringify(clip(line))}`);
}

const pop3: Dialect = {
  capabilityPhase: "capa",
  quitCommand: "QUIT",

  async greet(d) {
    const line = await d.read("banner");
    d.greeting = line;
    if (line.startsWith("-ERR")) fail(`greeting ${clip(line)}`);
    if (!line.startsWith("+OK")) fail(`unexpected banner: ${JSON.stringify(clip(line))}`);
  },

  async capabilities(d) {
    d.send("CAPA");
    const first = await d.read("CAPA reply");
    if (first.startsWith("-ERR")) {
      capaRefusals.set(d, clip(first));
      return undefined; // RFC 2449 is optional: the server is still up
    }
    if (!first.startsWith("+OK")) return fail(`unexpected CAPA reply: ${JSON.stringify(clip(first))}`);
    const list: string[] = [];
    for (let line = await d.read("CAPA list"); line !== "."; line = await d.read("CAPA list")) {
      list.push(line.startsWith("..") ? line.slice(1) : line);
    }
    return list;
  },

  async startTls(d, capabilities) {
    if (capabilities === undefined) fail(`STLS not advertised: CAPA refused (${capaRefusals.get(d) ?? "-ERR"})`);
    if (!capabilities?.some((cap) => /^STLS\b/i.test(cap))) fail("STLS not advertised");
    await status(d, "STLS", (line) => `STLS refused: ${line}`);
  },

  async quit(d) {
    await status(d, "QUIT", (line) => `QUIT refused: ${line}`);
  },
};

/** POP3 and POP3S: "+OK" banner, CAPA, STLS when asked, QUIT. */
export const probePop3 = mailProber(pop3);
