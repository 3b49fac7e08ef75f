import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { probers } from "../../src/probes/index.js";
import { checkFor, listen, never, targetOf, until } from "./helpers.js";

describe("mail listener", () => {
  it("stops refusing connections, then listens again on the same host and port", async () => {
    const l = await listen({ protocol: "smtp", host: "127.0.0.7" });
    const port = l.port;
    const check = checkFor("smtp", "none");
    expect((await probers.smtp(targetOf(l), check, never())).ok).toBe(true);
    await l.stop();
    expect(await probers.smtp(targetOf(l), check, never())).toMatchObject({ reason: `connection refused by 127.0.0.7:${port}` });
    await l.start();
    expect(l.port).toBe(port);
    expect((await probers.smtp(targetOf(l), check, never())).ok).toBe(true);
    expect(l.connections).toBe(2);
  });

  it("destroys open connections when it stops", async () => {
    const l = await listen({ protocol: "imap", behaviour: { silent: true } });
    const client = connect({ host: l.host, port: l.port });
    const closed = new Promise((resolve) => client.once("close", resolve));
    await until(() => l.active === 1, "the connection");
    await l.stop();
    await closed;
    expect(l.active).toBe(0);
  });

  it("changes behaviour for new connections", async () => {
    const l = await listen({ protocol: "pop3" });
    l.setBehaviour({ greeting: "-ERR maintenance" });
    expect(await probers.pop3(targetOf(l), checkFor("pop3", "none"), never())).toMatchObject({ reason: "greeting -ERR maintenance" });
    l.setBehaviour({ greeting: undefined });
    expect((await probers.pop3(targetOf(l), checkFor("pop3", "none"), never())).ok).toBe(true);
  });

  it("rejects a port already taken", async () => {
    const l = await listen({ protocol: "smtp" });
    await expect(listen({ protocol: "smtp", port: l.port })).rejects.toThrow(/EADDRINUSE/);
  });
});
