/**
 * The production CloudflareClient over the official SDK. The SDK class is passed in (the caller
 * imports "cloudflare" lazily), so this file only imports its types.
 */
import type Cloudflare from "cloudflare";
import type { BatchOps, BatchResult, CloudflareClient, DnsRecord, ListRecordsQuery, RecordPage } from "./client.js";

export interface SdkClientOptions {
  readonly apiToken: string;
  readonly baseUrl: string;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  /** Every request goes through this fetch (rate limiter, byte bound). */
  readonly fetch: typeof globalThis.fetch;
}

type CloudflareClass = typeof Cloudflare;
type RecordBatchParams = Parameters<Cloudflare["dns"]["records"]["batch"]>[0];

export function createSdkClient(Sdk: CloudflareClass, options: SdkClientOptions): CloudflareClient {
  const sdk = new Sdk({
    apiToken: options.apiToken,
    // Explicit nulls: the SDK would otherwise read these from process.env.
    apiKey: null,
    apiEmail: null,
    userServiceKey: null,
    baseURL: options.baseUrl,
    maxRetries: options.maxRetries,
    timeout: options.timeoutMs,
    fetch: options.fetch,
    logLevel: "off",
  });

  return {
    async listZones(name, signal) {
      const page = await sdk.zones.list({ name, per_page: 50 }, { signal });
      return page.result.filter((z) => z.name === name).map((z) => ({ id: z.id, name: z.name }));
    },

    async listRecords(q: ListRecordsQuery, signal): Promise<RecordPage> {
      const page = await sdk.dns.records.list(
        { zone_id: q.zoneId, ...(q.name !== undefined && { name: { exact: q.name } }), type: q.type, page: q.page, per_page: q.perPage },
        { signal },
      );
      // The SDK types result_info as {page, per_page}; the API also sends count, total_count, total_pages.
      const info = page.result_info as { total_pages?: unknown };
      const records: DnsRecord[] = page.result.map((r) => ({
        id: r.id,
        name: r.name,
        type: r.type,
        content: r.content ?? "",
        ttl: r.ttl,
        proxied: r.proxied ?? false,
        comment: r.comment ?? null,
      }));
      return { records, totalPages: typeof info.total_pages === "number" ? info.total_pages : undefined };
    },

    async batch(zoneId: string, ops: BatchOps, signal): Promise<BatchResult> {
      const params: RecordBatchParams = { zone_id: zoneId };
      if (ops.deletes.length > 0) params.deletes = ops.deletes.map((id) => ({ id }));
      if (ops.patches.length > 0) params.patches = ops.patches.map((p) => ({ ...p }));
      if (ops.posts.length > 0) params.posts = ops.posts.map((p) => ({ ...p }));
      // A write is never retried blindly by the SDK: after a lost reply (a 502, a timeout) its
      // retry would find its own deletes gone (81044) and look like someone else's edit. The
      // controller re-reads instead, sees whether the batch landed, and re-plans.
      const result = await sdk.dns.records.batch(params, { signal, maxRetries: 0 });
      return {
        deleted: result.deletes?.length ?? 0,
        patched: result.patches?.length ?? 0,
        posted: result.posts?.length ?? 0,
      };
    },
  };
}
