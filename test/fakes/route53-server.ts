/**
 * A wire-level fake of the Route 53 API (2013-04-01 REST+XML) on 127.0.0.1, port 0, for driving
 * the real AWS SDK client. It keeps zones in maps and enforces the rules mailpool relies on:
 * a DELETE must match the live record set exactly, a CREATE must not find one, a batch is applied
 * in order and all-or-nothing, simple and SetIdentifier record sets cannot share a name and type,
 * and a request holds at most 1,000 ResourceRecord elements and 32,000 Value characters (UPSERT
 * counting twice). It pages ListResourceRecordSets in Route 53's order, reports a change PENDING
 * for a number of polls, injects faults (Throttling, PriorRequestNotComplete, 5xx, 429, reset),
 * runs a hook before each request (a concurrent writer), logs every request, and answers 403
 * to requests that are not SigV4-signed.
 *
 * Shapes follow the API reference and what Route 53 answers today: errors are
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`; an
 * InvalidChangeBatch lists its messages as "[first, second]" in Message. The legacy form
 * (`<InvalidChangeBatch><Messages><Message/>…`) can be selected with `invalidChangeBatchStyle`.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { compareNames, formatName, inZone, parseName, sameName, type Labels } from "./route53/dns-names.js";
import { child, childText, childrenNamed, parseXml, tag, type XmlElement } from "./route53/xml.js";

const XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/";
const MAX_BODY_BYTES = 1 << 20;
export const MAX_RESOURCE_RECORDS = 1000;
export const MAX_VALUE_CHARACTERS = 32_000;

export interface FakeRecordSet {
  /** Absolute name; any form Route 53 accepts ("\052.example.com.", "www.example.com"). */
  readonly name: string;
  readonly type: string;
  readonly ttl?: number;
  readonly values: readonly string[];
  readonly setIdentifier?: string;
  readonly multiValueAnswer?: boolean;
  readonly weight?: number;
  readonly healthCheckId?: string;
  readonly aliasTarget?: { readonly hostedZoneId: string; readonly dnsName: string; readonly evaluateTargetHealth: boolean };
}

/** A record set as stored: the name parsed into labels, the rest as given. */
interface StoredRecordSet extends FakeRecordSet {
  readonly labels: Labels;
}

export interface FakeZone {
  readonly id: string;
  readonly name: string;
  readonly labels: Labels;
  readonly privateZone: boolean;
  records: StoredRecordSet[];
}

export type Route53Action =
  | "ListHostedZonesByName"
  | "ListResourceRecordSets"
  | "ChangeResourceRecordSets"
  | "GetChange"
  | "Unknown";

export type Fault =
  | "Throttling"
  | "ThrottlingException"
  | "TooManyRequests"
  | "PriorRequestNotComplete"
  | "InternalFailure"
  | "ServiceUnavailable"
  | "AccessDenied"
  | "reset"
  /** The request is carried out, then answered 502 Bad Gateway: the write landed, its reply is lost. */
  | "lostReply";

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly action: Route53Action;
  /** performance.now() when the request arrived, ms. */
  readonly time: number;
  /** The access key id named in the SigV4 Authorization header. */
  readonly accessKeyId: string | undefined;
  /** The X-Amz-Security-Token header (temporary credentials). */
  readonly sessionToken: string | undefined;
  status: number;
  /** The error code answered, if any. */
  code?: string;
  /** For ChangeResourceRecordSets: the changes sent (action, name, type, set id). */
  changes?: readonly { action: string; name: string; type: string; setIdentifier?: string; values: string[] }[];
}

export interface RequestInfo {
  readonly method: string;
  readonly action: Route53Action;
  readonly zoneId: string | undefined;
  readonly index: number;
}

export interface FakeRoute53Options {
  /** GetChange answers PENDING this many times, then INSYNC. Default 1. */
  insyncAfterPolls?: number;
  /** Answer Throttling when more than this many requests arrived in the last second. */
  throttleAbovePerSecond?: number;
  invalidChangeBatchStyle?: "standard" | "legacy";
}

interface PendingFault {
  readonly fault: Fault;
  readonly action: Route53Action | undefined;
  remaining: number;
}

interface ChangeState {
  readonly id: string;
  readonly submittedAt: string;
  readonly comment: string | undefined;
  pollsLeft: number;
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: "Sender" | "Receiver" = "Sender",
    readonly messages?: readonly string[],
  ) {
    super(message);
  }
}

export class FakeRoute53Server {
  readonly #server: Server;
  readonly #zones = new Map<string, FakeZone>();
  readonly #changes = new Map<string, ChangeState>();
  readonly #faults: PendingFault[] = [];
  #hook: ((info: RequestInfo) => void | Promise<void>) | undefined;
  #nextZone = 1;
  #nextChange = 1;
  readonly log: LoggedRequest[] = [];
  insyncAfterPolls: number;
  throttleAbovePerSecond: number | undefined;
  invalidChangeBatchStyle: "standard" | "legacy";
  url = "";

  private constructor(options: FakeRoute53Options) {
    this.insyncAfterPolls = options.insyncAfterPolls ?? 1;
    this.throttleAbovePerSecond = options.throttleAbovePerSecond;
    this.invalidChangeBatchStyle = options.invalidChangeBatchStyle ?? "standard";
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(String(err));
        }
      });
    });
  }

  static async start(options: FakeRoute53Options = {}): Promise<FakeRoute53Server> {
    const fake = new FakeRoute53Server(options);
    await new Promise<void>((resolve, reject) => {
      fake.#server.once("error", reject);
      fake.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = fake.#server.address() as AddressInfo;
    fake.url = `http://127.0.0.1:${port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---- state, for tests -------------------------------------------------------------------

  /** Creates a hosted zone with its SOA and NS record sets; returns it. */
  addZone(name: string, options: { id?: string; privateZone?: boolean } = {}): FakeZone {
    const id = options.id ?? `Z${String(this.#nextZone++).padStart(12, "0")}FAKE`;
    const labels = parseName(name);
    const zone: FakeZone = { id, name: formatName(labels), labels, privateZone: options.privateZone ?? false, records: [] };
    this.#zones.set(id, zone);
    this.put(id, { name, type: "SOA", ttl: 900, values: ["ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"] });
    this.put(id, { name, type: "NS", ttl: 172800, values: ["ns-1.awsdns-01.org.", "ns-2.awsdns-02.co.uk."] });
    return zone;
  }

  zone(id: string): FakeZone {
    const zone = this.#zones.get(id);
    if (!zone) throw new Error(`no fake zone ${id}`);
    return zone;
  }

  /** Seeds or replaces a record set (same name, type and set identifier) without any checks. */
  put(zoneId: string, record: FakeRecordSet): void {
    const zone = this.zone(zoneId);
    const stored: StoredRecordSet = { ...record, labels: parseName(record.name) };
    zone.records = zone.records.filter((r) => !sameIdentity(r, stored));
    zone.records.push(stored);
    zone.records.sort(compareRecords);
  }

  /** Removes record sets at name/type (one set identifier, or all). */
  remove(zoneId: string, name: string, type: string, setIdentifier?: string): void {
    const zone = this.zone(zoneId);
    const labels = parseName(name);
    zone.records = zone.records.filter(
      (r) => !(sameName(r.labels, labels) && r.type === type && (setIdentifier === undefined || r.setIdentifier === setIdentifier)),
    );
  }

  /** The record sets at name/type, in listing order, with names in Route 53's answer form. */
  find(zoneId: string, name: string, type: string): FakeRecordSet[] {
    const labels = parseName(name);
    return this.zone(zoneId)
      .records.filter((r) => sameName(r.labels, labels) && r.type === type)
      .map(({ labels: l, ...rest }) => ({ ...rest, name: formatName(l) }));
  }

  /** Answers the next `count` matching requests with `fault` instead of handling them. */
  injectFault(fault: Fault, options: { count?: number; action?: Route53Action } = {}): void {
    this.#faults.push({ fault, action: options.action, remaining: options.count ?? 1 });
  }

  /** Runs before each request is handled (after the signature check): a concurrent writer. */
  onRequest(hook: ((info: RequestInfo) => void | Promise<void>) | undefined): void {
    this.#hook = hook;
  }

  requests(action?: Route53Action): LoggedRequest[] {
    return action === undefined ? [...this.log] : this.log.filter((r) => r.action === action);
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const { action, zoneId, changeId } = route(method, url.pathname);
    const auth = req.headers.authorization ?? "";
    const entry: LoggedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      action,
      time: performance.now(),
      accessKeyId: /Credential=([^/,\s]+)\//.exec(auth)?.[1],
      sessionToken: typeof req.headers["x-amz-security-token"] === "string" ? req.headers["x-amz-security-token"] : undefined,
      status: 0,
    };
    this.log.push(entry);
    let body = "";
    try {
      body = await readBody(req);
      if (!auth.startsWith("AWS4-HMAC-SHA256")) {
        throw new RequestError(403, "MissingAuthenticationToken", "Missing Authentication Token");
      }
      await this.#hook?.({ method, action, zoneId, index: this.log.length - 1 });
      const lostReply = this.#takeLostReply(action);
      if (!lostReply && this.#applyFault(action, req, res, entry)) return;
      this.#throttleIfOverRate(entry);
      const xml = this.#dispatch(method, action, zoneId, changeId, url.searchParams, body, entry);
      if (lostReply) {
        entry.status = 502;
        res.writeHead(502, { "content-type": "text/html" }).end("<html><body>502 Bad Gateway</body></html>");
        return;
      }
      entry.status = 200;
      send(res, 200, xml);
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      entry.status = err.status;
      entry.code = err.code;
      send(res, err.status, this.#errorXml(err));
    }
  }

  /** Takes a pending lostReply fault for this request, if one is next in line. */
  #takeLostReply(action: Route53Action): boolean {
    const pending = this.#faults.find((f) => f.remaining > 0 && (f.action === undefined || f.action === action));
    if (pending?.fault !== "lostReply") return false;
    pending.remaining -= 1;
    return true;
  }

  #applyFault(action: Route53Action, req: IncomingMessage, res: ServerResponse, entry: LoggedRequest): boolean {
    const pending = this.#faults.find((f) => f.remaining > 0 && (f.action === undefined || f.action === action));
    if (!pending) return false;
    pending.remaining -= 1;
    switch (pending.fault) {
      case "lostReply":
        return false; // taken by #takeLostReply before any other fault
      case "reset":
        entry.status = -1;
        req.socket.destroy();
        res.destroy();
        return true;
      case "Throttling":
        throw new RequestError(400, "Throttling", "Rate exceeded");
      case "ThrottlingException":
        throw new RequestError(400, "ThrottlingException", "Rate exceeded");
      case "TooManyRequests":
        throw new RequestError(429, "TooManyRequestsException", "Too Many Requests");
      case "PriorRequestNotComplete":
        throw new RequestError(
          400,
          "PriorRequestNotComplete",
          "The request was rejected because Route 53 was still processing a prior request.",
        );
      case "InternalFailure":
        throw new RequestError(500, "InternalFailure", "We encountered an internal error. Please try again.", "Receiver");
      case "ServiceUnavailable":
        throw new RequestError(503, "ServiceUnavailable", "Service Unavailable", "Receiver");
      case "AccessDenied":
        throw new RequestError(
          403,
          "AccessDenied",
          `User: arn:aws:iam::123456789012:user/mailpool is not authorized to perform: route53:${action}`,
        );
    }
  }

  #throttleIfOverRate(entry: LoggedRequest): void {
    const limit = this.throttleAbovePerSecond;
    if (limit === undefined) return;
    const recent = this.log.filter((r) => r !== entry && r.code !== "Throttling" && entry.time - r.time < 1000).length;
    if (recent >= limit) throw new RequestError(400, "Throttling", "Rate exceeded");
  }

  #dispatch(
    method: string,
    action: Route53Action,
    zoneId: string | undefined,
    changeId: string | undefined,
    query: URLSearchParams,
    body: string,
    entry: LoggedRequest,
  ): string {
    switch (action) {
      case "ListHostedZonesByName":
        return this.#listHostedZonesByName(query);
      case "ListResourceRecordSets":
        return this.#listResourceRecordSets(this.#zoneOrThrow(zoneId), query);
      case "ChangeResourceRecordSets":
        return this.#changeResourceRecordSets(this.#zoneOrThrow(zoneId), body, entry);
      case "GetChange":
        return this.#getChange(changeId ?? "");
      case "Unknown":
        throw new RequestError(400, "InvalidAction", `${method} is not implemented by the fake`);
    }
  }

  #zoneOrThrow(id: string | undefined): FakeZone {
    const zone = id === undefined ? undefined : this.#zones.get(id);
    if (!zone) throw new RequestError(404, "NoSuchHostedZone", `No hosted zone found with ID: ${id}`);
    return zone;
  }

  #errorXml(err: RequestError): string {
    if (err.code === "InvalidChangeBatch" && this.invalidChangeBatchStyle === "legacy") {
      const messages = (err.messages ?? [err.message]).map((m) => tag("Message", m)).join("");
      return `<?xml version="1.0"?>\n<InvalidChangeBatch xmlns="${XMLNS}"><Messages>${messages}</Messages>${tag("RequestId", randomUUID())}</InvalidChangeBatch>`;
    }
    return (
      `<?xml version="1.0"?>\n<ErrorResponse xmlns="${XMLNS}"><Error>${tag("Type", err.type)}${tag("Code", err.code)}` +
      `${tag("Message", err.message)}</Error>${tag("RequestId", randomUUID())}</ErrorResponse>`
    );
  }

  // ---- ListHostedZonesByName ----------------------------------------------------------------

  #listHostedZonesByName(query: URLSearchParams): string {
    const dnsName = query.get("dnsname") ?? undefined;
    const startId = query.get("hostedzoneid") ?? undefined;
    if (startId !== undefined && dnsName === undefined) {
      throw new RequestError(400, "InvalidInput", "The input is not valid: hostedzoneid requires dnsname");
    }
    const maxItems = clampMaxItems(query.get("maxitems"), 100, 100);
    const zones = [...this.#zones.values()].sort((a, b) => compareNames(a.labels, b.labels) || cmp(a.id, b.id));
    const startLabels = dnsName === undefined ? undefined : parseName(dnsName);
    const from = zones.filter(
      (z) =>
        startLabels === undefined ||
        compareNames(z.labels, startLabels) > 0 ||
        (compareNames(z.labels, startLabels) === 0 && (startId === undefined || cmp(z.id, startId) >= 0)),
    );
    const page = from.slice(0, maxItems);
    const next = from[maxItems];
    const zonesXml = page
      .map(
        (z) =>
          `<HostedZone>${tag("Id", `/hostedzone/${z.id}`)}${tag("Name", z.name)}${tag("CallerReference", `fake-${z.id}`)}` +
          `<Config>${tag("PrivateZone", z.privateZone)}</Config>${tag("ResourceRecordSetCount", z.records.length)}</HostedZone>`,
      )
      .join("");
    return (
      `<?xml version="1.0"?>\n<ListHostedZonesByNameResponse xmlns="${XMLNS}"><HostedZones>${zonesXml}</HostedZones>` +
      `${tag("DNSName", dnsName)}${tag("HostedZoneId", startId)}${tag("IsTruncated", next !== undefined)}` +
      `${tag("NextDNSName", next?.name)}${tag("NextHostedZoneId", next?.id)}${tag("MaxItems", maxItems)}</ListHostedZonesByNameResponse>`
    );
  }

  // ---- ListResourceRecordSets ---------------------------------------------------------------

  #listResourceRecordSets(zone: FakeZone, query: URLSearchParams): string {
    const name = query.get("name") ?? undefined;
    const type = query.get("type") ?? undefined;
    const identifier = query.get("identifier") ?? undefined;
    if (type !== undefined && name === undefined) throw new RequestError(400, "InvalidInput", "The input is not valid: type requires name");
    if (identifier !== undefined && type === undefined) {
      throw new RequestError(400, "InvalidInput", "The input is not valid: identifier requires name and type");
    }
    const maxItems = clampMaxItems(query.get("maxitems"), 300, 300);
    const start = name === undefined ? undefined : parseName(name);
    const from = zone.records.filter((r) => {
      if (start === undefined) return true;
      const byName = compareNames(r.labels, start);
      if (byName !== 0) return byName > 0;
      if (type === undefined) return true;
      if (r.type !== type) return cmp(r.type, type) > 0;
      return identifier === undefined || cmp(r.setIdentifier ?? "", identifier) >= 0;
    });
    const page = from.slice(0, maxItems);
    const next = from[maxItems];
    return (
      `<?xml version="1.0"?>\n<ListResourceRecordSetsResponse xmlns="${XMLNS}"><ResourceRecordSets>` +
      page.map(recordXml).join("") +
      `</ResourceRecordSets>${tag("IsTruncated", next !== undefined)}` +
      (next === undefined
        ? ""
        : `${tag("NextRecordName", formatName(next.labels))}${tag("NextRecordType", next.type)}${tag("NextRecordIdentifier", next.setIdentifier)}`) +
      `${tag("MaxItems", maxItems)}</ListResourceRecordSetsResponse>`
    );
  }

  // ---- ChangeResourceRecordSets -------------------------------------------------------------

  #changeResourceRecordSets(zone: FakeZone, body: string, entry: LoggedRequest): string {
    let root: XmlElement;
    try {
      root = parseXml(body);
    } catch (err) {
      throw new RequestError(400, "MalformedInput", `Could not parse the request body: ${(err as Error).message}`);
    }
    if (root.name !== "ChangeResourceRecordSetsRequest") {
      throw new RequestError(400, "MalformedInput", "ChangeBatch is not valid, expected ChangeResourceRecordSetsRequest");
    }
    const batch = child(root, "ChangeBatch");
    const comment = childText(batch, "Comment");
    const changes = childrenNamed(child(batch, "Changes"), "Change").map(parseChange);
    if (changes.length === 0) throw new RequestError(400, "InvalidInput", "The input is not valid: no Change elements");
    entry.changes = changes.map((c) => ({
      action: c.action,
      name: formatName(c.record.labels),
      type: c.record.type,
      values: [...c.record.values],
      ...(c.record.setIdentifier === undefined ? {} : { setIdentifier: c.record.setIdentifier }),
    }));

    // Size limits (DNSLimitations.md): UPSERT counts twice.
    let resourceRecords = 0;
    let characters = 0;
    for (const c of changes) {
      const factor = c.action === "UPSERT" ? 2 : 1;
      resourceRecords += c.record.values.length * factor;
      characters += c.record.values.reduce((n, v) => n + v.length, 0) * factor;
    }
    const limitMessages: string[] = [];
    if (resourceRecords > MAX_RESOURCE_RECORDS) limitMessages.push(`Number of records limit of ${MAX_RESOURCE_RECORDS} exceeded.`);
    if (characters > MAX_VALUE_CHARACTERS) {
      limitMessages.push(`Number of characters in Value elements limit of ${MAX_VALUE_CHARACTERS} exceeded.`);
    }
    if (limitMessages.length > 0) throw invalidChangeBatch(limitMessages);

    // Apply in order to a working copy; commit only when every change is valid.
    let working = [...zone.records];
    const messages: string[] = [];
    for (const { action, record } of changes) {
      const label = describe(record);
      if (!inZone(record.labels, zone.labels)) {
        messages.push(`RRSet with DNS name ${formatName(record.labels)} is not permitted in zone ${zone.name}`);
        continue;
      }
      if (record.aliasTarget === undefined && (record.ttl === undefined || record.values.length === 0)) {
        throw new RequestError(400, "InvalidInput", `Invalid request: ${label} needs a TTL and at least one ResourceRecord`);
      }
      if (record.multiValueAnswer === true && record.setIdentifier === undefined) {
        throw new RequestError(400, "InvalidInput", `Invalid request: ${label}: MultiValueAnswer requires a SetIdentifier`);
      }
      const existing = working.find((r) => sameIdentity(r, record));
      if (action === "DELETE") {
        if (!existing) messages.push(`Tried to delete resource record set ${label} but it was not found`);
        else if (!sameContent(existing, record)) {
          messages.push(`Tried to delete resource record set ${label} but the values provided do not match the current values`);
        } else working = working.filter((r) => r !== existing);
        continue;
      }
      if (action === "CREATE" && existing) {
        messages.push(`Tried to create resource record set ${label} but it already exists`);
        continue;
      }
      const mixing = working.find(
        (r) =>
          r !== existing &&
          sameName(r.labels, record.labels) &&
          r.type === record.type &&
          (r.setIdentifier === undefined) !== (record.setIdentifier === undefined),
      );
      // RFC 1034 section 3.6.2: a CNAME stands alone at its name (Route 53's wording).
      const besideCname = working.find(
        (r) => r !== existing && sameName(r.labels, record.labels) && (r.type === "CNAME") !== (record.type === "CNAME"),
      );
      if (besideCname) {
        const [other, mine] = record.type === "CNAME" ? [besideCname.type, "CNAME"] : ["CNAME", record.type];
        messages.push(
          `RRSet of type ${mine} with DNS name ${formatName(record.labels)} is not permitted because a conflicting RRSet of type ${other} with the same DNS name already exists in zone ${zone.name}.`,
        );
        continue;
      }
      if (mixing) {
        messages.push(
          record.setIdentifier === undefined
            ? `RRSet with DNS name ${formatName(record.labels)}, type ${record.type} cannot be created as weighted sets exist with the same name and type.`
            : `RRSet with DNS name ${formatName(record.labels)}, type ${record.type}, SetIdentifier ${record.setIdentifier} cannot be created as a non-weighted set exists with the same name and type.`,
        );
        continue;
      }
      working = working.filter((r) => r !== existing);
      working.push(record);
    }
    if (messages.length > 0) throw invalidChangeBatch(messages);
    zone.records = working.sort(compareRecords);

    const id = `C${String(this.#nextChange++).padStart(12, "0")}FAKE`;
    const state: ChangeState = { id, submittedAt: new Date().toISOString(), comment, pollsLeft: this.insyncAfterPolls };
    this.#changes.set(id, state);
    return `<?xml version="1.0"?>\n<ChangeResourceRecordSetsResponse xmlns="${XMLNS}">${changeInfoXml(state, "PENDING")}</ChangeResourceRecordSetsResponse>`;
  }

  // ---- GetChange ----------------------------------------------------------------------------

  #getChange(id: string): string {
    const state = this.#changes.get(id);
    if (!state) throw new RequestError(404, "NoSuchChange", `A change with the specified change ID does not exist: ${id}`);
    let status = "INSYNC";
    if (state.pollsLeft > 0) {
      state.pollsLeft -= 1;
      status = "PENDING";
    }
    return `<?xml version="1.0"?>\n<GetChangeResponse xmlns="${XMLNS}">${changeInfoXml(state, status)}</GetChangeResponse>`;
  }
}

// ---- helpers ----------------------------------------------------------------------------------

function route(method: string, path: string): { action: Route53Action; zoneId?: string; changeId?: string } {
  if (method === "GET" && /^\/2013-04-01\/hostedzonesbyname\/?$/.test(path)) return { action: "ListHostedZonesByName" };
  const rrset = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(path);
  if (rrset) {
    const zoneId = decodeURIComponent(rrset[1]!);
    if (method === "GET") return { action: "ListResourceRecordSets", zoneId };
    if (method === "POST") return { action: "ChangeResourceRecordSets", zoneId };
  }
  const change = /^\/2013-04-01\/change\/([^/]+)\/?$/.exec(path);
  if (change && method === "GET") return { action: "GetChange", changeId: decodeURIComponent(change[1]!) };
  return { action: "Unknown" };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RequestError(413, "RequestEntityTooLarge", "Request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": randomUUID() });
  res.end(xml);
}

function clampMaxItems(raw: string | null, fallback: number, max: number): number {
  const n = raw === null ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new RequestError(400, "InvalidInput", `The input is not valid: maxitems=${raw}`);
  return Math.min(n, max);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function compareRecords(a: StoredRecordSet, b: StoredRecordSet): number {
  return compareNames(a.labels, b.labels) || cmp(a.type, b.type) || cmp(a.setIdentifier ?? "", b.setIdentifier ?? "");
}

const sameIdentity = (a: StoredRecordSet, b: StoredRecordSet): boolean =>
  sameName(a.labels, b.labels) && a.type === b.type && a.setIdentifier === b.setIdentifier;

/** What a DELETE must repeat exactly: TTL, every value, and the routing fields. */
function sameContent(live: StoredRecordSet, asked: StoredRecordSet): boolean {
  const sorted = (v: readonly string[]) => [...v].sort().join("\n");
  return (
    live.ttl === asked.ttl &&
    sorted(live.values) === sorted(asked.values) &&
    (live.multiValueAnswer ?? false) === (asked.multiValueAnswer ?? false) &&
    live.weight === asked.weight &&
    live.healthCheckId === asked.healthCheckId &&
    JSON.stringify(live.aliasTarget) === JSON.stringify(asked.aliasTarget)
  );
}

function describe(r: StoredRecordSet): string {
  const id = r.setIdentifier === undefined ? "" : `, set-identifier='${r.setIdentifier}'`;
  return `[name='${formatName(r.labels)}', type='${r.type}'${id}]`;
}

function invalidChangeBatch(messages: readonly string[]): RequestError {
  return new RequestError(400, "InvalidChangeBatch", `[${messages.join(", ")}]`, "Sender", messages);
}

function parseChange(el: XmlElement): { action: string; record: StoredRecordSet } {
  const action = childText(el, "Action") ?? "";
  if (!["CREATE", "DELETE", "UPSERT"].includes(action)) {
    throw new RequestError(400, "InvalidInput", `Invalid request: Action ${JSON.stringify(action)}`);
  }
  const rrs = child(el, "ResourceRecordSet");
  const name = childText(rrs, "Name");
  const type = childText(rrs, "Type");
  if (name === undefined || type === undefined) throw new RequestError(400, "InvalidInput", "Invalid request: Name and Type are required");
  const ttl = childText(rrs, "TTL");
  const weight = childText(rrs, "Weight");
  const setIdentifier = childText(rrs, "SetIdentifier");
  const mva = childText(rrs, "MultiValueAnswer");
  const healthCheckId = childText(rrs, "HealthCheckId");
  const alias = child(rrs, "AliasTarget");
  const record: StoredRecordSet = {
    name,
    labels: parseName(name),
    type,
    values: childrenNamed(child(rrs, "ResourceRecords"), "ResourceRecord").map((r) => childText(r, "Value") ?? ""),
    ...(ttl === undefined ? {} : { ttl: Number(ttl) }),
    ...(weight === undefined ? {} : { weight: Number(weight) }),
    ...(setIdentifier === undefined ? {} : { setIdentifier }),
    ...(mva === undefined ? {} : { multiValueAnswer: mva === "true" }),
    ...(healthCheckId === undefined ? {} : { healthCheckId }),
    ...(alias === undefined
      ? {}
      : {
          aliasTarget: {
            hostedZoneId: childText(alias, "HostedZoneId") ?? "",
            dnsName: childText(alias, "DNSName") ?? "",
            evaluateTargetHealth: childText(alias, "EvaluateTargetHealth") === "true",
          },
        }),
  };
  return { action, record };
}

function recordXml(r: StoredRecordSet): string {
  const values = r.aliasTarget
    ? `<AliasTarget>${tag("HostedZoneId", r.aliasTarget.hostedZoneId)}${tag("DNSName", r.aliasTarget.dnsName)}${tag("EvaluateTargetHealth", r.aliasTarget.evaluateTargetHealth)}</AliasTarget>`
    : `<ResourceRecords>${r.values.map((v) => `<ResourceRecord>${tag("Value", v)}</ResourceRecord>`).join("")}</ResourceRecords>`;
  return (
    `<ResourceRecordSet>${tag("Name", formatName(r.labels))}${tag("Type", r.type)}${tag("SetIdentifier", r.setIdentifier)}` +
    `${tag("Weight", r.weight)}${tag("MultiValueAnswer", r.multiValueAnswer)}${tag("TTL", r.ttl)}${values}` +
    `${tag("HealthCheckId", r.healthCheckId)}</ResourceRecordSet>`
  );
}

function changeInfoXml(state: ChangeState, status: string): string {
  return `<ChangeInfo>${tag("Id", `/change/${state.id}`)}${tag("Status", status)}${tag("SubmittedAt", state.submittedAt)}${tag("Comment", state.comment)}</ChangeInfo>`;
}
