import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

describe("logs", () => {
  it("are JSON lines with secrets redacted wherever they ride along", () => {
    const { stream, lines } = capture();
    const log = createLogger("info", stream);
    log.info({ apiToken: "tok-1", provider: { apiToken: "tok-2" }, config: { cf: { apiToken: "tok-3" } }, headers: { authorization: "Bearer tok-4" } }, "hello");
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ msg: "hello", level: 30, name: "mailpool" });
    expect(lines[0]).not.toMatch(/tok-\d/);
    expect(entry.provider.apiToken).toBe("[redacted]");
  });

  it("redact session tokens in logged headers, TSIG-style secrets and passwords by key", () => {
    const { stream, lines } = capture();
    createLogger("info", stream).info(
      { headers: { "x-amz-security-token": "tok-5" }, tsig: { secret: "tok-6" }, password: "tok-7", aws: { accessKeyId: "tok-8" } },
      "keys",
    );
    expect(lines[0]).not.toMatch(/tok-\d/);
    expect(JSON.parse(lines[0]!).tsig.secret).toBe("[redacted]");
  });

  it("honour the level", () => {
    const { stream, lines } = capture();
    const log = createLogger("warn", stream);
    log.info({}, "quiet");
    log.warn({}, "loud");
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["loud"]);
  });
});
