import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { execIpConfigSchema } from "../../../providers/ip/exec/config.js";
import { ExecIpAdapter } from "../../../providers/ip/exec/exec-adapter.js";
import { MAX_OUTPUT_BYTES, runHook } from "../../../providers/ip/exec/run-hook.js";
import { IpAdapterError, IpConflictError, type IpTarget } from "../../../providers/ip/types.js";

const target: IpTarget = { address: "10.250.0.100", member: "10.250.0.1", standby: "10.250.0.2" };
let dir: string;
let hook: string;
const signal = () => AbortSignal.timeout(10_000);

/**
 * A hook that keeps the holder in a state file: status prints it, takeover/return write it, and
 * every call appends its argv and MAILPOOL_* environment to a log (one JSON line each).
 */
function writeHook(extra = ""): void {
  writeFileSync(
    hook,
    `#!/bin/sh
state="${dir}/holder"
printf '{"argv":"%s","action":"%s","address":"%s","member":"%s","standby":"%s","expected":"%s","home":"%s"}\\n' "$*" "$MAILPOOL_ACTION" "$MAILPOOL_ADDRESS" "$MAILPOOL_MEMBER" "$MAILPOOL_STANDBY" "$MAILPOOL_EXPECTED" "$HOME" >> "${dir}/calls"
${extra}
case "$MAILPOOL_ACTION" in
  status) cat "$state" ;;
  takeover) echo "$MAILPOOL_STANDBY" > "$state"; echo "moved to $MAILPOOL_STANDBY" ;;
  return) echo "$MAILPOOL_MEMBER" > "$state" ;;
  *) exit 9 ;;
esac
`,
  );
  chmodSync(hook, 0o755);
}
const calls = () => readFileSync(join(dir, "calls"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, string>);
const adapter = (command = [hook, "--arg with $(spaces)"], timeoutMs = 5000) =>
  new ExecIpAdapter(execIpConfigSchema.parse({ type: "exec", command, timeoutMs }), { env: { PATH: process.env.PATH, HOME: "/root-should-not-leak" } });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mailpool-exec-ip-"));
  hook = join(dir, "hook.sh");
  writeFileSync(join(dir, "holder"), "10.250.0.1\n");
  writeHook();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("exec IP takeover adapter", () => {
  it("asks the hook for status with the address, member and standby in the environment, argv passed without a shell", async () => {
    const [h] = await adapter().read([target], signal());
    expect(h).toMatchObject({ holder: { kind: "host", host: "10.250.0.1" }, token: "10.250.0.1" });
    expect(calls()).toEqual([
      { argv: "--arg with $(spaces)", action: "status", address: "10.250.0.100", member: "10.250.0.1", standby: "10.250.0.2", expected: "", home: "" },
    ]);
  });

  it("moves: status again (compare-and-swap), then takeover with the expected holder; the next status shows the standby", async () => {
    const a = adapter();
    const [h] = await a.read([target], signal());
    const r = await a.move({ action: "takeover", target, to: "10.250.0.2", expected: h! }, signal());
    expect(r.notes[0]).toContain("exited 0: moved to 10.250.0.2");
    expect(calls().map((c) => c.action)).toEqual(["status", "status", "takeover"]);
    expect(calls()[2]!.expected).toBe("10.250.0.1");
    const [after] = await a.read([target], signal());
    expect(after!.holder).toEqual({ kind: "host", host: "10.250.0.2" });
  });

  it("refuses the move when the status changed since the read, and never runs the move", async () => {
    const a = adapter();
    const [h] = await a.read([target], signal());
    writeFileSync(join(dir, "holder"), "10.250.0.2\n");
    await expect(a.move({ action: "takeover", target, to: "10.250.0.2", expected: h! }, signal())).rejects.toBeInstanceOf(IpConflictError);
    expect(calls().map((c) => c.action)).toEqual(["status", "status"]);
  });

  it("reports the exit code and stderr of a failed move", async () => {
    writeHook(`[ "$MAILPOOL_ACTION" = takeover ] && { echo "RTNETLINK answers: Operation not permitted" >&2; exit 2; }`);
    const a = adapter([hook]);
    const [h] = await a.read([target], signal());
    const err = await a.move({ action: "takeover", target, to: "10.250.0.2", expected: h! }, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpAdapterError);
    expect((err as Error).message).toMatch(/exited with code 2: RTNETLINK answers: Operation not permitted$/);
  });

  it("kills a hook that outlives its timeout and reports it", async () => {
    writeHook(`[ "$MAILPOOL_ACTION" = takeover ] && exec sleep 30`);
    const a = adapter([hook], 300);
    const [h] = await a.read([target], signal());
    const err = await a.move({ action: "takeover", target, to: "10.250.0.2", expected: h! }, signal()).catch((e: unknown) => e);
    expect((err as Error).message).toContain("timed out after 300 ms and was killed");
  });

  it("calls a status answer that is neither host an other holder, and `none` nobody", async () => {
    writeFileSync(join(dir, "holder"), "10.250.0.77\n");
    expect((await adapter().read([target], signal()))[0]!.holder).toEqual({ kind: "other", what: "10.250.0.77" });
    writeFileSync(join(dir, "holder"), "none\n");
    expect((await adapter().read([target], signal()))[0]!.holder).toEqual({ kind: "none" });
  });

  it("fails the read when the hook cannot start", async () => {
    const err = await adapter([join(dir, "missing")]).read([target], signal()).catch((e: unknown) => e);
    expect((err as Error).message).toContain("could not start (ENOENT)");
  });

  it("keeps at most MAX_OUTPUT_BYTES of a chatty hook's output", async () => {
    const r = await runHook(["/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\\\0' x"], { PATH: process.env.PATH ?? "" }, 5000, signal());
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(MAX_OUTPUT_BYTES);
  });

  it("lets a move that started finish although the cycle's signal fires (never half a move)", async () => {
    writeHook(`[ "$MAILPOOL_ACTION" = takeover ] && { sleep 0.3; echo "$MAILPOOL_STANDBY" > "${dir}/holder"; exit 0; }`);
    const a = adapter([hook]);
    const [h] = await a.read([target], signal());
    const ac = new AbortController();
    const moving = a.move({ action: "takeover", target, to: "10.250.0.2", expected: h! }, ac.signal);
    // Abort once the takeover itself runs (its log line is written first).
    while (!calls().some((c) => c.action === "takeover")) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await expect(moving).resolves.toMatchObject({ notes: [expect.stringContaining("exited 0")] });
    expect(readFileSync(join(dir, "holder"), "utf8").trim()).toBe("10.250.0.2");
  });

  it("stops the hook and what it started when the cycle's signal fires", async () => {
    const ac = new AbortController();
    const p = runHook(["/bin/sh", "-c", "sleep 30; echo done"], {}, 60_000, ac.signal);
    setTimeout(() => ac.abort(), 100);
    expect(await p).toMatchObject({ code: null, failure: "aborted and killed" });
  });

  it("takes a hook's exit code although something it left in the background holds its output open", async () => {
    const r = await runHook(["/bin/sh", "-c", "sleep 8 & echo moved; exit 0"], { PATH: process.env.PATH ?? "" }, 20_000, signal());
    expect(r).toMatchObject({ code: 0, stdout: "moved\n" });
    expect(r.failure).toBeUndefined();
  });
});
