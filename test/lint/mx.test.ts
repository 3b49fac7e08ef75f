import { describe, expect, it } from "vitest";
import { mxRules } from "../../src/lint/rules/mx.js";
import { CLEAN, edit, observe } from "./world.js";

const MX = "example.com 3600 MX";

describe("MX rules", () => {
  it("find nothing in a clean domain", async () => {
    expect(mxRules(await observe({ records: CLEAN }))).toEqual([]);
  });

  it("report an MX target that is a CNAME as an error, naming the chain and citing RFC 2181", async () => {
    const obs = await observe({ records: edit([`${MX} 10`], [`${MX} 10 mail.example.com`, "mail.example.com 3600 CNAME mx1.example.com"]) });
    const [f, ...rest] = mxRules(obs);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ id: "mx-cname", severity: "error", subject: "mail.example.com", rfc: "RFC 2181 §10.3, RFC 5321 §5.1" });
    expect(f?.message).toContain("CNAME → mx1.example.com");
    expect(f?.evidence).toContain("A mail.example.com @198.51.100.53:53 (non-recursive): NOERROR aa, mail.example.com CNAME mx1.example.com ttl 3600; mx1.example.com A 192.0.2.25 ttl 300");
  });

  it("report an MX target without any address", async () => {
    const obs = await observe({ records: edit(["mx1.example.com"]) });
    expect(mxRules(obs).map((f) => [f.id, f.subject])).toEqual([["mx-no-address", "mx1.example.com"]]);
  });

  it("do not call a target unresolvable when its lookup failed rather than came back empty", async () => {
    const obs = await observe({ records: edit(["mx.other.net"]), failures: { "mx.other.net A": "SERVFAIL" } });
    expect(mxRules(obs)).toEqual([]);
  });

  it("report an address literal as the MX target", async () => {
    const obs = await observe({ records: edit([`${MX} 20`], [`${MX} 20 198.51.100.25`]) });
    expect(mxRules(obs).map((f) => [f.id, f.severity, f.subject])).toEqual([["mx-address-literal", "error", "198.51.100.25"]]);
  });

  it("report a null MX as information, not an error", async () => {
    const obs = await observe({ records: edit([MX], [`${MX} 0 .`]) });
    expect(mxRules(obs).map((f) => [f.id, f.severity, f.rfc])).toEqual([["mx-null", "info", "RFC 7505 §3"]]);
  });

  it("report a null MX next to other MX records as an error", async () => {
    const obs = await observe({ records: edit([], [`${MX} 0 .`]) });
    expect(mxRules(obs).map((f) => [f.id, f.severity])).toEqual([["mx-null-mixed", "error"]]);
  });

  it("report a domain without MX, and one that does not exist", async () => {
    expect(mxRules(await observe({ records: edit([MX]) })).map((f) => f.id)).toEqual(["mx-missing"]);
    expect(mxRules(await observe({ records: CLEAN }, { domain: "nowhere.example" })).map((f) => f.id)).toEqual(["domain-missing"]);
  });
});
