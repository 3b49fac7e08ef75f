/**
 * A wire-level fake of api.cloudflare.com/client/v4 for the endpoints mailpool uses, on
 * 127.0.0.1 (port 0), driven through the real Cloudflare SDK:
 *
 *   GET  /zones?name=&page=&per_page=
 *   GET  /zones/{zone_id}/dns_records?name.exact=&type=&page=&per_page=   (also plain name=)
 *   POST /zones/{zone_id}/dns_records/batch   {deletes, patches, puts, posts}
 *
 * It enforces what the real API enforces (from Cloudflare's API reference and the SDK's types):
 * the {success, errors, messages, result, result_info} envelope; bearer tokens (401 code 10000
 * without one, 401 code 9109 for an unknown one, 403 code 10000 on a zone the token may not use);
 * 32-hex record ids; exact name/type filters; pagination (per_page default 100, 1–5,000,000;
 * result_info page/per_page/count/total_count/total_pages); TTL 1 ("automatic") or 60–86400;
 * proxied only on A/AAAA/CNAME; comments up to 100 characters (Free plan); "An identical record
 * already exists." (81058) for a duplicate name+type+content; "Record does not exist." (81044) for
 * an unknown id; batch order deletes → patches → puts → posts and atomicity (the first failing
 * item fails the whole batch and nothing changes); the batch size limit (200 on Free).
 *
 * Where the real API's exact code or status is not documented the fake picks one and says so:
 * batch too large → 400 code 81063 (fake's choice); comment too long → 400 code 9102 (fake's
 * choice); bad per_page → 400 code 1004 (fake's choice). It is stricter than the real API in one
 * way on purpose: a query parameter it does not implement (e.g. `name[exact]`) is a 400, so a
 * client that serialises a filter differently fails loudly instead of being silently unfiltered.
 *
 * Test controls: fault injection (429 with retry-after, 5xx), a hook before each request (to
 * simulate someone else's edit between mailpool's requests), a request log (method, path, query,
 * time, status), and `pastLastPage: "repeat-last"` which answers pages beyond total_pages with
 * the last page again (non-empty), to prove a client stops by total_pages.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isIPv4, isIPv6, type AddressInfo } from "node:net";

export interface FakeTokenGrant {
  /** Zone ids this token may use, or "*" for every zone. */
  readonly zones: "*" | readonly string[];
  /** May it list zones (Zone:Read)? Default true. */
  readonly zoneRead?: boolean;
}

export interface FakeRecord {
  id: string;
  name: string;
  type: string;
  content: string;
  proxiable: boolean;
  proxied: boolean;
  ttl: number;
  comment: string | null;
  tags: string[];
  settings: Record<string, unknown>;
  meta: Record<string, unknown>;
  created_on: string;
  modified_on: string;
}

export interface SeedRecord {
  readonly name: string;
  readonly type: string;
  readonly content: string;
  readonly ttl?: number;
  readonly proxied?: boolean;
  readonly comment?: string | null;
  readonly id?: string;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** performance.now() (or the injected clock) when the request arrived. */
  readonly time: number;
  status: number;
  /** Parsed JSON body of writes. */
  body?: unknown;
}

export interface Injection {
  readonly status: number;
  /** How many matching requests get it (default 1). */
  readonly times?: number;
  /** Retry-After header value (seconds or an HTTP date). */
  readonly retryAfter?: string;
  readonly code?: number;
  readonly message?: string;
  /** Which requests; default: every request. */
  readonly when?: (req: { method: string; path: string }) => boolean;
  /**
   * The request is carried out first and only its reply is replaced (a 502 from a proxy, a
   * timeout after the write landed): the reply is lost, the write is not.
   */
  readonly afterWrite?: boolean;
}

export interface CloudflareFakeOptions {
  readonly tokens?: Readonly<Record<string, FakeTokenGrant>>;
  /** Batch size limit (Free plan: 200). */
  readonly batchSizeLimit?: number;
  /** What a page beyond total_pages returns: "empty" (like the API) or the last page again. */
  readonly pastLastPage?: "empty" | "repeat-last";
  readonly now?: () => number;
}

export type BeforeRequestHook = (req: { method: string; path: string; query: Record<string, string>; n: number }) => void | Promise<void>;

class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 4 * 1024 * 1024;
const PROXIABLE = new Set(["A", "AAAA", "CNAME"]);
const KNOWN_TYPES = new Set(["A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA"]);
const LIST_QUERY_KEYS = new Set(["name", "name.exact", "type", "page", "per_page"]);
const ZONES_QUERY_KEYS = new Set(["name", "page", "per_page"]);

export const newId = (): string => randomBytes(16).toString("hex");
const isId = (s: unknown): s is string => typeof s === "string" && /^[0-9a-f]{32}$/.test(s);

/** Canonical address text (IPv6 compressed, lower case), independent of mailpool's own helper. */
function canonicalAddress(type: string, content: string): string {
  if (type === "AAAA") return new URL(`http://[${content}]/`).hostname.slice(1, -1);
  return content;
}

/** TXT content's text: quoted strings joined, or the bare content. */
function txtText(content: string): string {
  const parts = content.match(/"((?:[^"\\]|\\.)*)"/g);
  if (!content.trim().startsWith('"') || !parts) return content;
  return parts.map((p) => p.slice(1, -1).replace(/\\(.)/g, "$1")).join("");
}

const identityOf = (r: { name: string; type: string; content: string }): string =>
  `${r.name}|${r.type}|${r.type === "TXT" ? txtText(r.content) : r.content}`;

export class CloudflareFake {
  readonly #server: Server;
  readonly #tokens: Map<string, FakeTokenGrant>;
  readonly #zones = new Map<string, { id: string; name: string; records: FakeRecord[] }>();
  readonly #injections: (Injection & { left: number })[] = [];
  readonly #now: () => number;
  batchSizeLimit: number;
  pastLastPage: "empty" | "repeat-last";
  /** Runs before each request is handled (after it is logged). */
  beforeRequest: BeforeRequestHook | undefined;
  readonly requests: LoggedRequest[] = [];
  baseUrl = "";

  private constructor(options: CloudflareFakeOptions) {
    this.#tokens = new Map(Object.entries(options.tokens ?? { [DEFAULT_TOKEN]: { zones: "*" } }));
    this.batchSizeLimit = options.batchSizeLimit ?? 200;
    this.pastLastPage = options.pastLastPage ?? "empty";
    this.#now = options.now ?? (() => performance.now());
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, envelopeError(500, String(err)));
        else res.destroy();
      });
    });
  }

  static async start(options: CloudflareFakeOptions = {}): Promise<CloudflareFake> {
    const fake = new CloudflareFake(options);
    await new Promise<void>((resolve, reject) => {
      fake.#server.once("error", reject);
      fake.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = fake.#server.address() as AddressInfo;
    fake.baseUrl = `http://127.0.0.1:${port}/client/v4`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  addZone(name: string, id: string = newId()): string {
    this.#zones.set(id, { id, name, records: [] });
    return id;
  }

  /** Adds a record directly (as someone using the dashboard would). */
  seed(zoneId: string, r: SeedRecord): FakeRecord {
    const zone = this.#zone(zoneId);
    const now = new Date().toISOString();
    const rec: FakeRecord = {
      id: r.id ?? newId(),
      name: r.name,
      type: r.type,
      content: canonicalAddress(r.type, r.content),
      proxiable: PROXIABLE.has(r.type),
      proxied: r.proxied ?? false,
      ttl: r.ttl ?? 300,
      comment: r.comment ?? null,
      tags: [],
      settings: {},
      meta: {},
      created_on: now,
      modified_on: now,
    };
    zone.records.push(rec);
    return structuredClone(rec);
  }

  /** Copies of the zone's records, optionally at one name/type. */
  records(zoneId: string, name?: string, type?: string): FakeRecord[] {
    return this.#zone(zoneId)
      .records.filter((r) => (name === undefined || r.name === name) && (type === undefined || r.type === type))
      .map((r) => structuredClone(r));
  }

  /** Edits a record directly (someone else's change). */
  update(zoneId: string, id: string, patch: Partial<Omit<FakeRecord, "id">>): void {
    const rec = this.#zone(zoneId).records.find((r) => r.id === id);
    if (!rec) throw new Error(`no record ${id}`);
    Object.assign(rec, patch, { modified_on: new Date().toISOString() });
  }

  /** Deletes a record directly (someone else's change). */
  remove(zoneId: string, id: string): void {
    const zone = this.#zone(zoneId);
    const i = zone.records.findIndex((r) => r.id === id);
    if (i < 0) throw new Error(`no record ${id}`);
    zone.records.splice(i, 1);
  }

  inject(injection: Injection): void {
    this.#injections.push({ ...injection, left: injection.times ?? 1 });
  }

  /** Every request that was not a GET. */
  writes(): LoggedRequest[] {
    return this.requests.filter((r) => r.method !== "GET");
  }

  #zone(zoneId: string) {
    const zone = this.#zones.get(zoneId);
    if (!zone) throw new Error(`no zone ${zoneId}`);
    return zone;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const query = Object.fromEntries(url.searchParams);
    const entry: LoggedRequest = { method, path: url.pathname, query, time: this.#now(), status: 0 };
    this.requests.push(entry);
    let lost: Injection | undefined;
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      if (lost && status < 400) {
        const l = lost;
        [status, payload, headers] = [l.status, envelopeError(l.code ?? 10001, l.message ?? "Bad gateway"), {}];
      }
      entry.status = status;
      send(res, status, payload, headers);
    };
    try {
      const body = method === "GET" ? undefined : await readJson(req);
      entry.body = body;
      await this.beforeRequest?.({ method, path: url.pathname, query, n: this.requests.length });
      const inj = this.#injections.find((i) => i.left > 0 && (i.when?.({ method, path: url.pathname }) ?? true));
      if (inj?.afterWrite) {
        inj.left -= 1;
        lost = inj;
      } else if (inj) {
        inj.left -= 1;
        const code = inj.code ?? (inj.status === 429 ? 971 : 10001);
        const message = inj.message ?? (inj.status === 429 ? "Please wait and consider throttling your request speed" : "Internal server error");
        return reply(inj.status, envelopeError(code, message), inj.retryAfter === undefined ? {} : { "retry-after": inj.retryAfter });
      }
      const grant = this.#authenticate(req);
      const m = /^\/client\/v4\/zones(?:\/([^/]+)\/dns_records(\/batch)?)?\/?$/.exec(url.pathname);
      if (!m) throw new ApiFailure(404, 7003, `Could not route to ${url.pathname}, perhaps your object identifier is invalid?`);
      const [, zoneId, batch] = m;
      if (zoneId === undefined) {
        if (method !== "GET") throw new ApiFailure(405, 10405, "Method not allowed");
        return reply(200, this.#listZones(grant, url.searchParams));
      }
      if (!isId(zoneId)) throw new ApiFailure(400, 7003, `Could not route to ${url.pathname}, perhaps your object identifier is invalid?`);
      if (grant.zones !== "*" && !grant.zones.includes(zoneId)) throw new ApiFailure(403, 10000, "Authentication error");
      const zone = this.#zones.get(zoneId);
      if (!zone) throw new ApiFailure(404, 7003, `Could not route to ${url.pathname}, perhaps your object identifier is invalid?`);
      if (batch) {
        if (method !== "POST") throw new ApiFailure(405, 10405, "Method not allowed");
        return reply(200, this.#batch(zone, body));
      }
      if (method !== "GET") throw new ApiFailure(405, 10405, "Method not allowed (the fake implements only list and batch)");
      return reply(200, this.#listRecords(zone, url.searchParams));
    } catch (err) {
      if (err instanceof ApiFailure) return reply(err.status, envelopeError(err.code, err.message));
      throw err;
    }
  }

  #authenticate(req: IncomingMessage): FakeTokenGrant {
    const header = req.headers.authorization;
    if (header === undefined) throw new ApiFailure(401, 10000, "Authentication error");
    const m = /^Bearer (\S+)$/.exec(header);
    if (!m) throw new ApiFailure(400, 6003, "Invalid request headers");
    const grant = this.#tokens.get(m[1]!);
    if (!grant) throw new ApiFailure(401, 9109, "Invalid access token");
    return grant;
  }

  #listZones(grant: FakeTokenGrant, q: URLSearchParams) {
    for (const k of q.keys()) if (!ZONES_QUERY_KEYS.has(k)) throw new ApiFailure(400, 1004, `unsupported query parameter ${k}`);
    const name = q.get("name");
    const visible = grant.zoneRead === false ? [] : [...this.#zones.values()].filter((z) => grant.zones === "*" || grant.zones.includes(z.id));
    const zones = visible
      .filter((z) => name === null || z.name === name)
      .map((z) => ({ id: z.id, name: z.name, status: "active", paused: false, type: "full" }));
    return this.#page(zones, q, 20, 50);
  }

  #listRecords(zone: { records: FakeRecord[] }, q: URLSearchParams) {
    for (const k of q.keys()) if (!LIST_QUERY_KEYS.has(k)) throw new ApiFailure(400, 1004, `unsupported query parameter ${k}`);
    const name = q.get("name.exact") ?? q.get("name");
    const type = q.get("type");
    const matching = zone.records.filter((r) => (name === null || r.name === name) && (type === null || r.type === type));
    return this.#page(matching.map((r) => structuredClone(r)), q, 100, 5_000_000);
  }

  #page<T>(items: T[], q: URLSearchParams, defaultPerPage: number, maxPerPage: number) {
    const page = intParam(q, "page", 1);
    const perPage = intParam(q, "per_page", defaultPerPage);
    if (page < 1) throw new ApiFailure(400, 1004, "page must be at least 1");
    if (perPage < 1 || perPage > maxPerPage) throw new ApiFailure(400, 1004, `per_page must be between 1 and ${maxPerPage}`);
    const totalPages = Math.ceil(items.length / perPage);
    let shown = page;
    if (page > totalPages && this.pastLastPage === "repeat-last" && totalPages > 0) shown = totalPages;
    const result = items.slice((shown - 1) * perPage, shown * perPage);
    return {
      success: true,
      errors: [],
      messages: [],
      result,
      result_info: { page, per_page: perPage, count: result.length, total_count: items.length, total_pages: totalPages },
    };
  }

  #batch(zone: { id: string; name: string; records: FakeRecord[] }, body: unknown) {
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiFailure(400, 9207, "Request body is invalid.");
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) {
      if (!["deletes", "patches", "puts", "posts"].includes(k)) throw new ApiFailure(400, 9207, `Request body is invalid: unknown field ${k}`);
    }
    const list = (k: string): Record<string, unknown>[] => {
      const v = b[k];
      if (v === undefined) return [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== "object" || x === null)) throw new ApiFailure(400, 9207, `${k} must be an array of objects`);
      return v as Record<string, unknown>[];
    };
    const deletes = list("deletes");
    const patches = list("patches");
    const puts = list("puts");
    const posts = list("posts");
    const count = deletes.length + patches.length + puts.length + posts.length;
    if (count > this.batchSizeLimit) {
      throw new ApiFailure(400, 81063, `The batch holds ${count} records; this zone's plan allows at most ${this.batchSizeLimit} per batch.`);
    }
    // Work on a copy: any failure leaves the zone untouched.
    const work = zone.records.map((r) => structuredClone(r));
    const now = new Date().toISOString();
    const find = (id: unknown) => {
      if (!isId(id)) throw new ApiFailure(400, 9207, `invalid record id ${JSON.stringify(id)}`);
      const i = work.findIndex((r) => r.id === id);
      if (i < 0) throw new ApiFailure(404, 81044, "Record does not exist.");
      return i;
    };
    const result = { deletes: [] as FakeRecord[], patches: [] as FakeRecord[], puts: [] as FakeRecord[], posts: [] as FakeRecord[] };
    for (const d of deletes) {
      const [gone] = work.splice(find(d.id), 1);
      result.deletes.push(gone!);
    }
    for (const p of patches) {
      const i = find(p.id);
      const cur = work[i]!;
      const next = this.#validated(zone, { ...cur, ...pick(p), id: cur.id });
      if (next.type !== cur.type) throw new ApiFailure(400, 9000, "A record's type cannot be changed by a patch.");
      this.#unique(work, next);
      work[i] = { ...next, modified_on: now };
      result.patches.push(work[i]!);
    }
    for (const p of puts) {
      const i = find(p.id);
      const cur = work[i]!;
      if (p.name === undefined || p.type === undefined || p.content === undefined) throw new ApiFailure(400, 9207, "puts need id, name, type and content");
      const next = this.#validated(zone, { ...blank(cur.id, cur.created_on), ...pick(p) });
      this.#unique(work, next);
      work[i] = { ...next, modified_on: now };
      result.puts.push(work[i]!);
    }
    for (const p of posts) {
      if (p.id !== undefined) throw new ApiFailure(400, 9207, "posts must not carry an id");
      if (p.name === undefined || p.type === undefined || p.content === undefined) throw new ApiFailure(400, 9207, "posts need name, type and content");
      const next = this.#validated(zone, { ...blank(newId(), now), ...pick(p) });
      this.#unique(work, next);
      work.push(next);
      result.posts.push(next);
    }
    zone.records = work;
    return { success: true, errors: [], messages: [], result: structuredClone(result) };
  }

  /** Checks a record against the API's rules and returns its stored form. */
  #validated(zone: { name: string }, r: FakeRecord): FakeRecord {
    if (typeof r.name !== "string" || r.name === "") throw new ApiFailure(400, 9005, "DNS name is invalid.");
    let name = r.name.toLowerCase().replace(/\.$/, "");
    if (name === "@") name = zone.name;
    else if (name !== zone.name && !name.endsWith(`.${zone.name}`)) name = `${name}.${zone.name}`;
    if (typeof r.type !== "string" || !KNOWN_TYPES.has(r.type)) throw new ApiFailure(400, 9000, `DNS record type ${JSON.stringify(r.type)} is invalid.`);
    if (typeof r.content !== "string" || r.content === "") throw new ApiFailure(400, 9000, "DNS record content is missing.");
    if (r.type === "A" && !isIPv4(r.content)) throw new ApiFailure(400, 9005, "Content for A record must be a valid IPv4 address.");
    if (r.type === "AAAA" && !isIPv6(r.content)) throw new ApiFailure(400, 9006, "Content for AAAA record must be a valid IPv6 address.");
    if (typeof r.ttl !== "number" || !Number.isInteger(r.ttl) || (r.ttl !== 1 && (r.ttl < 60 || r.ttl > 86400))) {
      throw new ApiFailure(400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.");
    }
    if (typeof r.proxied !== "boolean") throw new ApiFailure(400, 9003, "Invalid 'proxied' value, must be a boolean");
    if (r.proxied && !PROXIABLE.has(r.type)) throw new ApiFailure(400, 9004, "This record type cannot be proxied.");
    if (r.comment !== null && (typeof r.comment !== "string" || r.comment.length > 100)) {
      throw new ApiFailure(400, 9102, "DNS record comment is too long (at most 100 characters on this plan).");
    }
    return { ...r, name, content: canonicalAddress(r.type, r.content), proxiable: PROXIABLE.has(r.type) };
  }

  #unique(work: readonly FakeRecord[], r: FakeRecord): void {
    const id = identityOf(r);
    if (work.some((o) => o.id !== r.id && identityOf(o) === id)) throw new ApiFailure(400, 81058, "An identical record already exists.");
    // A CNAME stands alone at its name (Cloudflare's codes and wording).
    const same = work.filter((o) => o.id !== r.id && o.name === r.name);
    if (r.type === "CNAME" && same.some((o) => o.type === "A" || o.type === "AAAA" || o.type === "CNAME")) {
      throw new ApiFailure(400, 81053, "An A, AAAA, or CNAME record with that host already exists.");
    }
    if ((r.type === "A" || r.type === "AAAA") && same.some((o) => o.type === "CNAME")) {
      throw new ApiFailure(400, 81054, "A CNAME record with that host already exists.");
    }
  }
}

/** The token every fake accepts unless `tokens` says otherwise. */
export const DEFAULT_TOKEN = "fake-cloudflare-token-0123456789abcdef";

function blank(id: string, created: string): FakeRecord {
  return {
    id,
    name: "",
    type: "",
    content: "",
    proxiable: false,
    proxied: false,
    ttl: 1,
    comment: null,
    tags: [],
    settings: {},
    meta: {},
    created_on: created,
    modified_on: created,
  };
}

/** The writable fields of a record in a request. */
function pick(p: Record<string, unknown>): Partial<FakeRecord> {
  const out: Record<string, unknown> = {};
  for (const k of ["name", "type", "content", "ttl", "proxied", "comment", "tags", "settings"]) {
    if (p[k] !== undefined) out[k] = p[k];
  }
  return out as Partial<FakeRecord>;
}

function intParam(q: URLSearchParams, key: string, fallback: number): number {
  const v = q.get(key);
  if (v === null) return fallback;
  if (!/^\d+$/.test(v)) throw new ApiFailure(400, 1004, `${key} must be a whole number`);
  return Number(v);
}

function envelopeError(code: number, message: string) {
  return { success: false, errors: [{ code, message }], messages: [], result: null };
}

function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiFailure(413, 9207, "Request body is too large.");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) throw new ApiFailure(415, 9207, "Content-Type must be application/json");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiFailure(400, 9207, "Request body is not valid JSON.");
  }
}
