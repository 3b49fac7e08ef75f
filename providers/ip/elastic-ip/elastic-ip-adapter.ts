/**
 * The AWS Elastic IP adapter: who holds an address is its association (DescribeAddresses), and a
 * move re-associates it to the other host's instance or network interface (AssociateAddress).
 *
 * Compare-and-swap on the association id: right before the move the address is described again
 * and the move refused (IpConflictError) when its association id is not the one the plan was
 * made on. An unassociated address is associated with AllowReassociation=false, so EC2 itself
 * refuses (Resource.AlreadyAssociated) if someone associated it meanwhile; an associated one
 * needs AllowReassociation=true, and a window of one round trip remains between the check and
 * the move (EC2 has no conditional re-association). docs/ip-takeover.md.
 */
import { IpAdapterError, IpConflictError, type Holder, type IpAdapter, type IpHolding, type IpMove, type IpMoveResult, type IpTarget } from "../types.js";
import type { ElasticIpConfig, ElasticIpHost } from "./config.js";
import { ec2ErrorFacts, isTransientEc2, type Ec2Address, type Ec2Api } from "./ec2-api.js";

export class ElasticIpAdapter implements IpAdapter {
  readonly kind = "elastic-ip";
  constructor(
    private readonly config: ElasticIpConfig,
    private readonly api: Ec2Api,
  ) {}

  async read(targets: readonly IpTarget[], signal: AbortSignal): Promise<IpHolding[]> {
    if (targets.length === 0) return [];
    const found = await this.#describe(targets.map((t) => t.address), signal);
    return targets.map((t) => this.#holding(t.address, found.get(t.address)));
  }

  async move(move: IpMove, signal: AbortSignal): Promise<IpMoveResult> {
    const { address } = move.target;
    const host = this.config.hosts[move.to];
    if (!host) throw new IpAdapterError(`${move.to} is not under hosts of this elastic-ip block`);
    const now = this.#holding(address, (await this.#describe([address], signal)).get(address));
    if (now.token !== move.expected.token) {
      throw new IpConflictError(`${address}: association is now ${now.token}, not ${move.expected.token} as read (${now.detail}); moved nothing`);
    }
    const allocationId = now.native as string;
    let associationId: string;
    try {
      associationId = await this.api.associateAddress(
        {
          allocationId,
          allowReassociation: now.token !== "none",
          ...(host.instanceId ? { instanceId: host.instanceId } : {}),
          ...(host.networkInterfaceId ? { networkInterfaceId: host.networkInterfaceId } : {}),
          ...(host.privateIpAddress ? { privateIpAddress: host.privateIpAddress } : {}),
        },
        signal,
      );
    } catch (err) {
      const f = ec2ErrorFacts(err);
      if (f.code === "Resource.AlreadyAssociated") throw new IpConflictError(`${address}: associated by someone else since the read (${f.code}); moved nothing`, false, { cause: err });
      throw new IpAdapterError(`AssociateAddress ${address} (${allocationId}) → ${hostText(host)}: ${f.code}: ${f.message}`, isTransientEc2(f), { cause: err });
    }
    return { notes: [`${address} (${allocationId}) associated with ${hostText(host)}: ${associationId}, was ${now.token}`] };
  }

  async close(): Promise<void> {
    this.api.close?.();
  }

  async #describe(addresses: readonly string[], signal: AbortSignal): Promise<Map<string, Ec2Address>> {
    let list: Ec2Address[];
    try {
      list = await this.api.describeAddresses([...new Set(addresses)], signal);
    } catch (err) {
      const f = ec2ErrorFacts(err);
      const hint = f.code === "InvalidAddress.NotFound" ? ` (is each address an Elastic IP of this account in ${this.config.region}?)` : "";
      throw new IpAdapterError(`DescribeAddresses ${addresses.join(", ")}: ${f.code}: ${f.message}${hint}`, isTransientEc2(f), { cause: err });
    }
    const found = new Map(list.map((a) => [a.publicIp, a]));
    const missing = addresses.filter((a) => !found.has(a));
    if (missing.length > 0) throw new IpAdapterError(`DescribeAddresses did not return ${missing.join(", ")}: not an Elastic IP of this account in ${this.config.region}`);
    return found;
  }

  #holding(address: string, a: Ec2Address | undefined): IpHolding {
    if (!a?.allocationId) throw new IpAdapterError(`${address} has no allocation id: only VPC Elastic IPs can move`);
    if (!a.associationId) return { address, holder: { kind: "none" }, detail: `${a.allocationId} is not associated`, token: "none", native: a.allocationId };
    const where = [a.instanceId, a.networkInterfaceId, a.privateIpAddress].filter(Boolean).join(" ");
    return { address, holder: this.#holderOf(a), detail: `${a.associationId} on ${where}`, token: a.associationId, native: a.allocationId };
  }

  #holderOf(a: Ec2Address): Holder {
    for (const [host, h] of Object.entries(this.config.hosts)) {
      if (h.networkInterfaceId !== undefined) {
        if (a.networkInterfaceId === h.networkInterfaceId && (h.privateIpAddress === undefined || a.privateIpAddress === h.privateIpAddress)) return { kind: "host", host };
      } else if (h.instanceId !== undefined && a.instanceId === h.instanceId) return { kind: "host", host };
    }
    return { kind: "other", what: a.instanceId ?? a.networkInterfaceId ?? a.associationId ?? "an unknown association" };
  }
}

const hostText = (h: ElasticIpHost): string => h.networkInterfaceId ? `${h.networkInterfaceId}${h.privateIpAddress ? ` (${h.privateIpAddress})` : ""}` : h.instanceId!;
