/**
 * A wire-level fake of the EC2 Query API (Version 2016-11-15) on 127.0.0.1, port 0, for driving
 * the real AWS SDK client through the Elastic IP adapter. It keeps Elastic IPs, instances and
 * network interfaces in maps and enforces the rules the adapter relies on (EC2 API reference:
 * DescribeAddresses, AssociateAddress, DisassociateAddress; "Error codes for the Amazon EC2 API"):
 *  - every request must carry a SigV4 `Authorization` header (else 401 AuthFailure);
 *  - POST form-encoded `Action=…&Version=2016-11-15`, else 400 InvalidAction / MissingParameter;
 *  - DescribeAddresses by `PublicIp.N` or `AllocationId.N`: an unknown one fails the whole call
 *    (InvalidAddress.NotFound, InvalidAllocationID.NotFound);
 *  - AssociateAddress needs AllocationId (VPC) and InstanceId or NetworkInterfaceId; an address
 *    already associated is refused with Resource.AlreadyAssociated unless AllowReassociation is
 *    true; an unknown instance, interface or allocation is NotFound; an instance with several
 *    interfaces must be named by interface (InvalidInstanceID); PrivateIpAddress must belong to
 *    the interface; each association gets a new `eipassoc-` id;
 *  - DisassociateAddress by AssociationId: unknown (or already replaced) → InvalidAssociationID.NotFound;
 *  - throttling as EC2 answers it: HTTP 503 with RequestLimitExceeded.
 * Responses are the XML documents of the API reference; errors are
 * `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/";
const MAX_BODY_BYTES = 64 * 1024;

export interface FakeInterface {
  readonly id: string;
  readonly instanceId?: string;
  /** The first is the primary private address. */
  readonly privateIps: readonly string[];
}

export interface FakeAddress {
  readonly publicIp: string;
  readonly allocationId: string;
  association?: { associationId: string; networkInterfaceId: string; instanceId?: string; privateIpAddress: string };
}

export interface LoggedEc2Request {
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
  readonly accessKeyId: string | undefined;
  readonly status: number;
}

export class FakeEc2Server {
  readonly #server: Server;
  readonly addresses = new Map<string, FakeAddress>();
  readonly interfaces = new Map<string, FakeInterface>();
  readonly requests: LoggedEc2Request[] = [];
  /** The next this-many requests are throttled (503 RequestLimitExceeded). */
  throttleNext = 0;
  /** Runs before each request is carried out (a concurrent writer). */
  beforeRequest: ((action: string, params: Record<string, string>) => void) | undefined;
  /** Error messages quote the request's Authorization header (an endpoint that echoes credentials). */
  echoAuthorization = false;
  #endpoint = "";

  private constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(): Promise<FakeEc2Server> {
    const fake = new FakeEc2Server();
    await new Promise<void>((resolve) => fake.#server.listen(0, "127.0.0.1", () => resolve()));
    fake.#endpoint = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  get endpoint(): string {
    return this.#endpoint;
  }

  addInterface(i: FakeInterface): void {
    this.interfaces.set(i.id, i);
  }

  addAddress(publicIp: string, allocationId: string): FakeAddress {
    const a: FakeAddress = { publicIp, allocationId };
    this.addresses.set(allocationId, a);
    return a;
  }

  /** Associates as AssociateAddress would (for test setup and "someone else moved it"). */
  associate(allocationId: string, networkInterfaceId: string, privateIpAddress?: string): string {
    const a = this.addresses.get(allocationId)!;
    const eni = this.interfaces.get(networkInterfaceId)!;
    const associationId = `eipassoc-${randomBytes(8).toString("hex")}`;
    a.association = { associationId, networkInterfaceId, privateIpAddress: privateIpAddress ?? eni.privateIps[0]!, ...(eni.instanceId ? { instanceId: eni.instanceId } : {}) };
    return associationId;
  }

  count(action: string): number {
    return this.requests.filter((r) => r.action === action).length;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY_BYTES) return this.#error(res, 413, "RequestEntityTooLarge", "request body too large", "", {}, undefined);
      chunks.push(c as Buffer);
    }
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
    const action = params.Action ?? "";
    const auth = req.headers.authorization;
    const accessKeyId = /Credential=([^/]+)\//.exec(auth ?? "")?.[1];
    if (!auth?.startsWith("AWS4-HMAC-SHA256 ") || accessKeyId === undefined || !req.headers["x-amz-date"]) {
      return this.#error(res, 401, "AuthFailure", "AWS was not able to validate the provided access credentials", action, params, accessKeyId);
    }
    if (req.method !== "POST" || !String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      return this.#error(res, 400, "InvalidParameterValue", "expected a form-encoded POST", action, params, accessKeyId);
    }
    if (params.Version !== "2016-11-15") return this.#error(res, 400, "InvalidParameterValue", `unsupported Version ${params.Version}`, action, params, accessKeyId);
    if (this.throttleNext > 0) {
      this.throttleNext -= 1;
      return this.#error(res, 503, "RequestLimitExceeded", "Request limit exceeded.", action, params, accessKeyId);
    }
    this.beforeRequest?.(action, params);
    const echo = this.echoAuthorization ? ` (request had authorization: ${auth})` : "";
    const fail = (code: string, message: string, status = 400) => this.#error(res, status, code, `${message}${echo}`, action, params, accessKeyId);
    switch (action) {
      case "DescribeAddresses":
        return this.#describe(params, res, fail, accessKeyId);
      case "AssociateAddress":
        return this.#associate(params, res, fail, accessKeyId);
      case "DisassociateAddress":
        return this.#disassociate(params, res, fail, accessKeyId);
      default:
        return fail("InvalidAction", `The action ${action || "(none)"} is not valid for this web service.`);
    }
  }

  #describe(params: Record<string, string>, res: ServerResponse, fail: (c: string, m: string) => void, key: string | undefined): void {
    const ips = listParam(params, "PublicIp");
    const ids = listParam(params, "AllocationId");
    let picked = [...this.addresses.values()];
    if (ips.length > 0) {
      const missing = ips.find((ip) => !picked.some((a) => a.publicIp === ip));
      if (missing) return fail("InvalidAddress.NotFound", `Address '${missing}' not found.`);
      picked = picked.filter((a) => ips.includes(a.publicIp));
    }
    if (ids.length > 0) {
      const missing = ids.find((id) => !this.addresses.has(id));
      if (missing) return fail("InvalidAllocationID.NotFound", `The allocation ID '${missing}' does not exist`);
      picked = picked.filter((a) => ids.includes(a.allocationId));
    }
    const items = picked
      .map((a) => {
        const s = a.association;
        return `<item><publicIp>${a.publicIp}</publicIp><allocationId>${a.allocationId}</allocationId><domain>vpc</domain>${
          s
            ? `${s.instanceId ? `<instanceId>${s.instanceId}</instanceId>` : ""}<associationId>${s.associationId}</associationId><networkInterfaceId>${s.networkInterfaceId}</networkInterfaceId><networkInterfaceOwnerId>123456789012</networkInterfaceOwnerId><privateIpAddress>${s.privateIpAddress}</privateIpAddress>`
            : ""
        }<publicIpv4Pool>amazon</publicIpv4Pool><networkBorderGroup>eu-west-1</networkBorderGroup><tagSet/></item>`;
      })
      .join("");
    this.#ok(res, "DescribeAddresses", `<addressesSet>${items}</addressesSet>`, params, key);
  }

  #associate(params: Record<string, string>, res: ServerResponse, fail: (c: string, m: string) => void, key: string | undefined): void {
    const allocationId = params.AllocationId;
    if (!allocationId) return fail("MissingParameter", "The request must contain the parameter AllocationId (VPC addresses are associated by allocation id)");
    const address = this.addresses.get(allocationId);
    if (!address) return fail("InvalidAllocationID.NotFound", `The allocation ID '${allocationId}' does not exist`);
    let eni: FakeInterface | undefined;
    if (params.NetworkInterfaceId) {
      eni = this.interfaces.get(params.NetworkInterfaceId);
      if (!eni) return fail("InvalidNetworkInterfaceID.NotFound", `The networkInterface ID '${params.NetworkInterfaceId}' does not exist`);
    } else if (params.InstanceId) {
      const enis = [...this.interfaces.values()].filter((i) => i.instanceId === params.InstanceId);
      if (enis.length === 0) return fail("InvalidInstanceID.NotFound", `The instance ID '${params.InstanceId}' does not exist`);
      if (enis.length > 1) return fail("InvalidInstanceID", `There are multiple interfaces attached to instance '${params.InstanceId}'. Please specify an interface ID for the operation instead.`);
      eni = enis[0];
    } else return fail("MissingParameter", "Either an instance ID or a network interface ID must be specified");
    const privateIp = params.PrivateIpAddress ?? eni!.privateIps[0]!;
    if (!eni!.privateIps.includes(privateIp)) return fail("InvalidParameterValue", `The private IP address ${privateIp} is not assigned to ${eni!.id}`);
    if (address.association && params.AllowReassociation !== "true") {
      return fail("Resource.AlreadyAssociated", `resource ${allocationId} is already associated with associate-id ${address.association.associationId}`);
    }
    const associationId = this.associate(allocationId, eni!.id, privateIp);
    this.#ok(res, "AssociateAddress", `<return>true</return><associationId>${associationId}</associationId>`, params, key);
  }

  #disassociate(params: Record<string, string>, res: ServerResponse, fail: (c: string, m: string) => void, key: string | undefined): void {
    const id = params.AssociationId;
    if (!id) return fail("MissingParameter", "The request must contain the parameter AssociationId");
    const address = [...this.addresses.values()].find((a) => a.association?.associationId === id);
    if (!address) return fail("InvalidAssociationID.NotFound", `The association ID '${id}' does not exist`);
    delete address.association;
    this.#ok(res, "DisassociateAddress", "<return>true</return>", params, key);
  }

  #ok(res: ServerResponse, action: string, inner: string, params: Record<string, string>, key: string | undefined): void {
    this.requests.push({ action, params, accessKeyId: key, status: 200 });
    res.writeHead(200, { "content-type": "text/xml;charset=UTF-8" });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XMLNS}"><requestId>${randomUUID()}</requestId>${inner}</${action}Response>`);
  }

  #error(res: ServerResponse, status: number, code: string, message: string, action: string, params: Record<string, string>, key: string | undefined): void {
    this.requests.push({ action, params, accessKeyId: key, status });
    res.writeHead(status, { "content-type": "text/xml;charset=UTF-8" });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`);
  }
}

/** `Name.1`, `Name.2`, … in order. */
function listParam(params: Record<string, string>, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; params[`${name}.${i}`] !== undefined; i++) out.push(params[`${name}.${i}`]!);
  return out;
}

const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
