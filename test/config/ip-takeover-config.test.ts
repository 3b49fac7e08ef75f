import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/load.js";

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, { env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error("expected a ConfigError");
}

const base = (member: string, blocks = `ipTakeover:
  onprem: { type: exec, command: [/usr/local/sbin/move-ip] }
  aws:
    type: elastic-ip
    region: eu-west-1
    hosts:
      10.0.0.4: { instanceId: i-0123456789abcdef0 }
      10.0.0.5: { networkInterfaceId: eni-0123456789abcdef0, privateIpAddress: 10.0.0.5 }`) => `controllerId: t
providers: { m: { type: memory } }
${blocks}
pools:
  - name: smtp.example.com
    provider: m
    checks: [smtp]
    members:
      - ${member}
      - { address: 192.0.2.11 }`;

describe("ipTakeover config", () => {
  it("resolves a member's ipTakeover and hostAddress (canonical IPs) and keeps the adapter blocks", () => {
    const c = parseConfig(base(`{ address: 192.0.2.10, label: mx1, hostAddress: 10.0.0.4, ipTakeover: { via: aws, standby: 10.0.0.5 } }`), { env: {} });
    expect(c.pools[0]!.members[0]).toEqual({ address: "192.0.2.10", label: "mx1", hostAddress: "10.0.0.4", ipTakeover: { via: "aws", standby: "10.0.0.5" } });
    expect(c.ipTakeover.onprem).toEqual({ type: "exec", command: ["/usr/local/sbin/move-ip"], timeoutMs: 10_000 });
    expect(c.ipTakeover.aws).toMatchObject({ type: "elastic-ip", maxAttempts: 3 });
  });

  it("names a via that is not defined, and a missing hostAddress", () => {
    expect(problemsOf(base(`{ address: 192.0.2.10, ipTakeover: { via: nope, standby: 10.0.0.5 } }`))).toEqual([
      'pools[0].members[0].ipTakeover.via: "nope" is not defined under ipTakeover (known: onprem, aws)',
      "pools[0].members[0].hostAddress: is required with ipTakeover: the member's own address, where its health is probed once 192.0.2.10 has moved to the standby",
    ]);
  });

  it("rejects addresses that are not IPs or that coincide", () => {
    expect(problemsOf(base(`{ address: 192.0.2.10, hostAddress: mx1.internal, ipTakeover: { via: onprem, standby: 192.0.2.10 } }`))).toEqual([
      'pools[0].members[0].hostAddress: "mx1.internal" is not an IP address',
      "pools[0].members[0].ipTakeover.standby: is the member's floating address 192.0.2.10; give the standby host's own address",
    ]);
    expect(problemsOf(base(`{ address: 192.0.2.10, hostAddress: 10.0.0.4, ipTakeover: { via: onprem, standby: 10.0.0.4 } }`))).toEqual([
      "pools[0].members[0].ipTakeover.standby: is the member's own hostAddress",
    ]);
  });

  it("an Elastic IP is IPv4 and moves only between hosts listed under the block's hosts", () => {
    expect(problemsOf(base(`{ address: 192.0.2.10, hostAddress: 10.0.0.9, ipTakeover: { via: aws, standby: 10.0.0.5 } }`))).toEqual([
      "pools[0].members[0].hostAddress: 10.0.0.9 is not under ipTakeover.aws.hosts (the instance or network interface the address moves to)",
    ]);
  });

  it("checks the adapter blocks with their paths", () => {
    const problems = problemsOf(
      base(`{ address: 192.0.2.10, hostAddress: 10.0.0.4, ipTakeover: { via: aws, standby: 10.0.0.5 } }`, `ipTakeover:
  onprem: { type: exec, command: [], timeoutMs: 5 }
  aws: { type: elastic-ip, region: eu-west-1, hosts: { 10.0.0.4: { instanceId: i-0123456789abcdef0, networkInterfaceId: eni-0123456789abcdef0 }, 10.0.0.5: { instanceId: web-1 } } }
  gcp: { type: gcp }`),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ipTakeover\.onprem\.command: /),
        expect.stringMatching(/^ipTakeover\.onprem\.timeoutMs: /),
        'ipTakeover.aws.hosts["10.0.0.4"].instanceId: give instanceId or networkInterfaceId, not both',
        'ipTakeover.aws.hosts["10.0.0.5"].instanceId: must be an EC2 instance id such as i-0123456789abcdef0',
        expect.stringMatching(/^ipTakeover\.gcp\.type: /),
      ]),
    );
  });

  it("keys an Elastic IP block's hosts by canonical IP, and names a key that is not an IP", () => {
    const blocks = `ipTakeover:
  v6: { type: elastic-ip, region: eu-west-1, hosts: { "2001:DB8:0::4": { instanceId: i-0123456789abcdef0 }, "mx1": { instanceId: i-0123456789abcdef1 } } }`;
    expect(problemsOf(base(`{ address: 192.0.2.10, hostAddress: "2001:db8::4", ipTakeover: { via: v6, standby: 10.0.0.5 } }`, blocks))).toEqual([
      "pools[0].members[0].ipTakeover.standby: 10.0.0.5 is not under ipTakeover.v6.hosts (the instance or network interface the address moves to)",
      'ipTakeover.v6.hosts["mx1"]: not an IP address (each host is keyed by its own address)',
    ]);
    const ok = parseConfig(
      base(`{ address: 192.0.2.10, hostAddress: "2001:db8::4", ipTakeover: { via: v6, standby: "2001:db8::5" } }`, `ipTakeover:
  v6: { type: elastic-ip, region: eu-west-1, hosts: { "2001:DB8:0::4": { instanceId: i-0123456789abcdef0 }, "2001:db8::5": { instanceId: i-0123456789abcdef1 } } }`),
      { env: {} },
    );
    expect(Object.keys((ok.ipTakeover.v6 as { hosts: object }).hosts)).toEqual(["2001:db8::4", "2001:db8::5"]);
  });

  it("hostAddress without ipTakeover is an error (it would be silently unused)", () => {
    expect(problemsOf(base(`{ address: 192.0.2.10, hostAddress: 10.0.0.4 }`))).toEqual([
      "pools[0].members[0].hostAddress: is only used with ipTakeover (the member is probed on its address otherwise)",
    ]);
  });

  it("an address moves as one: its IP takeover is configured once across pools", () => {
    const text = `${base(`{ address: 192.0.2.10, hostAddress: 10.0.0.4, ipTakeover: { via: onprem, standby: 10.0.0.5 } }`)}
  - { name: imap.example.com, provider: m, checks: [imap], members: [{ address: 192.0.2.10, hostAddress: 10.0.0.4, ipTakeover: { via: onprem, standby: 10.0.0.5 } }] }`;
    expect(problemsOf(text)).toEqual([
      "pools[1].members[0].ipTakeover: 192.0.2.10 already moves by pools[0].members[0].ipTakeover; an address moves as one, so configure its IP takeover once",
    ]);
  });
});
