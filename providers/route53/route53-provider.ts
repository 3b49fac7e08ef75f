/**
 * The Route 53 provider: reads the pools' RRsets from one hosted zone and writes each cycle's
 * changes as one ChangeResourceRecordSets batch (split only where Route 53's size limits force
 * it), every changed RRset a DELETE of exactly what was read plus a CREATE of the new value.
 * Route 53 rejects the whole batch when any DELETE no longer matches, which is the
 * compare-and-swap the core relies on: ConflictError, and the controller re-reads and re-plans.
 */
import { normalizeName, isInZone } from "../../src/util/names.js";
import { sleep as defaultSleep } from "../../src/util/rate-limiter.js";
import {
  ProviderConfigError,
  ProviderError,
  withWritten,
  type ApplyResult,
  type Provider,
  type ProviderContext,
  type RRset,
  type RRsetChange,
  type RRsetKey,
} from "../types.js";
import { ROUTE53_LIMITS, splitIntoBatches, type BatchLimits, type ChangeUnit } from "./batches.js";
import { recordStyleOf, type Route53Config } from "./config.js";
import { conflictingRecord, isAbort, toProviderError } from "./errors.js";
import { toLogicalRRset, toRoute53Changes, type RecordStyle } from "./record-sets.js";
import type { ListResourceRecordSetsRequest } from "@aws-sdk/client-route-53";
import type { ResourceRecordSet, Route53Api } from "./route53-api.js";
import { fromRoute53Name, toRoute53Name } from "./wire-format.js";
import { listWholeZone, topNames, zoneListingChoice } from "./zone-listing.js";

/** Route 53 answers at most this many multivalue answer records to one query. */
export const MULTIVALUE_ANSWER_MAX = 8;
const MAX_PAGES = 100;

export interface Route53ProviderOptions {
  readonly config: Route53Config;
  readonly ctx: ProviderContext;
  readonly api: Route53Api;
  /** Monotonic clock, ms. */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** MaxItems of ListResourceRecordSets (Route 53 allows up to 300). */
  readonly pageSize?: number;
  readonly limits?: BatchLimits;
}

interface Zone {
  readonly id: string;
  /** Known when the zone was looked up by name. */
  readonly name: string | undefined;
}

const stripPrefix = (id: string): string => id.replace(/^\/(hostedzone|change)\//, "");

export class Route53Provider implements Provider {
  readonly kind = "route53";
  readonly #config: Route53Config;
  readonly #ctx: ProviderContext;
  readonly #api: Route53Api;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #pageSize: number;
  readonly #limits: BatchLimits;
  #zone: Promise<Zone> | undefined;
  readonly #listing = zoneListingChoice();

  constructor(options: Route53ProviderOptions) {
    this.#config = options.config;
    this.#ctx = options.ctx;
    this.#api = options.api;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? defaultSleep;
    this.#pageSize = options.pageSize ?? 300;
    this.#limits = options.limits ?? ROUTE53_LIMITS;
  }

  async read(keys: readonly RRsetKey[], signal: AbortSignal): Promise<RRset[]> {
    const zone = await this.#resolveZone(signal);
    // Parents first: a listing that starts at a pool's name also passes its children, among them
    // its `_mailpool.` marker, so one request usually serves both.
    const names = [...new Set(keys.map((k) => normalizeName(k.name)))].sort((a, b) => a.split(".").length - b.split(".").length);
    let listed = new Map<string, ResourceRecordSet[]>();
    const tops = topNames(names);
    if (this.#listing.wholeZone(tops.length)) {
      // Many pools: one listing of the zone instead of one per pool (zone-listing.ts).
      const whole = await listWholeZone(this.#api, zone.id, names, this.#pageSize, signal);
      this.#listing.learned(whole.pages);
      listed = whole.sets;
    }
    for (const name of names) {
      if (listed.has(name)) continue;
      const children = names.filter((n) => n !== name && !listed.has(n) && isInZone(n, name));
      for (const [n, sets] of await this.#listName(zone, name, children, signal)) listed.set(n, sets);
    }
    const out: RRset[] = [];
    for (const name of names) {
      const sets = listed.get(name) ?? [];
      const wanted = keys.filter((k) => normalizeName(k.name) === name);
      if (wanted.some((k) => k.type !== "TXT") && sets.some((s) => s.Type === "CNAME")) {
        throw new ProviderError(
          `${name} has a CNAME record set in zone ${zone.id}, so it can hold no A or AAAA records (RFC 1034 section 3.6.2; ` +
            "Route 53 refuses them too); point the pool at the name the CNAME targets, or remove the CNAME. Nothing was written",
          { transient: false },
        );
      }
      for (const key of wanted) {
        const ofType = sets.filter((s) => s.Type === key.type);
        const rrset = toLogicalRRset({ name, type: key.type }, ofType, this.#styleOfKey(key));
        if (rrset) out.push(rrset);
      }
    }
    return out;
  }

  async apply(changes: readonly RRsetChange[], signal: AbortSignal): Promise<ApplyResult> {
    if (changes.length === 0) return { applied: 0, notes: [] };
    const zone = await this.#resolveZone(signal);
    const units: ChangeUnit<RRsetChange>[] = [];
    for (const change of changes) {
      const style = change.key.type === "TXT" ? "simple" : this.#styleOfPool(change.pool);
      if (style === "multivalue" && (change.after?.values.length ?? 0) > MULTIVALUE_ANSWER_MAX) {
        this.#ctx.logger.warn(
          { provider: this.#ctx.name, pool: change.pool, type: change.key.type, records: change.after?.values.length },
          `Route 53 answers at most ${MULTIVALUE_ANSWER_MAX} multivalue answer records per query; resolvers see a subset`,
        );
      }
      const wire = toRoute53Changes(change, style);
      if (wire.length > 0) units.push({ tag: change, changes: wire });
    }
    if (units.length === 0) return { applied: 0, notes: ["nothing to write: the live record sets already match"] };
    const batches = splitIntoBatches(units, this.#limits, (c) => `${c.key.name} ${c.key.type}`);
    const notes: string[] = [];
    const submitted: { id: string; at: number }[] = [];
    let applied = 0;
    for (const [i, batch] of batches.entries()) {
      const where = batches.length === 1 ? "" : ` batch ${i + 1}/${batches.length}`;
      const earlier = i === 0 ? "" : ` (the ${i} batch(es) before it were applied; the next cycle re-plans from what is live)`;
      const pools = [...new Set(batch.map((u) => u.tag.pool))];
      const recordChanges = batch.flatMap((u) => u.changes);
      let changeId: string;
      let status: string;
      try {
        const res = await this.#api.changeResourceRecordSets(
          {
            HostedZoneId: zone.id,
            ChangeBatch: {
              Comment: `mailpool owner=${this.#ctx.controllerId}: ${pools.join(", ")}`.slice(0, 256),
              Changes: recordChanges,
            },
          },
          signal,
        );
        changeId = stripPrefix(res.ChangeInfo?.Id ?? "unknown");
        status = res.ChangeInfo?.Status ?? "PENDING";
      } catch (e) {
        const named = conflictingRecord(e);
        const key = batch.find((u) => named && u.tag.key.type === named.type && u.tag.key.name === fromRoute53Name(named.name))?.tag.key;
        throw withWritten(toProviderError(e, `ChangeResourceRecordSets${where} in zone ${zone.id}${earlier}`, key), { applied, notes: [...notes] });
      }
      applied += batch.length;
      submitted.push({ id: changeId, at: this.#now() });
      notes.push(
        `${where === "" ? "" : `${where.trim()}: `}change ${changeId} ${status} (${batch.length} RRset change(s), ${recordChanges.length} record set change(s) in zone ${zone.id})`,
      );
    }
    if (this.#config.waitForSync.enabled) notes.push(...(await this.#waitForSync(submitted, signal)));
    return { applied, notes };
  }

  async close(): Promise<void> {
    this.#api.close();
  }

  #styleOfPool(pool: string): RecordStyle {
    return recordStyleOf(this.#ctx.pools.find((p) => p.name === pool));
  }

  #styleOfKey(key: RRsetKey): RecordStyle {
    return key.type === "TXT" ? "simple" : this.#styleOfPool(normalizeName(key.name));
  }

  /**
   * Every record set at `name` (all types), and at those of `children` (names below it) that the
   * same listing reaches: it starts at the name and pages while still at it. Route 53 lists the
   * labels reversed, so a name's own record sets come first and its children right after them;
   * the first name outside the subtree proves every child not yet seen absent. Children the
   * first page past the name did not settle are left out of the result (listed on their own).
   */
  async #listName(zone: Zone, name: string, children: readonly string[], signal: AbortSignal): Promise<Map<string, ResourceRecordSet[]>> {
    const out = new Map<string, ResourceRecordSet[]>([[name, []]]);
    const wanted = new Set(children);
    let start: Pick<ListResourceRecordSetsRequest, "StartRecordName" | "StartRecordType" | "StartRecordIdentifier"> = {
      StartRecordName: toRoute53Name(name),
    };
    for (let page = 0; page < MAX_PAGES; page++) {
      let res;
      try {
        res = await this.#api.listResourceRecordSets(
          { HostedZoneId: zone.id, MaxItems: this.#pageSize, ...start },
          signal,
        );
      } catch (e) {
        throw toProviderError(e, `ListResourceRecordSets for ${name} in zone ${zone.id}`);
      }
      for (const s of res.ResourceRecordSets ?? []) {
        const n = fromRoute53Name(s.Name ?? "");
        if (n === name) {
          out.get(name)!.push(s);
          continue;
        }
        if (!isInZone(n, name)) {
          // Past the subtree: every child not seen has no record sets.
          for (const c of wanted) if (!out.has(c)) out.set(c, []);
          return out;
        }
        if (wanted.has(n)) {
          if (!out.has(n)) out.set(n, []);
          out.get(n)!.push(s);
        }
      }
      const next = res.NextRecordName === undefined ? undefined : fromRoute53Name(res.NextRecordName);
      if (!res.IsTruncated || next === undefined) {
        for (const c of wanted) if (!out.has(c)) out.set(c, []);
        return out;
      }
      if (next !== name) {
        // Among the children now: a child seen on this page is settled unless its record sets
        // go on in the next page; the ones not seen are listed on their own.
        out.delete(next);
        return out;
      }
      start = {
        StartRecordName: res.NextRecordName,
        ...(res.NextRecordType === undefined ? {} : { StartRecordType: res.NextRecordType }),
        ...(res.NextRecordIdentifier === undefined ? {} : { StartRecordIdentifier: res.NextRecordIdentifier }),
      };
    }
    throw toProviderError(new Error(`more than ${MAX_PAGES} pages of record sets at one name`), `ListResourceRecordSets for ${name}`);
  }

  /** The hosted zone, looked up once (concurrent callers share the lookup; a failure is retried). */
  #resolveZone(signal: AbortSignal): Promise<Zone> {
    this.#zone ??= this.#lookUpZone(signal).catch((err: unknown) => {
      this.#zone = undefined;
      throw err;
    });
    return this.#zone;
  }

  async #lookUpZone(signal: AbortSignal): Promise<Zone> {
    const config = this.#config;
    if (config.hostedZoneId !== undefined) return { id: stripPrefix(config.hostedZoneId), name: undefined };
    const zoneName = normalizeName(config.zoneName ?? "");
    const matches: { id: string; privateZone: boolean }[] = [];
    let input: { DNSName: string; HostedZoneId?: string; MaxItems: number } = { DNSName: toRoute53Name(zoneName), MaxItems: 100 };
    pages: for (let page = 0; page < MAX_PAGES; page++) {
      let res;
      try {
        res = await this.#api.listHostedZonesByName(input, signal);
      } catch (e) {
        throw toProviderError(e, `ListHostedZonesByName for ${zoneName}`);
      }
      for (const z of res.HostedZones ?? []) {
        if (fromRoute53Name(z.Name ?? "") !== zoneName) break pages;
        matches.push({ id: stripPrefix(z.Id ?? ""), privateZone: z.Config?.PrivateZone ?? false });
      }
      if (!res.IsTruncated || res.NextDNSName === undefined || fromRoute53Name(res.NextDNSName) !== zoneName) break;
      input = { DNSName: res.NextDNSName, MaxItems: 100, ...(res.NextHostedZoneId === undefined ? {} : { HostedZoneId: res.NextHostedZoneId }) };
    }
    const kind = config.privateZone ? "private" : "public";
    const chosen = matches.filter((m) => m.privateZone === config.privateZone);
    const where = `providers.${this.#ctx.name}`;
    if (chosen.length === 0) {
      const others = matches.map((m) => `${m.id} (${m.privateZone ? "private" : "public"})`).join(", ");
      throw new ProviderConfigError(
        `${where}: no ${kind} hosted zone named ${zoneName}${others ? `; found ${others} — set privateZone: ${!config.privateZone}` : ""}`,
      );
    }
    if (chosen.length > 1) {
      throw new ProviderConfigError(
        `${where}: ${chosen.length} ${kind} hosted zones are named ${zoneName} (${chosen.map((m) => m.id).join(", ")}); set hostedZoneId instead of zoneName`,
      );
    }
    const outside = this.#ctx.pools.filter((p) => !isInZone(p.name, zoneName));
    if (outside.length > 0) {
      throw new ProviderConfigError(`${where}: pool(s) ${outside.map((p) => p.name).join(", ")} are not inside hosted zone ${zoneName}`);
    }
    return { id: chosen[0]!.id, name: zoneName };
  }

  async #waitForSync(submitted: readonly { id: string; at: number }[], signal: AbortSignal): Promise<string[]> {
    const { timeoutSeconds, pollSeconds } = this.#config.waitForSync;
    const start = this.#now();
    const deadline = start + timeoutSeconds * 1000;
    const notes: string[] = [];
    const seconds = (ms: number) => (ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000)));
    for (const change of submitted) {
      for (;;) {
        let status: string;
        try {
          status = (await this.#api.getChange({ Id: change.id }, signal)).ChangeInfo?.Status ?? "PENDING";
        } catch (e) {
          if (isAbort(e) || signal.aborted) throw e;
          notes.push(`change ${change.id}: GetChange failed, propagation not confirmed (${toProviderError(e, "GetChange").message})`);
          break;
        }
        const now = this.#now();
        if (status === "INSYNC") {
          notes.push(`change ${change.id} INSYNC after ${seconds(now - change.at)} s`);
          break;
        }
        if (now >= deadline) {
          notes.push(`change ${change.id} still ${status} after ${seconds(now - change.at)} s`);
          break;
        }
        await this.#sleep(Math.min(pollSeconds * 1000, deadline - now), signal);
      }
    }
    return notes;
  }
}
