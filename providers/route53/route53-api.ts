/**
 * The narrow client seam: the four Route 53 calls mailpool makes, nothing else. Production wraps
 * the AWS SDK client (sdk-route53-api.ts, loaded lazily); tests drive that same SDK client against
 * a wire-level fake server. Only types are imported here, so this file loads no SDK code.
 */
import type {
  ChangeResourceRecordSetsRequest,
  ChangeResourceRecordSetsResponse,
  GetChangeRequest,
  GetChangeResponse,
  ListHostedZonesByNameRequest,
  ListHostedZonesByNameResponse,
  ListResourceRecordSetsRequest,
  ListResourceRecordSetsResponse,
  ResourceRecordSet,
  Change,
} from "@aws-sdk/client-route-53";

export type { ResourceRecordSet, Change };

export interface Route53Api {
  listHostedZonesByName(input: ListHostedZonesByNameRequest, signal: AbortSignal): Promise<ListHostedZonesByNameResponse>;
  listResourceRecordSets(input: ListResourceRecordSetsRequest, signal: AbortSignal): Promise<ListResourceRecordSetsResponse>;
  changeResourceRecordSets(
    input: ChangeResourceRecordSetsRequest,
    signal: AbortSignal,
  ): Promise<ChangeResourceRecordSetsResponse>;
  getChange(input: GetChangeRequest, signal: AbortSignal): Promise<GetChangeResponse>;
  /** Releases the HTTP agent's sockets. */
  close(): void;
}
