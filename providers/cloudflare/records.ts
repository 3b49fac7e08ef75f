/**
 * Cloudflare records ⇄ mailpool RRsets. On Cloudflare every address of a round robin is its own
 * record with its own id; the core sees one RRset per name and type. Pure functions only.
 */
import { recordComment } from "../../src/ownership.js";
import { canonicalIp, ipFamily } from "../../src/util/ip.js";
import type { RRset, RRsetChange, RRsetKey, ValueRecord } from "../types.js";
import type { BatchOps, DnsRecord, RecordWrite } from "./client.js";

/** What `read` hands the core in RRset.native, and gets back in RRsetChange.before. */
export interface CloudflareNative {
  readonly zoneId: string;
  readonly records: readonly NativeRecord[];
}

export interface NativeRecord {
  readonly id: string;
  readonly content: string;
  readonly ttl: number;
  readonly proxied: boolean;
  readonly comment: string | null;
}

export const PROXIED_DRIFT = "is proxied; Cloudflare cannot proxy SMTP/IMAP/POP3";
/** Why a proxied record that mailpool does not manage is an alarm. */
export const PROXIED_BREAKS_NAME =
  "it is proxied: Cloudflare then proxies every record at the name, and SMTP/IMAP/POP3 cannot be proxied";

const isAddressType = (t: string): t is "A" | "AAAA" => t === "A" || t === "AAAA";

/** The core's value of a record: canonical IP for A/AAAA, the unquoted text for TXT. */
export function valueOf(type: string, content: string): string {
  if (isAddressType(type)) return ipFamily(content.trim()) === 0 ? content.trim() : canonicalIp(content.trim());
  if (type === "TXT") return decodeTxtContent(content);
  return content;
}

/**
 * TXT content as the API returns it: `"one" "two"` (quoted character-strings, joined) or bare
 * text (records created without quotes).
 */
export function decodeTxtContent(content: string): string {
  const s = content.trim();
  if (!s.startsWith('"')) return content;
  let out = "";
  let i = 0;
  while (i < s.length) {
    while (i < s.length && s[i] === " ") i++;
    if (i >= s.length) break;
    if (s[i] !== '"') return content; // not a list of quoted strings after all: keep it as it is
    i++;
    let closed = false;
    while (i < s.length) {
      const c = s[i]!;
      if (c === "\\" && i + 1 < s.length) {
        const ddd = /^[0-9]{3}/.exec(s.slice(i + 1, i + 4));
        if (ddd) {
          out += String.fromCharCode(Number(ddd[0]) & 0xff);
          i += 4;
        } else {
          out += s[i + 1];
          i += 2;
        }
        continue;
      }
      i++;
      if (c === '"') {
        closed = true;
        break;
      }
      out += c;
    }
    if (!closed) return content;
  }
  return out;
}

/** TXT content to write: quoted character-strings of at most 255 bytes each. */
export function encodeTxtContent(value: string): string {
  const strings: string[] = [];
  let cur = "";
  let bytes = 0;
  for (const ch of value) {
    const n = Buffer.byteLength(ch, "utf8");
    if (bytes + n > 255) {
      strings.push(cur);
      cur = "";
      bytes = 0;
    }
    cur += ch;
    bytes += n;
  }
  strings.push(cur);
  return strings.map((s) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(" ");
}

/** A record carries the mailpool comment when its comment contains it. */
export const hasComment = (r: { comment: string | null }, comment: string): boolean =>
  r.comment !== null && r.comment.includes(comment);

export const toNative = (r: DnsRecord): NativeRecord => ({
  id: r.id,
  content: r.content,
  ttl: r.ttl,
  proxied: r.proxied,
  comment: r.comment,
});

/**
 * One logical RRset from the records at one name and type: the values (deduplicated), the lowest
 * TTL, and for A/AAAA each value's own record state (RRset.records): its TTL, and drift for what
 * mailpool would write differently (proxied, missing comment, duplicate records). The core judges
 * only the values it manages; a proxied record breaks the whole name, whoever owns it.
 */
export function toRRset(key: RRsetKey, zoneId: string, records: readonly DnsRecord[], controllerId: string): RRset {
  const native = records.map(toNative);
  const byValue = new Map<string, NativeRecord[]>();
  for (const r of native) {
    const v = valueOf(key.type, r.content);
    byValue.set(v, [...(byValue.get(v) ?? []), r]);
  }
  const values = [...byValue.keys()];
  const ttl = Math.min(...native.map((r) => r.ttl));
  const rrsetNative: CloudflareNative = { zoneId, records: native };
  if (!isAddressType(key.type)) return { name: key.name, type: key.type, ttl, values, native: rrsetNative };
  const comment = recordComment(controllerId);
  const perValue: ValueRecord[] = [];
  for (const [v, rs] of byValue) {
    const drift: string[] = [];
    if (rs.some((r) => r.proxied)) drift.push(`${v} ${PROXIED_DRIFT}`);
    for (const r of rs) {
      if (hasComment(r, comment)) continue;
      drift.push(
        r.comment === null || r.comment === ""
          ? `${v} lacks the comment "${comment}"`
          : `${v} has the comment ${JSON.stringify(r.comment)}, not "${comment}"`,
      );
    }
    if (rs.length > 1) drift.push(`${v} is in ${rs.length} records; the extra ones are deleted`);
    const ttls = new Set(rs.map((r) => r.ttl));
    if (ttls.size > 1) drift.push(`the records of ${v} disagree on TTL (${[...ttls].join(", ")} s)`);
    perValue.push({
      value: v,
      ttl: Math.min(...rs.map((r) => r.ttl)),
      drift,
      ...(rs.some((r) => r.proxied) ? { breaksName: PROXIED_BREAKS_NAME } : {}),
    });
  }
  return { name: key.name, type: key.type, ttl, values, records: perValue, native: rrsetNative };
}

/** Why the live records differ from the ones a change was planned against, or undefined. */
export function recordsMismatch(
  type: string,
  before: readonly NativeRecord[],
  live: readonly NativeRecord[],
): string | undefined {
  const liveById = new Map(live.map((r) => [r.id, r]));
  const beforeIds = new Set(before.map((r) => r.id));
  for (const b of before) {
    const l = liveById.get(b.id);
    const v = valueOf(type, b.content);
    if (!l) return `record ${b.id} (${v}) is gone`;
    if (valueOf(type, l.content) !== v) return `record ${b.id} changed from ${v} to ${valueOf(type, l.content)}`;
    if (l.ttl !== b.ttl) return `record ${b.id} (${v}) changed TTL from ${b.ttl} s to ${l.ttl} s`;
    if (l.proxied !== b.proxied) return `record ${b.id} (${v}) changed proxied from ${b.proxied} to ${l.proxied}`;
    if ((l.comment ?? "") !== (b.comment ?? "")) return `record ${b.id} (${v}) changed its comment`;
  }
  for (const l of live) {
    if (!beforeIds.has(l.id)) return `record ${l.id} (${valueOf(type, l.content)}) appeared`;
  }
  return undefined;
}

/** The records a change was planned against (none when `before` is null). */
export function nativeOf(change: RRsetChange): CloudflareNative | undefined {
  const n = change.before?.native as CloudflareNative | undefined;
  if (!n || typeof n !== "object" || !Array.isArray(n.records)) return undefined;
  return n;
}

export interface RRsetEdits {
  readonly deletes: string[];
  readonly patches: (RecordWrite & { id: string })[];
  readonly posts: (RecordWrite & { content: string })[];
}

export const editCount = (e: BatchOps | RRsetEdits): number => e.deletes.length + e.patches.length + e.posts.length;

/**
 * The fewest record operations that turn `records` into `after`: a removed value's record is
 * deleted by id, a new value posted, a kept record patched only when its TTL, proxied flag or
 * comment is wrong; records already right are not touched, and neither are the records of
 * `leaveValues` (strangers: not mailpool's).
 */
export function editsFor(
  key: RRsetKey,
  records: readonly NativeRecord[],
  after: RRsetChange["after"],
  controllerId: string,
  leaveValues: readonly string[] = [],
): RRsetEdits {
  const edits: RRsetEdits = { deletes: [], patches: [], posts: [] };
  if (after === null) {
    edits.deletes.push(...records.map((r) => r.id));
    return edits;
  }
  const comment = recordComment(controllerId);
  const address = isAddressType(key.type);
  const base = (): RecordWrite => ({
    name: key.name,
    type: key.type,
    ttl: after.ttl,
    comment,
    ...(address ? { proxied: false } : {}),
  });
  const wanted = new Set(after.values);
  const leave = new Set(leaveValues);
  const kept = new Set<string>();
  for (const r of records) {
    const v = valueOf(key.type, r.content);
    if (leave.has(v) && wanted.has(v)) {
      // Not mailpool's: its records stay exactly as they are (TTL, comment, proxied).
      kept.add(v);
      continue;
    }
    if (!wanted.has(v) || kept.has(v)) {
      edits.deletes.push(r.id);
      continue;
    }
    kept.add(v);
    const wrong = r.ttl !== after.ttl || (address && (r.proxied || !hasComment(r, comment)));
    // An operator's comment that already carries mailpool's is kept whole.
    if (wrong) edits.patches.push({ id: r.id, ...base(), ...(hasComment(r, comment) ? { comment: r.comment! } : {}) });
  }
  for (const v of after.values) {
    if (kept.has(v)) continue;
    kept.add(v);
    edits.posts.push({ ...base(), content: key.type === "TXT" ? encodeTxtContent(v) : v });
  }
  return edits;
}
