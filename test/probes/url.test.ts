import { describe, expect, it } from "vitest";
import { BUILTIN_CHECKS, DEFAULT_PORTS } from "../../src/probes/builtin-checks.js";
import { parseProbeUrl, ProbeUrlError } from "../../src/probes/url.js";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("parseProbeUrl", () => {
  it("turns smtp://host:port into the smtp built-in pointed at that address", () => {
    const { target, check } = parseProbeUrl("smtp://MX1.Example.NET:2525");
    expect(target).toEqual({ host: "mx1.example.net", port: 2525 });
    expect(check).toEqual({ ...BUILTIN_CHECKS.smtp, name: "smtp", port: 2525 });
  });

  it("uses the scheme's default port", () => {
    for (const scheme of ["smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s"]) {
      const { target, check } = parseProbeUrl(`${scheme}://192.0.2.7/`);
      expect(target.port).toBe(DEFAULT_PORTS[scheme]);
      expect(check).toMatchObject({ name: scheme, tls: BUILTIN_CHECKS[scheme]!.tls });
    }
  });

  it("takes an IPv6 address in brackets", () => {
    expect(parseProbeUrl("imaps://[2001:DB8::1]:9993").target).toEqual({ host: "2001:db8::1", port: 9993 });
    expect(parseProbeUrl("pop3://[::1]").target).toEqual({ host: "::1", port: 110 });
  });

  it("applies the options", () => {
    const { target, check } = parseProbeUrl("smtp://192.0.2.7", {
      starttls: true, serverName: "MX1.example.net", insecure: true, caPem: CA, timeoutMs: 1500,
    });
    expect(target).toEqual({ host: "192.0.2.7", port: 25, serverName: "mx1.example.net" });
    expect(check).toMatchObject({ tls: "starttls", timeoutMs: 1500, connectTimeoutMs: 1500, tlsRules: { verify: false, ca: CA, minVersion: "TLSv1.2" } });
    expect(parseProbeUrl("imap://192.0.2.7", { implicitTls: true }).check.tls).toBe("implicit");
    expect(parseProbeUrl("smtp://192.0.2.7", { timeoutMs: 60_000 }).check.connectTimeoutMs).toBe(3000);
  });

  it.each([
    ["mx1.example.net:25", '"mx1.example.net:25" is not a probe URL (e.g. smtp://mx1.example.net:25)'],
    ["http://mx1.example.net", 'unknown probe scheme "http://" in "http://mx1.example.net": use one of smtp, submission, smtps, imap, imaps, pop3, pop3s'],
    ["smtp://mx1.example.net:99999", '"smtp://mx1.example.net:99999" is not a valid URL (e.g. smtp://mx1.example.net:25; ports are 1–65535)'],
    ["smtp://mx1.example.net:0", 'port 0 in "smtp://mx1.example.net:0" is not usable: ports are 1–65535'],
    ["smtp://user@mx1.example.net", '"smtp://user@mx1.example.net" must be just scheme://host[:port] (e.g. smtp://mx1.example.net:25)'],
    ["smtp://mx1.example.net/inbox", '"smtp://mx1.example.net/inbox" must be just scheme://host[:port] (e.g. smtp://mx1.example.net:25)'],
    ["smtp://mx1.example.net?x=1", '"smtp://mx1.example.net?x=1" must be just scheme://host[:port] (e.g. smtp://mx1.example.net:25)'],
    ["smtp://", '"smtp://" has no host (e.g. smtp://mx1.example.net:25)'],
    ["smtp://mx_1%41.example", '"mx_1%41.example" in "smtp://mx_1%41.example" is neither an IP address nor a host name'],
  ])("rejects %s", (url, message) => {
    expect(() => parseProbeUrl(url)).toThrow(new ProbeUrlError(message));
    expect(() => parseProbeUrl(url)).toThrow(ProbeUrlError);
  });

  it.each([
    [{ starttls: true, implicitTls: true }, "smtp://h.example", "--starttls and --implicit-tls exclude each other"],
    [{ starttls: true }, "smtps://h.example", "--starttls conflicts with smtps://, which is TLS from the first byte"],
    [{ serverName: "not a name" }, "smtp://h.example", '--server-name "not a name" is not a host name'],
    [{ caPem: "hello" }, "smtp://h.example", "--ca-file does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)"],
    [{ timeoutMs: 0 }, "smtp://h.example", "--timeout must be a positive whole number of milliseconds, got 0"],
  ])("rejects the options %j", (options, url, message) => {
    expect(() => parseProbeUrl(url, options)).toThrow(new ProbeUrlError(message));
  });
});

describe("BUILTIN_CHECKS", () => {
  it("has the seven modules with their ports, TLS modes and defaults", () => {
    const summary = Object.fromEntries(Object.entries(BUILTIN_CHECKS).map(([n, c]) => [n, `${c.protocol}/${c.port}/${c.tls}`]));
    expect(summary).toEqual({
      smtp: "smtp/25/none", submission: "smtp/587/starttls", smtps: "smtp/465/implicit",
      imap: "imap/143/none", imaps: "imap/993/implicit", pop3: "pop3/110/none", pop3s: "pop3/995/implicit",
    });
    expect(BUILTIN_CHECKS.smtp).toMatchObject({
      connectTimeoutMs: 3000, timeoutMs: 10_000, ehloName: "mailpool.invalid", maxLineBytes: 4096, maxTotalBytes: 65_536,
      tlsRules: { verify: true, minVersion: "TLSv1.2", certExpiryWarnDays: 14, certExpiryFailDays: 0 },
    });
    expect(Object.isFrozen(BUILTIN_CHECKS.smtp?.tlsRules)).toBe(true);
  });
});
