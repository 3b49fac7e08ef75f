/**
 * The fake Route 53 server enforces the rules the provider's tests rely on. Driven through the
 * real AWS SDK client, as the provider is.
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type Change,
} from "@aws-sdk/client-route-53";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeRoute53Server } from "../../fakes/route53-server.js";

let fake: FakeRoute53Server;
let client: Route53Client;
let zoneId: string;

beforeEach(async () => {
  fake = await FakeRoute53Server.start();
  zoneId = fake.addZone("example.com").id;
  client = new Route53Client({ endpoint: fake.url, region: "us-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "x" }, maxAttempts: 1 });
});
afterEach(async () => {
  client.destroy();
  await fake.close();
});

const set = (name: string, values: string[], extra: Partial<NonNullable<Change["ResourceRecordSet"]>> = {}) => ({
  Name: name,
  Type: "A" as const,
  TTL: 300,
  ResourceRecords: values.map((Value) => ({ Value })),
  ...extra,
});
const batch = (...changes: Change[]) => client.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: changes } }));
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected a rejection"); }, (e: Error) => e);

describe("fake Route 53 server", () => {
  it("answers 403 to a request without a SigV4 signature", async () => {
    const res = await fetch(`${fake.url}/2013-04-01/hostedzone/${zoneId}/rrset`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("<Code>MissingAuthenticationToken</Code>");
  });

  it("deletes only an exact match: TTL and every value", async () => {
    fake.put(zoneId, { name: "www.example.com", type: "A", ttl: 300, values: ["192.0.2.1", "192.0.2.2"] });
    const wrongTtl = await failure(batch({ Action: "DELETE", ResourceRecordSet: set("www.example.com", ["192.0.2.1", "192.0.2.2"], { TTL: 60 }) }));
    expect(wrongTtl.name).toBe("InvalidChangeBatch");
    expect(wrongTtl.message).toBe("[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]");
    const missing = await failure(batch({ Action: "DELETE", ResourceRecordSet: set("ftp.example.com", ["192.0.2.1"]) }));
    expect(missing.message).toMatch(/\[name='ftp\.example\.com\.', type='A'\] but it was not found/);
    await batch({ Action: "DELETE", ResourceRecordSet: set("www.example.com", ["192.0.2.2", "192.0.2.1"]) });
    expect(fake.find(zoneId, "www.example.com", "A")).toEqual([]);
  });

  it("applies a batch in order and all-or-nothing", async () => {
    fake.put(zoneId, { name: "www.example.com", type: "A", ttl: 300, values: ["192.0.2.1"] });
    await failure(
      batch(
        { Action: "CREATE", ResourceRecordSet: set("new.example.com", ["192.0.2.9"]) },
        { Action: "CREATE", ResourceRecordSet: set("www.example.com", ["192.0.2.2"]) },
      ),
    );
    expect(fake.find(zoneId, "new.example.com", "A")).toEqual([]);
    await batch(
      { Action: "DELETE", ResourceRecordSet: set("www.example.com", ["192.0.2.1"]) },
      { Action: "CREATE", ResourceRecordSet: set("www.example.com", ["192.0.2.2"]) },
    );
    expect(fake.find(zoneId, "www.example.com", "A")[0]?.values).toEqual(["192.0.2.2"]);
  });

  it("keeps simple and SetIdentifier record sets apart at one name and type", async () => {
    fake.put(zoneId, { name: "www.example.com", type: "A", ttl: 300, values: ["192.0.2.1"] });
    const err = await failure(
      batch({ Action: "CREATE", ResourceRecordSet: set("www.example.com", ["192.0.2.2"], { SetIdentifier: "a", MultiValueAnswer: true }) }),
    );
    expect(err.message).toMatch(/cannot be created as a non-weighted set exists with the same name and type/);
  });

  it("refuses more than 1,000 ResourceRecord elements (UPSERT twice) or 32,000 value characters", async () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    await batch({ Action: "CREATE", ResourceRecordSet: set("a.example.com", values(501)) });
    await expect(batch({ Action: "UPSERT", ResourceRecordSet: set("b.example.com", values(501)) })).rejects.toThrow(/Number of records limit of 1000 exceeded/);
    const long = Array.from({ length: 900 }, (_, i) => `2001:db8:1234:5678:9abc:def0:1234:${i.toString(16)}`);
    await expect(batch({ Action: "CREATE", ResourceRecordSet: { ...set("c.example.com", long), Type: "AAAA" } })).rejects.toThrow(/32000 exceeded/);
  });

  it("lists in Route 53's order (labels reversed, then type) and answers escaped names", async () => {
    for (const name of ["b.example.com", "a.b.example.com", "*.example.com", "a.example.com"]) {
      fake.put(zoneId, { name, type: "A", ttl: 300, values: ["192.0.2.1"] });
    }
    fake.put(zoneId, { name: "a.example.com", type: "AAAA", ttl: 300, values: ["2001:db8::1"] });
    const res = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    expect(res.ResourceRecordSets?.map((s) => `${s.Name} ${s.Type}`)).toEqual([
      "example.com. NS",
      "example.com. SOA",
      "\\052.example.com. A",
      "a.example.com. A",
      "a.example.com. AAAA",
      "b.example.com. A",
      "a.b.example.com. A",
    ]);
    const page = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: "a.example.com", MaxItems: 2 }));
    expect(page.ResourceRecordSets?.map((s) => `${s.Name} ${s.Type}`)).toEqual(["a.example.com. A", "a.example.com. AAAA"]);
    expect(page).toMatchObject({ IsTruncated: true, NextRecordName: "b.example.com.", NextRecordType: "A" });
  });

  it("reports a change PENDING for the configured number of polls, then INSYNC", async () => {
    fake.insyncAfterPolls = 2;
    const res = await batch({ Action: "CREATE", ResourceRecordSet: set("a.example.com", ["192.0.2.1"]) });
    const id = res.ChangeInfo!.Id!;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await client.send(new GetChangeCommand({ Id: id }))).ChangeInfo?.Status);
    expect(statuses).toEqual(["PENDING", "PENDING", "INSYNC"]);
  });

  it("throttles above a configured request rate", async () => {
    fake.throttleAbovePerSecond = 3;
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    expect(fake.log.filter((r) => r.code === "Throttling")).toHaveLength(2);
  });
});
