import { clip } from "./line-reader.js";
import { fail, mailProber, type Dialect, type Dialogue } from "./dialogue.js";

/** One SMTP reply: "250-a" … "250 z" is one reply with code 250 and lines a … z. */
export interface SmtpReply {
  readonly code: number;
  /** Text of each line, code left out. */
  readonly lines: readonly string[];
  /** Each line as received. */
  readonly raw: readonly string[];
  /** "421 4.3.2 shutting down": code and text, for reasons. */
  readonly summary: string;
}

/** Reads one (possibly multi-line) reply. */
export async function readReply(d: Dialogue, what: string): Promise<SmtpReply> {
  const lines: string[] = [];
  const raw: string[] = [];
  for (;;) {
    const line = d.bufferedLine() ?? (await d.read(what));
    raw.push(line);
    const match = /^(\d{3})([ -]|$)(.*)$/.exec(line);
    if (!match) return fail(`unexpected ${what}: ${JSON.stringify(clip(line))}`);
    lines.push(match[3] ?? "");
    if (match[2] !== "-") {
      const code = Number(match[1]);
      return { code, lines, raw, summary: clip(`${code} ${lines.join(" ")}`.trim()) };
    }
  }
}

const smtp: Dialect = {
  capabilityPhase: "ehlo",
  quitCommand: "QUIT",

  async greet(d) {
    const reply = await readReply(d, "banner");
    d.greeting = reply.raw.join("\n");
    if (reply.code !== 220) fail(`greeting ${reply.summary}`);
  },

  async capabilities(d) {
    d.send(`EHLO ${d.check.ehloName}`);
    const ehlo = await readReply(d, "EHLO reply");
    if (ehlo.code === 250) return ehlo.lines.slice(1);
    if (ehlo.code < 500) return fail(`EHLO refused: ${ehlo.summary}`);
    d.send(`HELO ${d.check.ehloName}`);
    const helo = await readReply(d, "HELO reply");
    if (helo.code !== 250) fail(`EHLO and HELO refused: ${ehlo.summary}; ${helo.summary}`);
    d.warnings.push(`EHLO refused (${ehlo.summary}); HELO accepted, so no extensions`);
    return [];
  },

  async startTls(d, extensions) {
    if (!extensions?.some((ext) => /^STARTTLS\b/i.test(ext))) fail("STARTTLS not advertised");
    d.send("STARTTLS");
    const reply = await readReply(d, "STARTTLS reply");
    if (reply.code !== 220) fail(`STARTTLS refused: ${reply.summary}`);
  },

  async transact(d) {
    const recipient = d.check.rcptTo;
    if (recipient === undefined) return undefined;
    await d.phase("mail", async () => {
      d.send("MAIL FROM:<>");
      const reply = await readReply(d, "MAIL FROM reply");
      if (reply.code !== 250) fail(`MAIL FROM:<> refused: ${reply.summary}`);
    });
    const rcpt = await d.phase("rcpt", async () => {
      d.send(`RCPT TO:<${recipient}>`);
      return readReply(d, "RCPT TO reply");
    });
    d.rcptReply = rcpt.summary;
    await d.phase("rset", async () => {
      d.send("RSET");
      const reply = await readReply(d, "RSET reply");
      if (reply.code !== 250) d.warnings.push(`RSET refused: ${reply.summary}`);
    });
    return rcpt.code === 250 || rcpt.code === 251 ? undefined : `RCPT TO:<${recipient}> refused: ${rcpt.summary}`;
  },

  async quit(d) {
    d.send("QUIT");
    await readReply(d, "QUIT reply");
  },
};

/**
 * SMTP, submission and SMTPS: 220 banner, EHLO (HELO fallback), STARTTLS when asked, with rcptTo
 * MAIL FROM:<> / RCPT TO / RSET (never DATA), QUIT.
 */
export const probeSmtp = mailProber(smtp);
