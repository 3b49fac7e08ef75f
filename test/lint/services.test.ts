import { describe, expect, it } from "vitest";
import { serviceRules } from "../../src/lint/rules/services.js";
import { CLEAN, edit, observe } from "./world.js";

describe("service name and SRV rules", () => {
  it("find nothing in a clean domain (a '.' SRV target means the service is not offered)", async () => {
    expect(serviceRules(await observe({ records: CLEAN }))).toEqual([]);
  });

  it("report a missing group of client service names", async () => {
    const obs = await observe({ records: edit(["smtp.example.com", "_submission"], ["_submission._tcp.example.com 3600 SRV 0 1 587 mx1.example.com"]) });
    const [f, ...rest] = serviceRules(obs);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ id: "service-name-missing", subject: "smtp.example.com, submission.example.com", rfc: "RFC 2219 §3" });
  });

  it("accept pop3 alone for reading mail", async () => {
    const obs = await observe({
      records: edit(["imap.example.com", "_imap"], ["pop3.example.com 300 A 192.0.2.25", "_imap._tcp.example.com 3600 SRV 0 0 0 .", "_imaps._tcp.example.com 3600 SRV 0 0 0 ."]),
    });
    expect(serviceRules(obs)).toEqual([]);
  });

  it("report the MX host name used as the clients' server name", async () => {
    const obs = await observe({ records: edit(["example.com 3600 MX 10"], ["example.com 3600 MX 10 smtp.example.com"]) });
    expect(serviceRules(obs).map((f) => [f.id, f.subject])).toEqual([["service-name-is-mx", "smtp.example.com"]]);
  });

  it("report each absent RFC 6186 SRV record as information", async () => {
    const obs = await observe({ records: edit(["_"]) });
    expect(serviceRules(obs).map((f) => [f.id, f.severity, f.subject])).toEqual([
      ["srv-missing", "info", "_submission._tcp.example.com"],
      ["srv-missing", "info", "_imap._tcp.example.com"],
      ["srv-missing", "info", "_imaps._tcp.example.com"],
      ["srv-missing", "info", "_pop3s._tcp.example.com"],
    ]);
  });

  it("report an SRV target that does not resolve, and one that is an alias", async () => {
    const obs = await observe({
      records: edit(["_imaps", "_imap."], ["_imaps._tcp.example.com 3600 SRV 0 1 993 gone.example.com", "_imap._tcp.example.com 3600 SRV 0 1 143 mail.example.com", "mail.example.com 3600 CNAME imap.example.com"]),
    });
    expect(serviceRules(obs).map((f) => [f.id, f.subject])).toEqual([
      ["srv-target-cname", "_imap._tcp.example.com"],
      ["srv-target-unresolvable", "_imaps._tcp.example.com"],
    ]);
  });
});
