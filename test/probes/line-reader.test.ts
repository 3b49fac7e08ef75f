import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineReader } from "../../src/probes/line-reader.js";

/** A reader on a real stream, and everything it has delivered so far. */
function reading(maxLine = 16, maxTotal = 1000) {
  const stream = new PassThrough();
  const reader = new LineReader(maxLine, maxTotal);
  reader.attach(stream);
  const drain = () => {
    const lines: string[] = [];
    for (let line = reader.shift(); line !== undefined; line = reader.shift()) lines.push(line);
    return lines;
  };
  return { stream, reader, drain };
}

describe("LineReader", () => {
  it("splits CRLF and bare LF lines, across chunk boundaries", () => {
    const { stream, drain } = reading();
    stream.write("220-one\r\n220-tw");
    stream.write("o\n220 thr");
    stream.write("ee\r");
    stream.write("\n");
    expect(drain()).toEqual(["220-one", "220-two", "220 three"]);
  });

  it("turns control characters into ? so server text is safe to print", () => {
    const { stream, drain } = reading();
    stream.write("220 a\x1b[31mb\x00c\tok\r\n");
    expect(drain()).toEqual(["220 a?[31mb?c\tok"]);
  });

  it("accepts a line of exactly maxLineBytes, CR included in a later chunk", () => {
    const { stream, reader, drain } = reading(4);
    stream.write("abcd\r");
    stream.write("\n");
    expect(drain()).toEqual(["abcd"]);
    expect(reader.stopReason("banner")).toBeUndefined();
  });

  it("stops at a line one byte longer than maxLineBytes, with or without its newline", () => {
    const complete = reading(4);
    complete.stream.write("abcde\r\n");
    expect(complete.drain()).toEqual([]);
    expect(complete.reader.stopReason("banner")).toBe("line longer than 4 bytes while waiting for banner");

    const partial = reading(4);
    partial.stream.write("abcdef");
    expect(partial.reader.stopReason("EHLO reply")).toBe("line longer than 4 bytes while waiting for EHLO reply");
  });

  it("delivers the lines inside maxTotalBytes, then stops and pauses the stream", () => {
    const { stream, reader, drain } = reading(100, 12);
    stream.write("12345\r\n123\r\nxyz\r\n");
    expect(drain()).toEqual(["12345", "123"]);
    expect(reader.stopReason("CAPA list")).toBe("server sent more than 12 bytes while waiting for CAPA list");
    expect(stream.isPaused()).toBe(true);
  });

  it("reports a close and a reset, naming the wait", () => {
    const closed = reading();
    closed.stream.end("220 bye\r\n");
    closed.stream.resume();
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(closed.drain()).toEqual(["220 bye"]);
        expect(closed.reader.stopReason("QUIT reply")).toBe("connection closed by server while waiting for QUIT reply");
        const reset = reading();
        reset.stream.destroy(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
        setImmediate(() => {
          expect(reset.reader.stopReason("banner")).toBe("connection reset by server while waiting for banner");
          resolve();
        });
      }),
    );
  });

  it("says how many unread bytes it drops when detached (for STARTTLS injection)", () => {
    const { stream, reader } = reading();
    stream.write("220 go ahead\r\n250 injected\r\npart");
    reader.shift();
    expect(reader.detach()).toBe("250 injected\n".length + "part".length);
    stream.write("more\r\n");
    expect(reader.shift()).toBeUndefined();
  });
});
