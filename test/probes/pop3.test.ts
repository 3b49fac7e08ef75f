import { describe, expect, it } from "vitest";
import { probePop3 } from "../../src/probes/pop3.js";
import { testCerts } from "../fakes/certs.js";
import { checkFor, listen, never, targetOf } from "./helpers.js";

describe("POP3 probe", () => {
  it("counts a server that answers CAPA with -ERR as up, with no capability list", async () => {
    const l = await listen({ protocol: "pop3", behaviour: { capaUnsupported: true } });
    const obs = await probePop3(targetOf(l), checkFor("pop3", "none"), never());
    expect(obs).toMatchObject({ ok: true, reason: "ok", warnings: [] });
    expect(obs.capabilities).toBeUndefined();
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "capa", "quit"]);
  });

  it("fails STLS when CAPA was refused, since STLS cannot have been advertised", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "pop3", tls: certs.valid, behaviour: { capaUnsupported: true } });
    const obs = await probePop3(targetOf(l), checkFor("pop3", "starttls", {}, { ca: certs.ca }), never());
    expect(obs).toMatchObject({ ok: false, reason: "STLS not advertised: CAPA refused (-ERR unknown command)" });
  });

  it("fails a banner that is not a POP3 greeting", async () => {
    const l = await listen({ protocol: "pop3", behaviour: { greeting: "* OK IMAP here" } });
    const obs = await probePop3(targetOf(l), checkFor("pop3", "none"), never());
    expect(obs).toMatchObject({ ok: false, reason: 'unexpected banner: "* OK IMAP here"' });
  });
});
