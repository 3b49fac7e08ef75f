/**
 * The config rules of IP takeover beyond the schema: a member's `ipTakeover` names a block
 * under the top-level `ipTakeover`, comes with a `hostAddress`, and its addresses are distinct
 * IPs (and, for Elastic IPs, listed under the block's `hosts`). Each problem names its place.
 */
import type { IpTakeoverSpec, MemberSpec, PoolSpec } from "../model.js";
import { canonicalIp, ipFamily } from "../util/ip.js";
import type { IpTakeoverAdapterConfig } from "./schema.js";

interface RawMember {
  readonly hostAddress?: string | undefined;
  readonly ipTakeover?: { readonly via: string; readonly standby: string } | undefined;
}

/** The member's resolved hostAddress and ipTakeover (empty when it has none or they are invalid). */
export function checkIpTakeover(
  m: RawMember,
  address: string,
  where: string,
  blocks: Readonly<Record<string, IpTakeoverAdapterConfig>>,
  problems: string[],
): Pick<MemberSpec, "hostAddress" | "ipTakeover"> {
  if (m.ipTakeover === undefined) {
    if (m.hostAddress !== undefined) problems.push(`${where}.hostAddress: is only used with ipTakeover (the member is probed on its address otherwise)`);
    return {};
  }
  const before = problems.length;
  const ip = (value: string, place: string): string | undefined => {
    if (ipFamily(value) === 0) {
      problems.push(`${where}.${place}: ${JSON.stringify(value)} is not an IP address`);
      return undefined;
    }
    return canonicalIp(value);
  };
  const block = blocks[m.ipTakeover.via];
  if (!block) {
    const known = Object.keys(blocks);
    problems.push(`${where}.ipTakeover.via: ${JSON.stringify(m.ipTakeover.via)} is not defined under ipTakeover${known.length ? ` (known: ${known.join(", ")})` : " (there is no top-level ipTakeover block)"}`);
  }
  let host: string | undefined;
  if (m.hostAddress === undefined) {
    problems.push(`${where}.hostAddress: is required with ipTakeover: the member's own address, where its health is probed once ${address} has moved to the standby`);
  } else host = ip(m.hostAddress, "hostAddress");
  const standby = ip(m.ipTakeover.standby, "ipTakeover.standby");
  if (host !== undefined && host === address) problems.push(`${where}.hostAddress: is the member's floating address ${address}; give the host's own address, which does not move`);
  if (standby !== undefined && standby === address) problems.push(`${where}.ipTakeover.standby: is the member's floating address ${address}; give the standby host's own address`);
  if (standby !== undefined && host !== undefined && standby === host) problems.push(`${where}.ipTakeover.standby: is the member's own hostAddress`);
  if (block?.type === "elastic-ip") {
    const known = new Set(Object.keys(block.hosts ?? {}).filter((k) => ipFamily(k) !== 0).map(canonicalIp));
    if (ipFamily(address) !== 4) problems.push(`${where}.address: ${address} cannot move through ${m.ipTakeover.via}: Elastic IPs are IPv4`);
    for (const [h, place] of [[host, "hostAddress"], [standby, "ipTakeover.standby"]] as const) {
      if (h !== undefined && !known.has(h)) problems.push(`${where}.${place}: ${h} is not under ipTakeover.${m.ipTakeover.via}.hosts (the instance or network interface the address moves to)`);
    }
  }
  if (problems.length > before || host === undefined || standby === undefined) return {};
  const spec: IpTakeoverSpec = { via: m.ipTakeover.via, standby };
  return { hostAddress: host, ipTakeover: spec };
}

/** An address moves as one: its IP takeover is configured in one place only. */
export function checkIpTakeoverAcrossPools(pools: readonly PoolSpec[], problems: string[]): void {
  const seen = new Map<string, string>();
  pools.forEach((p, i) =>
    p.members.forEach((m, j) => {
      if (!m.ipTakeover) return;
      const place = `pools[${i}].members[${j}]`;
      const prev = seen.get(m.address);
      if (prev !== undefined) problems.push(`${place}.ipTakeover: ${m.address} already moves by ${prev}.ipTakeover; an address moves as one, so configure its IP takeover once`);
      else seen.set(m.address, place);
    }),
  );
}

/**
 * The adapter blocks as the adapters get them: an Elastic IP block's `hosts` keyed by canonical
 * IP text (so "2001:DB8::5" matches the member's canonical hostAddress); a key that is not an
 * IP address is a problem with its place.
 */
export function resolveIpTakeoverBlocks(blocks: Readonly<Record<string, IpTakeoverAdapterConfig>>, problems: string[]): Record<string, IpTakeoverAdapterConfig> {
  const out: Record<string, IpTakeoverAdapterConfig> = {};
  for (const [name, block] of Object.entries(blocks)) {
    if (block.type !== "elastic-ip") {
      out[name] = block;
      continue;
    }
    const hosts: typeof block.hosts = {};
    for (const [key, host] of Object.entries(block.hosts ?? {})) {
      if (ipFamily(key) === 0) problems.push(`ipTakeover.${name}.hosts[${JSON.stringify(key)}]: not an IP address (each host is keyed by its own address)`);
      else hosts[canonicalIp(key)] = host;
    }
    out[name] = { ...block, hosts };
  }
  return out;
}
