import { DisassociateAddressCommand, EC2Client } from "@aws-sdk/client-ec2";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { elasticIpConfigSchema } from "../../../providers/ip/elastic-ip/config.js";
import { createElasticIpAdapter } from "../../../providers/ip/elastic-ip/index.js";
import { createIpAdapter } from "../../../providers/ip/index.js";
import { IpAdapterError, IpConflictError, type IpAdapter, type IpTarget } from "../../../providers/ip/types.js";
import { FakeEc2Server } from "../../fakes/ec2-server.js";

const EIP = "203.0.113.10";
const ALLOC = "eipalloc-0a1b2c3d4e5f60718";
const MEMBER = "10.0.1.4"; // mx1's own (private) address
const STANDBY = "10.0.1.5";
const target: IpTarget = { address: EIP, member: MEMBER, standby: STANDBY };
const env = { AWS_ACCESS_KEY_ID: "AKIDTEST", AWS_SECRET_ACCESS_KEY: "secret-test-key" };

let ec2: FakeEc2Server;
let adapter: IpAdapter;
const signal = () => AbortSignal.timeout(20_000);

async function makeAdapter(hosts: Record<string, object>): Promise<IpAdapter> {
  const config = elasticIpConfigSchema.parse({ type: "elastic-ip", region: "eu-west-1", endpoint: ec2.endpoint, hosts });
  return createElasticIpAdapter(config, { name: "aws", env });
}

beforeEach(async () => {
  ec2 = await FakeEc2Server.start();
  ec2.addInterface({ id: "eni-0000000000000aaa1", instanceId: "i-0000000000000aaa1", privateIps: [MEMBER] });
  ec2.addInterface({ id: "eni-0000000000000bbb2", instanceId: "i-0000000000000bbb2", privateIps: [STANDBY, "10.0.1.6"] });
  ec2.addInterface({ id: "eni-0000000000000ccc3", instanceId: "i-0000000000000ccc3", privateIps: ["10.0.1.9"] });
  ec2.addAddress(EIP, ALLOC);
  ec2.associate(ALLOC, "eni-0000000000000aaa1");
  adapter = await makeAdapter({ [MEMBER]: { instanceId: "i-0000000000000aaa1" }, [STANDBY]: { networkInterfaceId: "eni-0000000000000bbb2", privateIpAddress: STANDBY } });
});
afterEach(async () => {
  await adapter.close?.();
  await ec2.close();
});

describe("Elastic IP adapter (real SDK against a fake EC2 Query API)", () => {
  it("reads who holds the address from its association, signed with the configured key", async () => {
    const [h] = await adapter.read([target], signal());
    expect(h!.holder).toEqual({ kind: "host", host: MEMBER });
    expect(h!.token).toMatch(/^eipassoc-/);
    expect(ec2.requests[0]).toMatchObject({ action: "DescribeAddresses", params: { "PublicIp.1": EIP }, accessKeyId: "AKIDTEST" });
  });

  it("moves the address to the standby's interface with AllowReassociation, and the next read shows the standby", async () => {
    const [h] = await adapter.read([target], signal());
    const r = await adapter.move({ action: "takeover", target, to: STANDBY, expected: h! }, signal());
    const assoc = ec2.requests.find((q) => q.action === "AssociateAddress")!;
    expect(assoc.params).toMatchObject({ AllocationId: ALLOC, NetworkInterfaceId: "eni-0000000000000bbb2", PrivateIpAddress: STANDBY, AllowReassociation: "true" });
    expect(r.notes[0]).toContain(`was ${h!.token}`);
    const [after] = await adapter.read([target], signal());
    expect(after!.holder).toEqual({ kind: "host", host: STANDBY });
    expect(after!.token).not.toBe(h!.token);
  });

  it("refuses a move when the association changed since the read, and moves nothing", async () => {
    const [h] = await adapter.read([target], signal());
    ec2.associate(ALLOC, "eni-0000000000000aaa1"); // re-associated by someone else: a new association id
    const now = ec2.addresses.get(ALLOC)!.association!.associationId;
    await expect(adapter.move({ action: "takeover", target, to: STANDBY, expected: h! }, signal())).rejects.toBeInstanceOf(IpConflictError);
    expect(ec2.count("AssociateAddress")).toBe(0);
    expect(ec2.addresses.get(ALLOC)!.association!.associationId).toBe(now);
  });

  it("associates an unassociated address without reassociation, so EC2 refuses if someone associated it in between", async () => {
    delete ec2.addresses.get(ALLOC)!.association;
    const [h] = await adapter.read([target], signal());
    expect(h!.holder).toEqual({ kind: "none" });
    // Between the adapter's check and its AssociateAddress, another actor associates the address.
    ec2.beforeRequest = (action) => {
      if (action === "AssociateAddress") {
        ec2.beforeRequest = undefined;
        ec2.associate(ALLOC, "eni-0000000000000ccc3");
      }
    };
    const err = await adapter.move({ action: "return", target, to: MEMBER, expected: h! }, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpConflictError);
    expect((err as Error).message).toContain("Resource.AlreadyAssociated");
    expect(ec2.requests.find((q) => q.action === "AssociateAddress")!.params.AllowReassociation).toBe("false");
    expect(ec2.addresses.get(ALLOC)!.association!.networkInterfaceId).toBe("eni-0000000000000ccc3");
  });

  it("reports an address held by an instance it does not know as other, never as a host", async () => {
    ec2.associate(ALLOC, "eni-0000000000000ccc3");
    const [h] = await adapter.read([target], signal());
    expect(h!.holder).toEqual({ kind: "other", what: "i-0000000000000ccc3" });
  });

  it("names an address that is not an Elastic IP of the account", async () => {
    const err = await adapter.read([{ ...target, address: "198.51.100.7" }], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpAdapterError);
    expect((err as Error).message).toContain("InvalidAddress.NotFound");
  });

  it("passes EC2's own refusals through with their code (an allocation that vanished)", async () => {
    const [h] = await adapter.read([target], signal());
    ec2.beforeRequest = (action) => {
      if (action === "AssociateAddress") ec2.addresses.delete(ALLOC);
    };
    const err = await adapter.move({ action: "takeover", target, to: STANDBY, expected: h! }, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpAdapterError);
    expect((err as Error).message).toContain("InvalidAllocationID.NotFound");
    expect((err as IpAdapterError).transient).toBe(false);
  });

  it("lets the SDK retry a throttled read (503 RequestLimitExceeded)", async () => {
    ec2.throttleNext = 1;
    const [h] = await adapter.read([target], signal());
    expect(h!.holder).toEqual({ kind: "host", host: MEMBER });
    expect(ec2.requests.map((q) => q.status)).toEqual([503, 200]);
  });

  it("makes one attempt per move: a throttled AssociateAddress is a transient failure for the next cycle", async () => {
    const [h] = await adapter.read([target], signal());
    // The move's own check (DescribeAddresses) passes; the AssociateAddress after it is throttled.
    ec2.beforeRequest = (action) => {
      if (action === "DescribeAddresses") ec2.throttleNext = 1;
    };
    const err = await adapter.move({ action: "takeover", target, to: STANDBY, expected: h! }, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpAdapterError);
    expect((err as IpAdapterError).transient).toBe(true);
    expect(ec2.requests.filter((q) => q.action === "AssociateAddress").map((q) => q.status)).toEqual([503]);
    expect(ec2.addresses.get(ALLOC)!.association!.networkInterfaceId).toBe("eni-0000000000000aaa1");
  });

  it("redacts credentials an endpoint echoes from the errors that leave the adapter", async () => {
    const config = elasticIpConfigSchema.parse({ type: "elastic-ip", region: "eu-west-1", endpoint: ec2.endpoint, hosts: { [MEMBER]: { instanceId: "i-0000000000000aaa1" } } });
    const redacting = await createIpAdapter(config, { name: "aws", env });
    ec2.echoAuthorization = true;
    const err = await redacting.read([{ ...target, address: "198.51.100.7" }], signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpAdapterError);
    expect((err as Error).message).toContain("InvalidAddress.NotFound");
    expect((err as Error).message).toContain("[redacted]");
    expect(`${(err as Error).message} ${(err as Error).stack}`).not.toContain("AKIDTEST");
    await redacting.close?.();
  });

  it("the fake answers DisassociateAddress by association id, and InvalidAssociationID.NotFound once it is gone", async () => {
    const client = new EC2Client({ region: "eu-west-1", endpoint: ec2.endpoint, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "x" }, maxAttempts: 1 });
    const id = ec2.addresses.get(ALLOC)!.association!.associationId;
    await client.send(new DisassociateAddressCommand({ AssociationId: id }));
    expect(ec2.addresses.get(ALLOC)!.association).toBeUndefined();
    await expect(client.send(new DisassociateAddressCommand({ AssociationId: id }))).rejects.toMatchObject({ name: "InvalidAssociationID.NotFound" });
    client.destroy();
  });

  it("the fake refuses unsigned requests (the SDK always signs)", async () => {
    const res = await fetch(ec2.endpoint, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "Action=DescribeAddresses&Version=2016-11-15" });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("<Code>AuthFailure</Code>");
  });

  it("the fake refuses to name an instance with several interfaces, as EC2 does", async () => {
    const byInstance = await makeAdapter({ [MEMBER]: { instanceId: "i-0000000000000aaa1" }, [STANDBY]: { instanceId: "i-0000000000000bbb2" } });
    ec2.addInterface({ id: "eni-0000000000000bbb9", instanceId: "i-0000000000000bbb2", privateIps: ["10.0.1.7"] });
    const [h] = await byInstance.read([target], signal());
    const err = await byInstance.move({ action: "takeover", target, to: STANDBY, expected: h! }, signal()).catch((e: unknown) => e);
    expect((err as Error).message).toContain("InvalidInstanceID");
    await byInstance.close?.();
  });
});
