/**
 * Route 53 record sets ⇄ the core's logical RRsets. Pure: no I/O.
 *
 * Two write styles per pool: `simple` (one record set holding every address) and `multivalue`
 * (one record set per address, SetIdentifier + MultiValueAnswer). The core sees one RRset per
 * name and type either way; `native` keeps the exact record sets read, so a change can DELETE
 * precisely them — Route 53 then refuses the batch if anyone changed them since (compare-and-swap).
 */
import type { RecordStyle } from "./config.js";
import { ProviderError, type RRset, type RRsetChange, type RRsetKey, type ValueRecord } from "../types.js";
import type { Change, ResourceRecordSet } from "./route53-api.js";
import { fromRecordValue, fromRoute53Name, setIdentifierFor, toRecordValue, toRoute53Name } from "./wire-format.js";

export type { RecordStyle } from "./config.js";

/** RRset.native of this provider: the record sets exactly as ListResourceRecordSets gave them. */
export interface Route53Native {
  readonly sets: readonly ResourceRecordSet[];
}

const isMultivalue = (s: ResourceRecordSet): boolean => s.SetIdentifier !== undefined && s.MultiValueAnswer === true;

/** Why mailpool must not manage these record sets, or undefined when it may. */
function unmanageable(key: RRsetKey, sets: readonly ResourceRecordSet[]): string | undefined {
  for (const s of sets) {
    if (s.AliasTarget !== undefined) return `${key.name} ${key.type} is an alias record`;
    if (s.TrafficPolicyInstanceId !== undefined) return `${key.name} ${key.type} is managed by a traffic policy`;
    if (s.SetIdentifier !== undefined && s.MultiValueAnswer !== true) {
      return `${key.name} ${key.type} uses a routing policy other than simple or multivalue answer (record set ${JSON.stringify(s.SetIdentifier)})`;
    }
  }
  return undefined;
}

/**
 * The logical RRset of `key` from the record sets listed at its name and type (undefined when
 * there are none). Throws a non-transient ProviderError for record sets mailpool must not touch
 * (alias, weighted, latency, failover, geo…): rewriting them would destroy someone's routing.
 */
export function toLogicalRRset(key: RRsetKey, sets: readonly ResourceRecordSet[], style: RecordStyle): RRset | undefined {
  if (sets.length === 0) return undefined;
  const why = unmanageable(key, sets);
  if (why !== undefined) {
    throw new ProviderError(`${why}; mailpool writes only simple or multivalue answer records — point the pool at another name or remove those records`, {
      transient: false,
    });
  }
  const values: string[] = [];
  for (const s of sets) {
    for (const r of s.ResourceRecords ?? []) {
      const v = fromRecordValue(key.type, r.Value ?? "");
      if (!values.includes(v)) values.push(v);
    }
  }
  const ttls = [...new Set(sets.map((s) => s.TTL ?? 0))].sort((a, b) => a - b);
  const drift: string[] = [];
  const multivalue = sets.filter(isMultivalue);
  if (multivalue.length > 0 && style === "simple") {
    drift.push(`${key.name} ${key.type} is ${multivalue.length} multivalue answer record set(s) but the pool's recordStyle is simple`);
  }
  if (multivalue.length === 0 && style === "multivalue") {
    drift.push(`${key.name} ${key.type} is one simple record set but the pool's recordStyle is multivalue`);
  }
  // Multivalue sets of one value each have a TTL of their own: the core judges ours only, and a
  // stranger's set keeps its TTL (RRset.records). Otherwise a TTL disagreement is drift.
  const perValue = style === "multivalue" && multivalue.length === sets.length && multivalue.every((s) => (s.ResourceRecords?.length ?? 0) === 1);
  if (ttls.length > 1 && !perValue) {
    drift.push(`the record sets of ${key.name} ${key.type} disagree on TTL (${ttls.join(", ")}); the lowest counts`);
  }
  if (style === "multivalue") {
    for (const s of multivalue) {
      const n = s.ResourceRecords?.length ?? 0;
      if (n !== 1) drift.push(`record set ${JSON.stringify(s.SetIdentifier)} of ${key.name} ${key.type} holds ${n} values; multivalue style keeps one address per record set`);
    }
  }
  const records = perValue ? valueRecords(key, sets) : undefined;
  const native: Route53Native = { sets };
  return { name: key.name, type: key.type, ttl: ttls[0] ?? 0, values, ...(drift.length > 0 ? { drift } : {}), ...(records ? { records } : {}), native };
}

/** Each value's own TTL, from multivalue sets of one value each (duplicates are drift of that value). */
function valueRecords(key: RRsetKey, sets: readonly ResourceRecordSet[]): ValueRecord[] {
  const byValue = new Map<string, number[]>();
  for (const s of sets) {
    const v = fromRecordValue(key.type, s.ResourceRecords?.[0]?.Value ?? "");
    byValue.set(v, [...(byValue.get(v) ?? []), s.TTL ?? 0]);
  }
  return [...byValue].map(([value, ttls]) => ({
    value,
    ttl: Math.min(...ttls),
    drift: ttls.length > 1 ? [`${value} is in ${ttls.length} multivalue record sets of ${key.name} ${key.type}`] : [],
  }));
}

/** The record sets a change's `before` stands for: native when this provider read it. */
export function nativeSets(before: RRset | null): ResourceRecordSet[] {
  if (before === null) return [];
  const native = before.native as Partial<Route53Native> | undefined;
  if (native && Array.isArray(native.sets)) return [...native.sets];
  // A `before` the core built itself: the simple record set it describes.
  return [
    {
      Name: toRoute53Name(before.name),
      Type: before.type,
      TTL: before.ttl,
      ResourceRecords: before.values.map((v) => ({ Value: toRecordValue(before.type, v) })),
    },
  ];
}

const del = (s: ResourceRecordSet): Change => ({ Action: "DELETE", ResourceRecordSet: s });
const create = (s: ResourceRecordSet): Change => ({ Action: "CREATE", ResourceRecordSet: s });

/**
 * The Route 53 changes that carry out one RRsetChange: DELETEs of exactly the record sets read,
 * then CREATEs of the new ones, never UPSERT. They must travel in one batch (see batches.ts).
 * Empty when the live record sets already are what `after` asks for.
 */
export function toRoute53Changes(change: RRsetChange, style: RecordStyle): Change[] {
  const { key } = change;
  const before = nativeSets(change.before);
  const after = change.after !== null && change.after.values.length > 0 ? change.after : null;
  if (after === null) return before.map(del);
  const name = toRoute53Name(key.name);
  if (style === "simple") {
    const target: ResourceRecordSet = {
      Name: name,
      Type: key.type,
      TTL: after.ttl,
      ResourceRecords: after.values.map((v) => ({ Value: toRecordValue(key.type, v) })),
    };
    if (before.length === 1 && sameSimpleSet(before[0]!, target)) return [];
    return [...before.map(del), create(target)];
  }
  const wanted = new Set(after.values);
  const leave = new Set(change.leave ?? []);
  const covered = new Set<string>();
  const keptIds = new Set<string>();
  const deletes: Change[] = [];
  const creates: Change[] = [];
  for (const s of before) {
    const values = (s.ResourceRecords ?? []).map((r) => fromRecordValue(key.type, r.Value ?? ""));
    const value = values[0];
    if (isMultivalue(s) && values.length === 1 && value !== undefined && wanted.has(value) && leave.has(value)) {
      // Not mailpool's: its record set stays exactly as it is, TTL and health check included.
      covered.add(value);
      keptIds.add(s.SetIdentifier!);
      continue;
    }
    const keepable = isMultivalue(s) && values.length === 1 && value !== undefined && wanted.has(value) && !covered.has(value);
    if (keepable && s.TTL === after.ttl) {
      // Unchanged member: not touched (its HealthCheckId and everything else stay as they are).
      covered.add(value);
      keptIds.add(s.SetIdentifier!);
      continue;
    }
    deletes.push(del(s));
    if (keepable) {
      // Only the TTL changes: the same record set, health check and all, with the new TTL.
      creates.push(create({ ...s, TTL: after.ttl }));
      covered.add(value);
      keptIds.add(s.SetIdentifier!);
    }
  }
  for (const v of after.values) {
    if (covered.has(v)) continue;
    covered.add(v);
    let id = setIdentifierFor(v);
    for (let n = 2; keptIds.has(id); n++) id = `${setIdentifierFor(v)}-${n}`;
    keptIds.add(id);
    creates.push(
      create({
        Name: name,
        Type: key.type,
        SetIdentifier: id,
        MultiValueAnswer: true,
        TTL: after.ttl,
        ResourceRecords: [{ Value: toRecordValue(key.type, v) }],
      }),
    );
  }
  return [...deletes, ...creates];
}

function sameSimpleSet(live: ResourceRecordSet, target: ResourceRecordSet): boolean {
  const values = (s: ResourceRecordSet) =>
    (s.ResourceRecords ?? []).map((r) => fromRecordValue(s.Type ?? "", r.Value ?? "")).sort().join("\n");
  return (
    live.SetIdentifier === undefined &&
    live.AliasTarget === undefined &&
    live.HealthCheckId === undefined &&
    fromRoute53Name(live.Name ?? "") === fromRoute53Name(target.Name ?? "") &&
    live.TTL === target.TTL &&
    values(live) === values(target)
  );
}
