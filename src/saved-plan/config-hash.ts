/**
 * The config's identity for saved plans: sha256 of the normalized loaded config (defaults applied,
 * `${ENV}` resolved, names canonical, file paths absolute), as JSON with sorted keys, without the
 * file's own path. So a comment or a reordered key does not invalidate a plan, while any change
 * of meaning does — a pool, a safety rule, a provider block, a value from the environment.
 */
import { createHash } from "node:crypto";
import type { Config } from "../config/load.js";

export function configHash(config: Config): string {
  const { source: _source, ...meaning } = config;
  return `sha256:${createHash("sha256").update(canonicalJson(meaning)).digest("hex")}`;
}

/** JSON with object keys in sorted order (undefined members dropped, as JSON.stringify does). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? "null" : canonicalJson(x))).join(",")}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined && typeof x !== "function")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
}
