import { describe, expect, it } from "vitest";
import { queryRcodeError, updateRcodeError, type AnswerContext } from "../../../providers/rfc2136/errors.js";
import { ConflictError, ProviderError } from "../../../providers/types.js";
import { RCODE, decodeMessage, Writer, writeHeader } from "../../../providers/rfc2136/wire.js";

const ctx: AnswerContext = { what: "UPDATE of zone example.com", server: "192.0.2.53:53", keyName: "mailpool", algorithm: "hmac-sha256", zone: "example.com", names: ["smtp.example.com", "_mailpool.smtp.example.com"] };
const answer = (rcode: number) => {
  const w = new Writer();
  writeHeader(w, { id: 7, opcode: 5, counts: [0, 0, 0, 0] });
  const m = w.finish();
  m[2]! |= 0x80;
  m[3] = rcode;
  return decodeMessage(m);
};

describe("what an UPDATE answer means for a person", () => {
  it.each([
    [RCODE.NXRRSET, ConflictError, /changed on 192\.0\.2\.53:53 since mailpool read it \(NXRRSET/, undefined],
    [RCODE.YXRRSET, ConflictError, /absent when mailpool read it now exists .*\(YXRRSET\)/, undefined],
    [RCODE.REFUSED, ProviderError, /\(REFUSED\): its update policy does not let key mailpool \(hmac-sha256\) change smtp\.example\.com, _mailpool\.smtp\.example\.com in zone example\.com/, false],
    [RCODE.NOTZONE, ProviderError, /not inside zone example\.com .*\(NOTZONE\)/, false],
    [RCODE.SERVFAIL, ProviderError, /\(SERVFAIL\); retrying/, true],
    [RCODE.FORMERR, ProviderError, /could not parse the update \(FORMERR\)/, false],
    [RCODE.NOTIMP, ProviderError, /does not implement DNS UPDATE \(NOTIMP\)/, false],
  ])("RCODE %i", (rcode, cls, message, transient) => {
    const e = updateRcodeError(ctx, answer(rcode), true);
    expect(e).toBeInstanceOf(cls);
    expect(e?.message).toMatch(message);
    if (transient !== undefined) expect((e as ProviderError).transient).toBe(transient);
  });

  it("NOERROR is no error; NOTAUTH says which of the two causes, by whether the answer was signed", () => {
    expect(updateRcodeError(ctx, answer(RCODE.NOERROR), true)).toBeUndefined();
    expect(updateRcodeError(ctx, answer(RCODE.NOTAUTH), true)?.message).toMatch(/is not authoritative for zone example\.com \(NOTAUTH\)/);
    expect(updateRcodeError(ctx, answer(RCODE.NOTAUTH), false)?.message).toMatch(/without a signature: .* or it does not know key mailpool/);
  });

  it("a query's NXDOMAIN is an absent name, its SERVFAIL transient, its REFUSED not", () => {
    expect(queryRcodeError(ctx, answer(RCODE.NXDOMAIN), true)).toBeUndefined();
    expect(queryRcodeError(ctx, answer(RCODE.SERVFAIL), true)).toMatchObject({ transient: true });
    expect(queryRcodeError(ctx, answer(RCODE.REFUSED), true)).toMatchObject({ transient: false, message: expect.stringMatching(/does not serve zone example\.com, or its allow-query/) });
  });
});
