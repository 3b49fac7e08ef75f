/**
 * The narrow seam between the Cloudflare provider and the Cloudflare API: only the three calls
 * mailpool makes. Production goes through the official SDK (sdk-client.ts); tests drive that same
 * SDK against a wire-level fake server.
 */

/** A DNS record as mailpool needs it (the API returns more). */
export interface DnsRecord {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly content: string;
  /** Seconds; 1 means "automatic". */
  readonly ttl: number;
  readonly proxied: boolean;
  readonly comment: string | null;
}

export interface RecordPage {
  readonly records: readonly DnsRecord[];
  /** From result_info.total_pages; undefined when the API left it out. */
  readonly totalPages: number | undefined;
}

export interface ListRecordsQuery {
  readonly zoneId: string;
  /** Exact, absolute record name; undefined: every record of the type in the zone (zone-listing.ts). */
  readonly name: string | undefined;
  readonly type: "A" | "AAAA" | "TXT";
  readonly page: number;
  readonly perPage: number;
}

export interface RecordWrite {
  readonly name: string;
  readonly type: "A" | "AAAA" | "TXT";
  readonly ttl: number;
  readonly comment: string;
  /** Only for A/AAAA (the API rejects it elsewhere). */
  readonly proxied?: boolean;
}

export interface BatchOps {
  /** Record ids. */
  readonly deletes: readonly string[];
  /** Partial updates by id: content is left as it is. */
  readonly patches: readonly (RecordWrite & { readonly id: string })[];
  readonly posts: readonly (RecordWrite & { readonly content: string })[];
}

export interface BatchResult {
  readonly deleted: number;
  readonly patched: number;
  readonly posted: number;
}

export interface CloudflareClient {
  /** Zones whose name is exactly `name` (empty when none, or the token cannot read it). */
  listZones(name: string, signal: AbortSignal): Promise<{ id: string; name: string }[]>;
  listRecords(query: ListRecordsQuery, signal: AbortSignal): Promise<RecordPage>;
  /** One POST /zones/{id}/dns_records/batch: deletes, patches, posts, in one transaction. */
  batch(zoneId: string, ops: BatchOps, signal: AbortSignal): Promise<BatchResult>;
}
