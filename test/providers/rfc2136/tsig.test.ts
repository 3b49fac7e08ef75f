/**
 * TSIG against published vectors: the hmac-sha256 cases of miekg/dns's tsig_test.go (a signed
 * UPDATE to verify; MACs for a request MAC, none, and Other Data), then our own edge cases.
 */
import { describe, expect, it } from "vitest";
import { signMessage, verifyMessage, type TsigKey } from "../../../providers/rfc2136/tsig.js";
import { RCODE, Writer, decodeMessage, decodeTsigRdata, fromHex, toHex, writeHeader } from "../../../providers/rfc2136/wire.js";

const MIEKG_SECRET = "NoTCJU+DMqFWywaPyxSijrDEA/eC3nK0xi3AMEZuPVk=";
const MIEKG_TIME = 1594855491;
/** miekg/dns tsig_test.go `wireMsg`: an UPDATE adding a.example.com A 192.0.2.1, signed by "testkey". */
const miekgWire = (time: number) =>
  fromHex(
    "c60028000001000000010001076578616d706c6503636f6d00000600010161c00c0001000100000e100004c0000201077465" +
      "73746b65790000fa00ff00000000003d0b686d61632d73686132353600" +
      time.toString(16).padStart(12, "0") +
      "012c00208cf23e0081d915478a182edcea7ff48ad102948e6c7ef8e887536957d1fa5616c60000000000",
  );
const testkey: TsigKey = { name: "testkey", algorithm: "hmac-sha256", secret: Buffer.from(MIEKG_SECRET, "base64") };

describe("TSIG against miekg/dns's published hmac-sha256 vectors", () => {
  it("verifies the signed UPDATE at its own time, and within the fudge", () => {
    const msg = decodeMessage(miekgWire(MIEKG_TIME));
    expect(verifyMessage(msg, testkey, { now: MIEKG_TIME })).toMatchObject({ status: "verified", skewSeconds: 0 });
    expect(verifyMessage(msg, testkey, { now: MIEKG_TIME + 300 })).toMatchObject({ status: "verified", skewSeconds: -300 });
  });

  it("rejects it 301 s later or earlier, naming the skew", () => {
    const msg = decodeMessage(miekgWire(MIEKG_TIME));
    expect(verifyMessage(msg, testkey, { now: MIEKG_TIME + 301 })).toMatchObject({ status: "rejected", skewSeconds: -301, reason: expect.stringMatching(/301 s behind/) });
    expect(verifyMessage(msg, testkey, { now: MIEKG_TIME - 301 })).toMatchObject({ status: "rejected", skewSeconds: 301 });
  });

  it("rejects it when a signed field changed (the time) or with another secret", () => {
    expect(verifyMessage(decodeMessage(miekgWire(MIEKG_TIME + 1)), testkey, { now: MIEKG_TIME })).toMatchObject({
      status: "rejected",
      reason: expect.stringMatching(/does not verify/),
    });
    const other = { ...testkey, secret: Buffer.from("another secret") };
    expect(verifyMessage(decodeMessage(miekgWire(MIEKG_TIME)), other, { now: MIEKG_TIME }).status).toBe("rejected");
  });

  it("still verifies after a forwarder changed the message ID (the MAC covers the original ID)", () => {
    const wire = miekgWire(MIEKG_TIME);
    wire[0] = 0x00;
    wire[1] = 0x2a;
    expect(verifyMessage(decodeMessage(wire), testkey, { now: MIEKG_TIME }).status).toBe("verified");
  });

  // TestTsigGenerate: an UPDATE with ID 0 and zone example.com SOA, key testkey, Original ID 42,
  // Error BADTIME (18), fudge 300, at MIEKG_TIME.
  const request = () => {
    const w = new Writer();
    writeHeader(w, { id: 0, opcode: 5, counts: [1, 0, 0, 0] });
    return w.name("example.com").u16(6).u16(1).finish();
  };
  it.each([
    ["with a request MAC", "3684c225", "", "c110e3f62694755c10761dc8717462431ee34340b7c9d1eee09449150757c5b1"],
    ["without a request MAC", "", "", "385449a425c6d52b9bf2c65c0726eefa0ad8084cdaf488f24547e686605b9610"],
    ["with Other Data", "3684c225", "666f6f", "15b91571ca80b3b410a77e2b44f8cc4f35ace22b26020138439dd94803e23b5d"],
  ])("signs %s to the published MAC", (_what, requestMac, other, expected) => {
    const signed = signMessage(request(), testkey, {
      timeSigned: MIEKG_TIME,
      fudge: 300,
      originalId: 42,
      error: RCODE.BADTIME,
      other: fromHex(other),
      ...(requestMac === "" ? {} : { requestMac: fromHex(requestMac) }),
    });
    expect(toHex(signed.mac)).toBe(expected);
    const msg = decodeMessage(signed.wire);
    expect(msg.additional).toHaveLength(1);
    const tsig = decodeTsigRdata(msg, msg.additional[0]!);
    expect(tsig).toMatchObject({ algorithm: "hmac-sha256", timeSigned: MIEKG_TIME, fudge: 300, originalId: 42, error: RCODE.BADTIME });
    expect(toHex(tsig.mac)).toBe(expected);
  });
});

describe("TSIG responses", () => {
  const key: TsigKey = { name: "mailpool-key", algorithm: "hmac-sha512", secret: Buffer.from("0123456789abcdef0123456789abcdef") };
  const message = () => {
    const w = new Writer();
    writeHeader(w, { id: 0x4321, opcode: 5, counts: [1, 0, 0, 0] });
    const m = w.name("example.com").u16(6).u16(1).finish();
    m[2]! |= 0x80; // QR: an answer
    return m;
  };
  const requestMac = fromHex("aa".repeat(64));

  it("verify only with the MAC of the request they answer", () => {
    const answer = signMessage(message(), key, { timeSigned: 1_000_000, requestMac });
    expect(verifyMessage(decodeMessage(answer.wire), key, { now: 1_000_010, requestMac }).status).toBe("verified");
    expect(verifyMessage(decodeMessage(answer.wire), key, { now: 1_000_010, requestMac: fromHex("bb".repeat(64)) }).status).toBe("rejected");
    expect(verifyMessage(decodeMessage(answer.wire), key, { now: 1_000_010 }).status).toBe("rejected");
  });

  it("accept a MAC truncated to half the hash, refuse one shorter", () => {
    const answer = signMessage(message(), key, { timeSigned: 1_000_000, requestMac });
    const truncate = (n: number) => {
      const msg = decodeMessage(answer.wire);
      const rec = msg.additional[0]!;
      const t = decodeTsigRdata(msg, rec);
      const rdata = new Writer().name("hmac-sha512").u48(t.timeSigned).u16(t.fudge).u16(n).bytes(t.mac.subarray(0, n)).u16(t.originalId).u16(0).u16(0).finish();
      const w = new Writer().bytes(answer.wire.subarray(0, rec.offset));
      w.name("mailpool-key").u16(250).u16(255).u32(0).u16(rdata.length).bytes(rdata);
      return decodeMessage(w.finish());
    };
    expect(verifyMessage(truncate(32), key, { now: 1_000_000, requestMac }).status).toBe("verified");
    expect(verifyMessage(truncate(31), key, { now: 1_000_000, requestMac })).toMatchObject({ status: "rejected", reason: expect.stringMatching(/31 octets/) });
  });

  it("report an unsigned answer as unsigned, and BADKEY (no MAC) as an unverified TSIG error", () => {
    expect(verifyMessage(decodeMessage(message()), key, { now: 1, requestMac }).status).toBe("unsigned");
    const rdata = new Writer().name("hmac-sha512").u48(0).u16(300).u16(0).u16(0x4321).u16(RCODE.BADKEY).u16(0).finish();
    const w = new Writer().bytes(message());
    w.patch16(10, 1).name("mailpool-key").u16(250).u16(255).u32(0).u16(rdata.length).bytes(rdata);
    expect(verifyMessage(decodeMessage(w.finish()), key, { now: 1_000_000, requestMac })).toMatchObject({ status: "tsig-error", verified: false });
  });

  it("read the server's clock from a signed BADTIME answer", () => {
    const serverTime = 1_000_000 + 3600;
    const other = fromHex(serverTime.toString(16).padStart(12, "0"));
    const answer = signMessage(message(), key, { timeSigned: 1_000_000, requestMac, error: RCODE.BADTIME, other });
    expect(verifyMessage(decodeMessage(answer.wire), key, { now: 1_000_000, requestMac })).toMatchObject({ status: "tsig-error", verified: true, skewSeconds: 3600 });
  });

  it("refuse an answer signed with another key name", () => {
    const answer = signMessage(message(), { ...key, name: "someone-else" }, { timeSigned: 5, requestMac });
    expect(verifyMessage(decodeMessage(answer.wire), key, { now: 5, requestMac })).toMatchObject({ status: "rejected", reason: expect.stringMatching(/someone-else/) });
  });
});
