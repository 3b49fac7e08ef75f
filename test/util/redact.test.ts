import { describe, expect, it } from "vitest";
import { redactingLogger, redactingProvider, redactorFor } from "../../providers/redacting-provider.js";
import { ProviderError, type Provider, type ProviderContext } from "../../providers/types.js";
import { createRedactor, secretValues } from "../../src/util/redact.js";

const TOKEN = "IQoJb3JpZ2luX2Vj+abc/def==";

describe("secretValues", () => {
  it("finds secret fields at any depth of a config block and the credential environment variables", () => {
    const config = { type: "rfc2136", apiToken: "cf-token", tsig: { name: "k1", algorithm: "hmac-sha256", secret: "tsig-secret" }, zoneName: "example.com" };
    const env = { AWS_SECRET_ACCESS_KEY: " aws-secret ", AWS_SESSION_TOKEN: "", HOME: "/root" };
    expect(secretValues(config, env).sort()).toEqual(["aws-secret", " aws-secret ", "cf-token", "tsig-secret"].sort());
  });
});

describe("createRedactor", () => {
  const r = createRedactor([TOKEN]);

  it("replaces a secret as is, base64-, URL-, JSON- and XML-encoded", () => {
    const b64 = Buffer.from(TOKEN).toString("base64");
    const text = `a ${TOKEN} b ${b64} c ${b64.replace(/=+$/, "")} d ${Buffer.from(TOKEN).toString("base64url")} e ${encodeURIComponent(TOKEN)} f ${JSON.stringify(TOKEN)}`;
    const out = r.text(text);
    expect(out).toBe('a [redacted] b [redacted] c [redacted] d [redacted] e [redacted] f "[redacted]"');
  });

  it("replaces what follows a credential header's name, for credentials it was never given", () => {
    expect(createRedactor([]).text("you sent: host: x | authorization: Bearer zzz | x-amz-security-token: yyy | accept: */*")).toBe(
      "you sent: host: x | authorization: [redacted] | x-amz-security-token: [redacted] | accept: */*",
    );
    expect(createRedactor([]).text('{"Authorization":"AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=ab","Host":"h"}')).toBe(
      '{"Authorization":"[redacted]","Host":"h"}',
    );
  });

  it("cleans an error in place: message, stack and causes, its class and fields kept", () => {
    const cause = new Error(`inner ${TOKEN}`);
    const e = new ProviderError(`outer ${TOKEN}`, { transient: true, retryAfterMs: 5, cause, applied: { applied: 1, notes: [`note ${TOKEN}`] } });
    expect(r.error(e)).toBe(e);
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ message: "outer [redacted]", transient: true, retryAfterMs: 5, applied: { applied: 1, notes: ["note [redacted]"] } });
    expect(e.stack).not.toContain(TOKEN);
    expect(cause.message).toBe("inner [redacted]");
    expect(cause.stack).not.toContain(TOKEN);
  });
});

describe("the redacting provider (the choke point every provider passes, providers/index.ts)", () => {
  const ctx = (lines: unknown[]): ProviderContext => {
    const log = (obj: object, msg?: string) => void lines.push({ obj, msg });
    return { name: "aws", controllerId: "c", pools: [], env: { AWS_SESSION_TOKEN: TOKEN }, logger: { debug: log, info: log, warn: log, error: log } };
  };

  it("cleans what read, apply and finishPending throw or return, and what the provider logs", async () => {
    const lines: unknown[] = [];
    const c = ctx(lines);
    const r = redactorFor({ type: "route53" }, c);
    const inner: Provider = {
      kind: "route53",
      read: async () => {
        throw new ProviderError(`AccessDenied: you sent x-amz-security-token ${TOKEN}`, { transient: false });
      },
      apply: async () => ({ applied: 1, notes: [`change C1 for ${TOKEN}`] }),
      finishPending: async () => [`pending ${TOKEN}`],
    };
    const p = redactingProvider(inner, r);
    await expect(p.read([], AbortSignal.timeout(1000))).rejects.toMatchObject({ name: "ProviderError", message: "AccessDenied: you sent x-amz-security-token [redacted]" });
    expect(await p.apply([], AbortSignal.timeout(1000))).toEqual({ applied: 1, notes: ["change C1 for [redacted]"] });
    expect(await p.finishPending!(AbortSignal.timeout(1000))).toEqual(["pending [redacted]"]);
    redactingLogger(c.logger, r).warn({ err: `boom ${TOKEN}`, nested: { list: [TOKEN] } }, `msg ${TOKEN}`);
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
    expect(lines).toEqual([{ obj: { err: "boom [redacted]", nested: { list: ["[redacted]"] } }, msg: "msg [redacted]" }]);
  });
});
