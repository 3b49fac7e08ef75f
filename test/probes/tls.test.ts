/** Certificates and TLS rules, through real handshakes with certificates made by openssl. */
import { describe, expect, it } from "vitest";
import { probers } from "../../src/probes/index.js";
import { expiryPhrase, judgeTls, sniFor, tlsConnectOptions } from "../../src/probes/tls.js";
import type { Protocol, TlsFacts } from "../../src/probes/types.js";
import { testCerts } from "../fakes/certs.js";
import { checkFor, listen, never, targetOf } from "./helpers.js";

const DAY_MS = 86_400_000;

describe.each(["smtp", "imap", "pop3"] as const)("%s over implicit TLS", (protocol: Protocol) => {
  const probe = probers[protocol];

  it("fails an expired certificate when verifying", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol, tls: certs.expired, implicitTls: true });
    const obs = await probe(targetOf(l), checkFor(protocol, "implicit", {}, { ca: certs.ca }), never());
    expect(obs).toMatchObject({
      ok: false,
      reason: "certificate verification failed for mx1.example.net: certificate has expired",
      tls: { authorized: false, authorizationError: "certificate has expired", subject: "mx1.example.net" },
    });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "tls"]);
    await l.whenIdle();
  });

  it("fails a certificate for another name, quoting both names", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol, tls: certs.wrongName, implicitTls: true });
    const obs = await probe(targetOf(l), checkFor(protocol, "implicit", {}, { ca: certs.ca }), never());
    expect(obs).toMatchObject({
      ok: false,
      reason:
        "certificate verification failed for mx1.example.net: Hostname/IP does not match certificate's altnames: " +
        "Host: mx1.example.net. is not in the cert's altnames: DNS:wrong.example.org",
    });
    await l.whenIdle();
  });
});

describe("certificate rules", () => {
  const probe = probers.smtp;

  it("fails an expired certificate over STARTTLS too", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "smtp", tls: certs.expired });
    const obs = await probe(targetOf(l), checkFor("smtp", "starttls", {}, { ca: certs.ca }), never());
    expect(obs).toMatchObject({ ok: false, reason: "certificate verification failed for mx1.example.net: certificate has expired" });
    expect(obs.phases.map((p) => p.name)).toEqual(["connect", "greeting", "ehlo", "starttls", "tls"]);
  });

  it("reports how long ago an expired certificate expired when verification is off", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "smtp", tls: certs.expired, implicitTls: true });
    const obs = await probe(targetOf(l), checkFor("smtp", "implicit", {}, { verify: false }), never());
    expect(obs).toMatchObject({ ok: false, reason: "certificate for mx1.example.net expired 2 days ago", tls: { daysLeft: -2 } });
  });

  it("fails a certificate from an unknown CA, and passes it with verify off", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "smtp", tls: certs.valid, implicitTls: true });
    const strict = await probe(targetOf(l), checkFor("smtp", "implicit"), never());
    expect(strict).toMatchObject({
      ok: false,
      reason: "certificate verification failed for mx1.example.net: unable to verify the first certificate",
    });
    const lax = await probe(targetOf(l), checkFor("smtp", "implicit", {}, { verify: false }), never());
    expect(lax).toMatchObject({
      ok: true,
      reason: "ok",
      tls: { authorized: false, authorizationError: "unable to verify the first certificate" },
    });
  });

  it("checks an IP address target against the certificate's IP names and sends no SNI", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "smtp", tls: certs.valid, implicitTls: true });
    const obs = await probe(targetOf(l, null), checkFor("smtp", "implicit", {}, { ca: certs.ca }), never());
    expect(obs).toMatchObject({ ok: true, tls: { authorized: true } });
    expect(l.serverNames).toEqual([""]);
  });

  it("fails an IP address target whose certificate names only a host", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "smtp", tls: certs.wrongName, implicitTls: true });
    const obs = await probe(targetOf(l, null), checkFor("smtp", "implicit", {}, { ca: certs.ca }), never());
    expect(obs).toMatchObject({
      ok: false,
      reason:
        "certificate verification failed for 127.0.0.1: Hostname/IP does not match certificate's altnames: " +
        "IP: 127.0.0.1 is not in the cert's list: ",
    });
  });

  it("warns about a certificate inside the warning window and stays ok", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "smtp", tls: certs.expiringSoon, implicitTls: true });
    const obs = await probe(targetOf(l), checkFor("smtp", "implicit", {}, { ca: certs.ca }), never());
    expect(obs).toMatchObject({
      ok: true,
      warnings: ["certificate for mx1.example.net expires in 2 days"],
      tls: { daysLeft: 2, authorized: true },
    });
  });

  it("fails a certificate inside the failure window", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "smtp", tls: certs.expiringSoon, implicitTls: true });
    const obs = await probe(targetOf(l), checkFor("smtp", "implicit", {}, { ca: certs.ca, certExpiryFailDays: 2 }), never());
    expect(obs).toMatchObject({ ok: false, reason: "certificate for mx1.example.net expires in 2 days" });
  });

  it("judges expiry by the injected clock: warn 10 days before, fail 2 days after", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "smtp", tls: certs.valid, implicitTls: true });
    const check = checkFor("smtp", "implicit", {}, { ca: certs.ca });
    const before = await probe(targetOf(l), check, never(), { now: () => certs.validNotAfterMs - 10.5 * DAY_MS });
    expect(before).toMatchObject({ ok: true, warnings: ["certificate for mx1.example.net expires in 10 days"], tls: { daysLeft: 10 } });
    const after = await probe(targetOf(l), check, never(), { now: () => certs.validNotAfterMs + 2.5 * DAY_MS });
    expect(after).toMatchObject({ ok: false, reason: "certificate for mx1.example.net expired 2 days ago" });
    const calm = await probe(targetOf(l), check, never(), { now: () => certs.validNotAfterMs - 30 * DAY_MS });
    expect(calm).toMatchObject({ ok: true, warnings: [] });
  });

  it("fails a server that cannot meet minVersion", async () => {
    const certs = await testCerts();
    const l = await listen({ protocol: "smtp", tls: { ...certs.valid, maxVersion: "TLSv1.2" }, implicitTls: true });
    const obs = await probe(targetOf(l), checkFor("smtp", "implicit", {}, { ca: certs.ca, minVersion: "TLSv1.3" }), never());
    expect(obs.ok).toBe(false);
    expect(obs.reason).toBe("TLS handshake failed: no TLS version in common with the server (tlsv1 alert protocol version); check tlsRules.minVersion");
    const tls12 = await probe(targetOf(l), checkFor("smtp", "implicit", {}, { ca: certs.ca }), never());
    expect(tls12).toMatchObject({ ok: true, tls: { protocol: "TLSv1.2" } });
  });

  it("fails implicit TLS against a plain-text server", async () => {
    const l = await listen({ protocol: "smtp" });
    const obs = await probe(targetOf(l), checkFor("smtp", "implicit"), never());
    expect(obs.ok).toBe(false);
    expect(obs.reason).toBe("TLS handshake failed: the server did not answer in TLS (wrong version number); is this a plain-text or STARTTLS port?");
    await l.whenIdle();
  });
});

describe("TLS helpers", () => {
  it("sends SNI for names only", () => {
    expect(sniFor({ host: "192.0.2.1", port: 25 })).toBeUndefined();
    expect(sniFor({ host: "2001:db8::1", port: 25 })).toBeUndefined();
    expect(sniFor({ host: "192.0.2.1", port: 25, serverName: "mx1.example.net" })).toBe("mx1.example.net");
    expect(sniFor({ host: "mx1.example.net", port: 25 })).toBe("mx1.example.net");
    expect(sniFor({ host: "mx1.example.net", port: 25, serverName: "192.0.2.1" })).toBeUndefined();
  });

  it("phrases expiry in whole days", () => {
    const now = Date.parse("2026-01-10T00:00:00Z");
    expect(expiryPhrase("2026-01-22T12:00:00.000Z", now)).toBe("expires in 12 days");
    expect(expiryPhrase("2026-01-11T01:00:00.000Z", now)).toBe("expires in 1 day");
    expect(expiryPhrase("2026-01-10T05:00:00.000Z", now)).toBe("expires in less than a day");
    expect(expiryPhrase("2026-01-09T20:00:00.000Z", now)).toBe("expired less than a day ago");
    expect(expiryPhrase("2026-01-07T12:00:00.000Z", now)).toBe("expired 2 days ago");
  });

  it("puts a verification failure before the expiry rules", () => {
    const facts: TlsFacts = {
      protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", subject: "mx1.example.net", issuer: "CA",
      subjectAltNames: "", validTo: "2026-01-11T00:00:00.000Z", daysLeft: 1, authorized: false,
      authorizationError: "self-signed certificate",
    };
    const rules = { verify: true, minVersion: "TLSv1.2", certExpiryWarnDays: 14, certExpiryFailDays: 0 } as const;
    const now = Date.parse("2026-01-10T00:00:00Z");
    const target = { host: "192.0.2.1", port: 465, serverName: "mx1.example.net" };
    expect(judgeTls(facts, target, rules, now)).toEqual({
      failure: "certificate verification failed for mx1.example.net: self-signed certificate",
    });
    expect(judgeTls(facts, target, { ...rules, verify: false }, now)).toEqual({
      warning: "certificate for mx1.example.net expires in 1 day",
    });
    expect(judgeTls(facts, target, { ...rules, verify: false, certExpiryFailDays: 1 }, now)).toEqual({
      failure: "certificate for mx1.example.net expires in 1 day",
    });
    expect(judgeTls({ ...facts, authorized: true }, target, { ...rules, certExpiryWarnDays: 0 }, now)).toEqual({});
  });

  it("parses a custom CA with Node's roots once, not on every probe (it blocks the event loop for tens of ms)", async () => {
    const { ca } = await testCerts();
    const target = { host: "192.0.2.1", port: 465, serverName: "mx1.example.net" };
    const rules = { verify: true, ca, minVersion: "TLSv1.2", certExpiryWarnDays: 14, certExpiryFailDays: 0 } as const;
    const first = tlsConnectOptions(target, rules, {});
    const again = tlsConnectOptions({ ...target, host: "192.0.2.2" }, rules, {});
    expect(first.secureContext).toBeDefined();
    expect(again.secureContext).toBe(first.secureContext);
    expect(tlsConnectOptions(target, { ...rules, minVersion: "TLSv1.3" }, {}).secureContext).not.toBe(first.secureContext);
    // Without a CA: Node's roots alone, one shared context too (tls.connect would build one per probe).
    const plain = tlsConnectOptions(target, { ...rules, ca: undefined }, {}).secureContext;
    expect(plain).toBeDefined();
    expect(plain).not.toBe(first.secureContext);
    expect(tlsConnectOptions({ ...target, host: "192.0.2.2" }, { ...rules, ca: undefined }, {}).secureContext).toBe(plain);
  });
});
