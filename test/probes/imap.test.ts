import { describe, expect, it } from "vitest";
import { probeImap } from "../../src/probes/imap.js";
import { checkFor, listen, never, targetOf } from "./helpers.js";

describe("IMAP probe", () => {
  it("counts a PREAUTH greeting as up", async () => {
    const l = await listen({ protocol: "imap", behaviour: { greeting: "* PREAUTH IMAP4rev1 logged in as nobody" } });
    const obs = await probeImap(targetOf(l), checkFor("imap", "none"), never());
    expect(obs).toMatchObject({ ok: true, reason: "ok", greeting: "* PREAUTH IMAP4rev1 logged in as nobody" });
  });

  it("fails a banner that is not an IMAP greeting", async () => {
    const l = await listen({ protocol: "imap", behaviour: { greeting: "+OK this is POP3" } });
    const obs = await probeImap(targetOf(l), checkFor("imap", "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: 'unexpected banner: "+OK this is POP3"' });
  });

  it("speaks to an SMTP server and says the reply was not IMAP", async () => {
    const l = await listen({ protocol: "smtp" });
    const obs = await probeImap(targetOf(l), checkFor("imap", "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: 'unexpected banner: "220 mx1.example.net ESMTP mailpool demo"' });
  });
});
