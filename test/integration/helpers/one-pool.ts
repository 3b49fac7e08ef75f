/**
 * The one-pool set-up of the zone-file integration tests: smtp.example.com with three members in
 * a zone file, owned by `controllerId`, judged on one probe (rise 1, fall 1, no pause).
 */

/** The zone: SOA, NS, the pool's A records and marker, then `extra` lines. */
export function onePoolZone(hosts: readonly string[], controllerId: string, extra: readonly string[] = []): string {
  return [
    "$ORIGIN example.com.",
    "$TTL 3600",
    "@ IN SOA ns1.example.com. hostmaster.example.com. ( 2026010101 3600 900 604800 300 )",
    "  IN NS ns1",
    "ns1 IN A 192.0.2.53",
    ...hosts.map((h) => `smtp 300 IN A ${h}`),
    `_mailpool.smtp 300 IN TXT "mailpool owner=${controllerId}"`,
    ...extra,
    "",
  ].join("\n");
}

/** The config for that zone in zone.db beside it; `zoneOptions` go into the provider block. */
export function onePoolConfig(o: { controllerId: string; hosts: readonly string[]; port: number; zoneOptions: string }): string {
  return `controllerId: ${o.controllerId}
defaults: { rise: 1, fall: 1, confirmIntervalMs: 0 }
providers:
  zone: { type: zonefile, path: zone.db, ${o.zoneOptions} }
checks:
  mx: { module: smtp, port: ${o.port}, connectTimeoutMs: 1000, timeoutMs: 2000 }
pools:
  - name: smtp.example.com
    provider: zone
    checks: [mx]
    members: [${o.hosts.map((h) => `{ address: ${h} }`).join(", ")}]
`;
}
