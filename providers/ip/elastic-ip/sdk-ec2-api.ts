/**
 * The production Ec2Api: the AWS SDK v3 EC2 client. The only file that imports the SDK at
 * runtime; index.ts loads it with `await import()`. Reads use the SDK's retries; a move is one
 * attempt (a retried AssociateAddress after a lost reply would find its own association and
 * the compare-and-swap would call it a conflict): the next cycle re-reads instead.
 */
import { AssociateAddressCommand, DescribeAddressesCommand, EC2Client, type EC2ClientConfig } from "@aws-sdk/client-ec2";
import type { Ec2Address, Ec2Api } from "./ec2-api.js";

export interface SdkEc2ApiOptions {
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  readonly profile?: string | undefined;
  readonly maxAttempts: number;
  readonly requestTimeoutMs?: number;
}

export function createSdkEc2Api(options: SdkEc2ApiOptions): Ec2Api {
  const config: EC2ClientConfig = {
    region: options.region,
    maxAttempts: options.maxAttempts,
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 15_000, connectionTimeout: 5_000 },
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  };
  const reader = new EC2Client(config);
  const writer = new EC2Client({ ...config, maxAttempts: 1 });
  return {
    async describeAddresses(publicIps, signal) {
      const out = await reader.send(new DescribeAddressesCommand({ PublicIps: [...publicIps] }), { abortSignal: signal });
      return (out.Addresses ?? []).map(
        (a): Ec2Address => ({
          publicIp: a.PublicIp ?? "",
          ...(a.AllocationId ? { allocationId: a.AllocationId } : {}),
          ...(a.AssociationId ? { associationId: a.AssociationId } : {}),
          ...(a.InstanceId ? { instanceId: a.InstanceId } : {}),
          ...(a.NetworkInterfaceId ? { networkInterfaceId: a.NetworkInterfaceId } : {}),
          ...(a.PrivateIpAddress ? { privateIpAddress: a.PrivateIpAddress } : {}),
        }),
      );
    },
    async associateAddress(r, signal) {
      const out = await writer.send(
        new AssociateAddressCommand({
          AllocationId: r.allocationId,
          AllowReassociation: r.allowReassociation,
          ...(r.instanceId ? { InstanceId: r.instanceId } : {}),
          ...(r.networkInterfaceId ? { NetworkInterfaceId: r.networkInterfaceId } : {}),
          ...(r.privateIpAddress ? { PrivateIpAddress: r.privateIpAddress } : {}),
        }),
        { abortSignal: signal },
      );
      return out.AssociationId ?? "";
    },
    close() {
      reader.destroy();
      writer.destroy();
    },
  };
}
