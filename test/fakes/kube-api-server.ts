/**
 * A fake Kubernetes API server on loopback for coordination.k8s.io/v1 Leases, enforcing what the
 * real one enforces for them: bearer-token authentication (401), GET of a missing Lease → 404,
 * POST of an existing one → 409 AlreadyExists, PUT without the current metadata.resourceVersion
 * → 409 Conflict (optimistic concurrency), a PUT whose body names another object → 400, bodies
 * that are not a Lease or whose times are not RFC 3339 micro-times → 422, Status objects as
 * error bodies. Every request is recorded with the server's receive time.
 *
 * Fault injection: `cut(client)` drops every connection of that client (open ones and new ones
 * are destroyed without an answer), as when a node loses its route to the API server;
 * `hang(client)` reads its requests and never answers (a black-holed route).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";

export interface LeaseSpecJson {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface StoredLease {
  namespace: string;
  name: string;
  resourceVersion: string;
  uid: string;
  creationTimestamp: string;
  spec: LeaseSpecJson;
}

export interface RequestRecord {
  /** performance.now() when the request arrived. */
  readonly at: number;
  /** Client name the token maps to. */
  readonly client: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The Lease's holder after a successful write. */
  readonly holder?: string;
}

export interface FakeKubeOptions {
  /** token → client name. */
  readonly tokens: Readonly<Record<string, string>>;
  /** Serve HTTPS with this key pair (in-cluster tests); plain HTTP otherwise. */
  readonly tls?: { key: string; cert: string };
}

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const BASE = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([a-z0-9-]+)\/leases(?:\/([a-z0-9.-]+))?$/;
const MAX_BODY = 64 * 1024;

export class FakeKubeApiServer {
  readonly leases = new Map<string, StoredLease>();
  readonly requests: RequestRecord[] = [];
  readonly #server: Server;
  readonly #tokens: Readonly<Record<string, string>>;
  readonly #cut = new Set<string>();
  readonly #sockets = new Map<Socket, string | undefined>();
  #rv = 100;
  #uid = 0;
  url = "";
  port = 0;

  constructor(options: FakeKubeOptions) {
    this.#tokens = options.tokens;
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    this.#server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
    this.#server.on(options.tls ? "secureConnection" : "connection", (s: Socket) => {
      this.#sockets.set(s, undefined);
      s.on("close", () => this.#sockets.delete(s));
    });
    this.#scheme = options.tls ? "https" : "http";
  }
  readonly #scheme: string;

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const a = this.#server.address();
    this.port = typeof a === "object" && a ? a.port : 0;
    this.url = `${this.#scheme}://127.0.0.1:${this.port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets.keys()) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  /** From now on, every connection of this client is dropped without an answer. */
  cut(client: string): void {
    this.#cut.add(client);
    for (const [s, c] of this.#sockets) if (c === client) s.destroy();
  }

  heal(client: string): void {
    this.#cut.delete(client);
    this.#hung.delete(client);
  }

  /** From now on, this client's requests are read but never answered (a black-holed route). */
  hang(client: string): void {
    this.#hung.add(client);
  }
  readonly #hung = new Set<string>();

  /** Another writer changed the Lease (its resourceVersion moves on). */
  touch(namespace: string, name: string): void {
    const l = this.leases.get(`${namespace}/${name}`);
    if (l) l.resourceVersion = String(++this.#rv);
  }

  /** Another writer changes the Lease right after the next GET is answered (a lost race). */
  touchAfterNextGet(namespace: string, name: string): void {
    this.#touchAfterGet.add(`${namespace}/${name}`);
  }
  readonly #touchAfterGet = new Set<string>();

  lease(namespace: string, name: string): StoredLease | undefined {
    return this.leases.get(`${namespace}/${name}`);
  }

  writes(): RequestRecord[] {
    return this.requests.filter((r) => r.method !== "GET");
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    const client = auth ? this.#tokens[auth[1]!] : undefined;
    this.#sockets.set(req.socket, client);
    if (client !== undefined && this.#cut.has(client)) {
      req.socket.destroy();
      return;
    }
    if (client !== undefined && this.#hung.has(client)) {
      req.resume();
      return;
    }
    const path = (req.url ?? "/").split("?")[0]!;
    const record = (status: number, holder?: string) =>
      this.requests.push({ at, client: client ?? "(anonymous)", method: req.method ?? "", path, status, ...(holder !== undefined ? { holder } : {}) });
    const send = (status: number, body: unknown, holder?: string) => {
      record(status, holder);
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    const fail = (status: number, reason: string, message: string) =>
      send(status, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code: status });

    if (client === undefined) return fail(401, "Unauthorized", "Unauthorized");
    const m = BASE.exec(path);
    if (!m) return fail(404, "NotFound", `the server could not find the requested resource (${path})`);
    const namespace = m[1]!;
    const name = m[2];

    let body: unknown;
    if (req.method === "POST" || req.method === "PUT") {
      let size = 0;
      const chunks: Buffer[] = [];
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > MAX_BODY) return fail(413, "RequestEntityTooLarge", "request body too large");
        chunks.push(c as Buffer);
      }
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return fail(400, "BadRequest", "body is not JSON");
      }
    }

    if (req.method === "GET" && name) {
      const l = this.leases.get(`${namespace}/${name}`);
      if (!l) return fail(404, "NotFound", `leases.coordination.k8s.io "${name}" not found`);
      send(200, this.#json(l));
      if (this.#touchAfterGet.delete(`${namespace}/${name}`)) this.touch(namespace, name);
      return;
    }
    if (req.method === "POST" && !name) {
      const problem = validLease(body);
      if (problem) return fail(422, "Invalid", problem);
      const b = body as { metadata: { name: string; namespace?: string; resourceVersion?: string }; spec?: LeaseSpecJson };
      if (b.metadata.namespace !== undefined && b.metadata.namespace !== namespace) return fail(400, "BadRequest", "the namespace of the object does not match the namespace on the request");
      if (b.metadata.resourceVersion) return fail(422, "Invalid", "metadata.resourceVersion: Invalid value: must be unspecified on create");
      const key = `${namespace}/${b.metadata.name}`;
      if (this.leases.has(key)) return fail(409, "AlreadyExists", `leases.coordination.k8s.io "${b.metadata.name}" already exists`);
      const l: StoredLease = {
        namespace,
        name: b.metadata.name,
        resourceVersion: String(++this.#rv),
        uid: `uid-${++this.#uid}`,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        spec: b.spec ?? {},
      };
      this.leases.set(key, l);
      return send(201, this.#json(l), l.spec.holderIdentity);
    }
    if (req.method === "PUT" && name) {
      const problem = validLease(body);
      if (problem) return fail(422, "Invalid", problem);
      const b = body as { metadata: { name: string; resourceVersion?: string }; spec?: LeaseSpecJson };
      if (b.metadata.name !== name) return fail(400, "BadRequest", "the name of the object does not match the name on the URL");
      const l = this.leases.get(`${namespace}/${name}`);
      if (!l) return fail(404, "NotFound", `leases.coordination.k8s.io "${name}" not found`);
      if (!b.metadata.resourceVersion) return fail(422, "Invalid", "metadata.resourceVersion: Invalid value: 0: must be specified for an update");
      if (b.metadata.resourceVersion !== l.resourceVersion) {
        return fail(409, "Conflict", `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`);
      }
      l.spec = b.spec ?? {};
      l.resourceVersion = String(++this.#rv);
      return send(200, this.#json(l), l.spec.holderIdentity);
    }
    return fail(405, "MethodNotAllowed", `${req.method} is not supported here`);
  }

  #json(l: StoredLease): object {
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: l.name, namespace: l.namespace, resourceVersion: l.resourceVersion, uid: l.uid, creationTimestamp: l.creationTimestamp },
      spec: l.spec,
    };
  }
}

function validLease(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return "body is not an object";
  const b = body as Record<string, unknown>;
  if (b.apiVersion !== "coordination.k8s.io/v1" || b.kind !== "Lease") return `apiVersion/kind must be coordination.k8s.io/v1 Lease, got ${String(b.apiVersion)} ${String(b.kind)}`;
  const meta = b.metadata as Record<string, unknown> | undefined;
  if (typeof meta?.name !== "string" || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name)) return "metadata.name: Required value or invalid";
  const spec = (b.spec ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(spec)) {
    if (!["holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime", "leaseTransitions", "preferredHolder", "strategy"].includes(k)) return `spec.${k}: unknown field`;
  }
  if (spec.holderIdentity !== undefined && typeof spec.holderIdentity !== "string") return "spec.holderIdentity: must be a string";
  for (const k of ["leaseDurationSeconds", "leaseTransitions"]) {
    const v = spec[k];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 0)) return `spec.${k}: must be a non-negative integer`;
  }
  if (spec.leaseDurationSeconds === 0) return "spec.leaseDurationSeconds: must be greater than 0";
  for (const k of ["acquireTime", "renewTime"]) {
    const v = spec[k];
    if (v !== undefined && (typeof v !== "string" || !MICRO_TIME.test(v))) return `spec.${k}: ${JSON.stringify(v)} is not an RFC 3339 micro-time`;
  }
  return undefined;
}
