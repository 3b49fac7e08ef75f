import { clip } from "./line-reader.js";
import { fail, mailProber, type Dialect, type Dialogue } from "./dialogue.js";

/** A tagged command's outcome: the untagged lines before it, and "OK"/"NO"/"BAD" with text. */
interface Completion {
  readonly untagged: readonly string[];
  readonly status: string;
  /** "NO TLS not available" (tag left out), for reasons. */
  readonly summary: string;
}

/** Sends `a<n> <command>` and reads up to its tagged completion. */
async function command(d: Dialogue, name: string): Promise<Completion> {
  const tag = `a${++d.commands}`;
  const what = `${name} reply`;
  d.send(`${tag} ${name}`);
  const untagged: string[] = [];
  for (;;) {
    const line = await d.read(what);
    if (line.startsWith("* ")) {
      untagged.push(line.slice(2));
    } else if (line.startsWith(`${tag} `)) {
      const summary = clip(line.slice(tag.length + 1));
      return { untagged, status: (summary.split(" ")[0] ?? "").toUpperCase(), summary };
    } else {
      fail(`unexpected ${what}: ${JSON.stringify(clip(line))}`);
    }
  }
}

const imap: Dialect = {
  capabilityPhase: "capability",
  quitCommand: "LOGOUT",

  async greet(d) {
    const line = await d.read("banner");
    d.greeting = line;
    const status = /^\* (OK|PREAUTH|BYE)\b/i.exec(line)?.[1]?.toUpperCase();
    if (status === "BYE") fail(`greeting ${clip(line)}`);
    if (status === undefined) fail(`unexpected banner: ${JSON.stringify(clip(line))}`);
  },

  async capabilities(d) {
    const done = await command(d, "CAPABILITY");
    if (done.status !== "OK") fail(`CAPABILITY failed: ${done.summary}`);
    const listed = done.untagged.find((line) => /^CAPABILITY\b/i.test(line));
    return listed?.split(" ").slice(1).filter(Boolean) ?? [];
  },

  async startTls(d, capabilities) {
    if (!capabilities?.some((cap) => cap.toUpperCase() === "STARTTLS")) fail("STARTTLS not advertised");
    const done = await command(d, "STARTTLS");
    if (done.status !== "OK") fail(`STARTTLS refused: ${done.summary}`);
  },

  async quit(d) {
    await command(d, "LOGOUT");
  },
};

/** IMAP and IMAPS: "* OK" (or PREAUTH) banner, CAPABILITY, STARTTLS when asked, LOGOUT. */
export const probeImap = mailProber(imap);
