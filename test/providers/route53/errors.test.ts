import { createServer } from "node:net";
import { ChangeResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import { afterEach, describe, expect, it } from "vitest";
import {
  isChangeConflict,
  isConnectionError,
  isPriorRequestNotComplete,
  isServerError,
  isThrottling,
  toProviderError,
} from "../../../providers/route53/errors.js";
import { ConflictError, ProviderError, type RRsetKey } from "../../../providers/types.js";
import type { Fault } from "../../fakes/route53-server.js";
import { signal, startRig, type Rig } from "./harness.js";

const KEYS: RRsetKey[] = [{ name: "smtp.example.com", type: "A" }];

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

describe("error predicates", () => {
  it("classify by code and HTTP status", () => {
    const e = (name: string, status: number, extra: object = {}) => Object.assign(new Error("m"), { name, $metadata: { httpStatusCode: status }, ...extra });
    expect(isThrottling(e("Throttling", 400))).toBe(true);
    expect(isThrottling(e("ThrottlingException", 400))).toBe(true);
    expect(isThrottling(e("Whatever", 429))).toBe(true);
    expect(isThrottling(e("InvalidChangeBatch", 400))).toBe(false);
    expect(isPriorRequestNotComplete(e("PriorRequestNotComplete", 400))).toBe(true);
    expect(isServerError(e("InternalFailure", 500))).toBe(true);
    expect(isServerError(e("InvalidInput", 400))).toBe(false);
    expect(isConnectionError(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isConnectionError(new Error("socket hang up"))).toBe(true);
    expect(isConnectionError(new Error("outer", { cause: Object.assign(new Error("inner"), { code: "ETIMEDOUT" }) }))).toBe(true);
    expect(isConnectionError(new Error("InvalidInput"))).toBe(false);
  });

  it("call only stale-read InvalidChangeBatch messages conflicts", () => {
    const icb = (message: string) => Object.assign(new Error(message), { name: "InvalidChangeBatch" });
    expect(isChangeConflict(icb("[Tried to delete resource record set [name='a.example.com.', type='A'] but it was not found]"))).toBe(true);
    expect(isChangeConflict(icb("[Tried to create resource record set [name='a.example.com.', type='A', set-identifier='x'] but it already exists]"))).toBe(true);
    expect(isChangeConflict(icb("[RRSet with DNS name a.example.net. is not permitted in zone example.com.]"))).toBe(false);
    expect(isChangeConflict(icb("[Number of records limit of 1000 exceeded.]"))).toBe(false);
  });
});

describe("Route 53 provider: failures through the SDK", () => {
  const transientCases: { fault: Fault; code: string }[] = [
    { fault: "Throttling", code: "Throttling" },
    { fault: "ThrottlingException", code: "ThrottlingException" },
    { fault: "TooManyRequests", code: "TooManyRequestsException" },
    { fault: "PriorRequestNotComplete", code: "PriorRequestNotComplete" },
    { fault: "InternalFailure", code: "InternalFailure" },
    { fault: "ServiceUnavailable", code: "ServiceUnavailable" },
    { fault: "reset", code: "socket hang up" },
  ];
  for (const { fault, code } of transientCases) {
    it(`classifies ${fault} as a transient ProviderError`, async () => {
      rig = await startRig();
      rig.fake.injectFault(fault);
      const p = await rig.provider();
      const err = await p.read(KEYS, signal()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).transient).toBe(true);
      expect((err as Error).message).toContain(code);
      expect(rig.fake.log).toHaveLength(1);
    });
  }

  it("classifies PriorRequestNotComplete on a change batch as transient, not as a conflict", async () => {
    rig = await startRig();
    rig.fake.injectFault("PriorRequestNotComplete", { action: "ChangeResourceRecordSets" });
    const p = await rig.provider({}, [{ name: "smtp.example.com", recordStyle: "simple" }]);
    const err = await p
      .apply([{ key: KEYS[0]!, before: null, after: { ttl: 300, values: ["192.0.2.1"] }, pool: "smtp.example.com" }], signal())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).not.toBeInstanceOf(ConflictError);
    expect((err as ProviderError).transient).toBe(true);
  });

  it("lets the SDK retry up to maxAttempts before giving up", async () => {
    rig = await startRig();
    rig.fake.injectFault("InternalFailure", { count: 2 });
    const p = await rig.provider({ maxAttempts: 3 });
    await expect(p.read(KEYS, signal())).resolves.toEqual([]);
    expect(rig.fake.log.map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it("classifies a refused connection as transient", async () => {
    rig = await startRig();
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const p = await rig.provider({ endpoint: `http://127.0.0.1:${closed}` });
    const err = await p.read(KEYS, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).transient).toBe(true);
  });

  it("points at the IAM policy when access is denied, and does not retry it", async () => {
    rig = await startRig();
    rig.fake.injectFault("AccessDenied");
    const p = await rig.provider();
    const err = await p.read(KEYS, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).transient).toBe(false);
    expect((err as Error).message).toMatch(/not authorized to perform: route53:ListResourceRecordSets.*IAM policy in docs\/route53\.md/);
  });

  it("maps a size-limit InvalidChangeBatch from Route 53 to a non-transient error, not a conflict", async () => {
    rig = await startRig();
    const client = new Route53Client({ endpoint: rig.fake.url, region: "us-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "x" }, maxAttempts: 1 });
    const records = Array.from({ length: 501 }, (_, i) => ({ Value: `10.0.${i >> 8}.${i & 255}` }));
    const err = await client
      .send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: rig.zoneId,
          ChangeBatch: { Changes: [{ Action: "UPSERT", ResourceRecordSet: { Name: "big.example.com", Type: "A", TTL: 300, ResourceRecords: records } }] },
        }),
      )
      .catch((e: unknown) => e);
    client.destroy();
    expect((err as Error).name).toBe("InvalidChangeBatch");
    expect((err as Error).message).toMatch(/Number of records limit of 1000 exceeded/);
    const mapped = toProviderError(err, "ChangeResourceRecordSets");
    expect(mapped).toBeInstanceOf(ProviderError);
    expect(mapped).not.toBeInstanceOf(ConflictError);
    expect((mapped as ProviderError).transient).toBe(false);
  });
});
