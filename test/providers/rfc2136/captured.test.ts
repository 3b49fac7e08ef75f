/**
 * Messages captured from BIND's nsupdate and named (test/fixtures/rfc2136/capture-nsupdate.mjs
 * wrote nsupdate-capture.json through a relay): our signer must give nsupdate's request the very
 * MAC nsupdate gave it, our verifier must accept named's signed answers (request MAC chained), and
 * our UPDATE encoder must put the same prerequisite and update records in the message.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { signMessage, verifyMessage, type TsigAlgorithm, type TsigKey } from "../../../providers/rfc2136/tsig.js";
import { buildUpdate, changeRecords, type UpdateChange } from "../../../providers/rfc2136/update-message.js";
import { RCODE, decodeMessage, decodeTsigRdata, fromHex, ipv4ToBytes, toHex, txtToBytes } from "../../../providers/rfc2136/wire.js";

interface Capture {
  capturedWith: string;
  cases: {
    key: { name: string; algorithm: TsigAlgorithm; secret: string };
    nsupdateInput: string;
    nsupdateOutput: string;
    exchanges: { transport: "udp" | "tcp"; request: string; response: string }[];
  }[];
}

const capture = JSON.parse(readFileSync(join(import.meta.dirname, "../../fixtures/rfc2136/nsupdate-capture.json"), "utf8")) as Capture;
const keyOf = (k: Capture["cases"][number]["key"]): TsigKey => ({ name: k.name, algorithm: k.algorithm, secret: Buffer.from(k.secret, "base64") });

/** The same updates, as mailpool's encoder writes them (what nsupdate was told, case by case). */
const ours: UpdateChange[][] = [
  [
    { name: "new.example.com", type: "A", before: null, after: null },
    { name: "smtp.example.com", type: "A", before: [ipv4ToBytes("192.0.2.1")], after: { ttl: 600, rdata: [ipv4ToBytes("192.0.2.2"), ipv4ToBytes("192.0.2.3")] } },
  ],
  [{ name: "smtp.example.com", type: "A", before: [ipv4ToBytes("192.0.2.2"), ipv4ToBytes("192.0.2.3")], after: { ttl: 300, rdata: [ipv4ToBytes("192.0.2.4")] } }],
  [
    {
      name: "_mailpool.smtp.example.com",
      type: "TXT",
      before: [txtToBytes("mailpool owner=capture")],
      after: { ttl: 300, rdata: [txtToBytes("mailpool owner=capture2")] },
    },
  ],
  [{ name: "smtp.example.com", type: "A", before: [ipv4ToBytes("192.0.2.99")], after: { ttl: 300, rdata: [ipv4ToBytes("192.0.2.5")] } }],
];

describe(`TSIG and UPDATE against captures from ${capture.capturedWith.split(";")[0]}`, () => {
  it("has one exchange per nsupdate run, over UDP and TCP, in all three algorithms", () => {
    expect(capture.cases.map((c) => [c.key.algorithm, c.exchanges.map((e) => e.transport)])).toEqual([
      ["hmac-sha256", ["udp"]],
      ["hmac-sha256", ["tcp"]],
      ["hmac-sha512", ["udp"]],
      ["hmac-sha1", ["udp"]],
    ]);
  });

  capture.cases.forEach((c, i) => {
    const ex = c.exchanges[0]!;
    const key = keyOf(c.key);

    it(`${i + 1}. ${c.key.algorithm} over ${ex.transport}: re-signing nsupdate's unsigned message gives nsupdate's bytes exactly`, () => {
      const wire = fromHex(ex.request);
      const msg = decodeMessage(wire);
      const last = msg.additional.at(-1)!;
      const tsig = decodeTsigRdata(msg, last);
      const unsigned = new Uint8Array(wire.subarray(0, last.offset));
      unsigned[11]! -= 1; // ARCOUNT without the TSIG record
      const ours = signMessage(unsigned, key, { timeSigned: tsig.timeSigned, fudge: tsig.fudge });
      expect(toHex(ours.mac)).toBe(toHex(tsig.mac));
      expect(toHex(ours.wire)).toBe(ex.request);
      expect(verifyMessage(msg, key, { now: tsig.timeSigned })).toMatchObject({ status: "verified" });
    });

    it(`${i + 1}. ${c.key.algorithm}: named's signed answer verifies with the request's MAC, and with no other`, () => {
      const request = decodeMessage(fromHex(ex.request));
      const requestTsig = decodeTsigRdata(request, request.additional.at(-1)!);
      const answer = decodeMessage(fromHex(ex.response));
      const check = verifyMessage(answer, key, { now: requestTsig.timeSigned, requestMac: requestTsig.mac });
      expect(check.status).toBe("verified");
      const flipped = new Uint8Array(requestTsig.mac);
      flipped[0]! ^= 1;
      expect(verifyMessage(answer, key, { now: requestTsig.timeSigned, requestMac: flipped }).status).toBe("rejected");
      expect(answer.header.rcode).toBe(i === 3 ? RCODE.NXRRSET : RCODE.NOERROR);
      expect(c.nsupdateOutput).toMatch(i === 3 ? /update failed: NXRRSET/ : /^exit 0/);
    });

    it(`${i + 1}. our encoder, given what nsupdate was told, writes nsupdate's message octet for octet`, () => {
      const wire = fromHex(ex.request);
      const request = decodeMessage(wire);
      const tsig = decodeTsigRdata(request, request.additional.at(-1)!);
      const message = buildUpdate(request.header.id, "example.com", ours[i]!);
      if (i !== 2) {
        expect(toHex(signMessage(message, key, { timeSigned: tsig.timeSigned }).wire)).toBe(ex.request);
        return;
      }
      // Run 3's first owner, _mailpool.smtp.example.com: nsupdate writes it whole, we point its
      // example.com at the zone name (offset 12). That one name is the only difference.
      const theirs = toHex(wire.subarray(0, request.additional.at(-1)!.offset));
      const whole = "095f6d61696c706f6f6c04736d7470" + "076578616d706c6503636f6d00";
      expect(theirs.indexOf(whole)).toBe(29 * 2);
      const unsignedTheirs = theirs.slice(0, 20) + "0000" + theirs.slice(24);
      expect(toHex(message)).toBe(unsignedTheirs.replace(whole, "095f6d61696c706f6f6c04736d7470c00c"));
    });

    it(`${i + 1}. our encoder writes the prerequisite and update records nsupdate wrote`, () => {
      const msg = decodeMessage(fromHex(ex.request));
      // In an UPDATE, the answer section is the prerequisites and the authority section the updates.
      const strip = (r: { name: string; type: number; class: number; ttl: number; rdata: Uint8Array }) => ({
        name: r.name,
        type: r.type,
        class: r.class,
        ttl: r.ttl,
        rdata: toHex(r.rdata),
      });
      const want = ours[i]!.map(changeRecords);
      expect(msg.questions).toEqual([{ name: "example.com", type: 6, class: 1 }]);
      expect(msg.answers.map(strip)).toEqual(want.flatMap((w) => w.prerequisites).map(strip));
      expect(msg.authority.map(strip)).toEqual(want.flatMap((w) => w.updates).map(strip));
    });
  });
});
