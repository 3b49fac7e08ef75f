/** The few EC2 calls the Elastic IP adapter makes: the seam tests drive through a fake server. */

export interface Ec2Address {
  readonly publicIp: string;
  readonly allocationId?: string;
  readonly associationId?: string;
  readonly instanceId?: string;
  readonly networkInterfaceId?: string;
  readonly privateIpAddress?: string;
}

export interface AssociateRequest {
  readonly allocationId: string;
  readonly instanceId?: string;
  readonly networkInterfaceId?: string;
  readonly privateIpAddress?: string;
  readonly allowReassociation: boolean;
}

export interface Ec2Api {
  describeAddresses(publicIps: readonly string[], signal: AbortSignal): Promise<Ec2Address[]>;
  /** Returns the new association id. */
  associateAddress(request: AssociateRequest, signal: AbortSignal): Promise<string>;
  close?(): void;
}

/** An EC2 API error, by its code ("InvalidAllocationID.NotFound") and HTTP status. */
export interface Ec2ErrorFacts {
  readonly code: string;
  readonly status?: number;
  readonly message: string;
}

const THROTTLING = new Set(["RequestLimitExceeded", "Throttling", "ThrottlingException", "RequestThrottled"]);

export function ec2ErrorFacts(err: unknown): Ec2ErrorFacts {
  const e = err as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return { code: e?.Code ?? e?.name ?? "Error", ...(status !== undefined ? { status } : {}), message: e?.message ?? String(err) };
}

/** Throttling, 5xx and connection failures are worth a retry by the next cycle (or the SDK). */
export const isTransientEc2 = (f: Ec2ErrorFacts): boolean =>
  THROTTLING.has(f.code) || (f.status !== undefined && f.status >= 500) || (f.status === undefined && /ECONN|socket|timeout|EPIPE/i.test(`${f.code} ${f.message}`));
