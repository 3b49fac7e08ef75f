import { describe, expect, it } from "vitest";
import { z } from "zod";
import { memoryConfigSchema } from "../../../providers/memory/config.js";
import { zonefileConfigSchema } from "../../../providers/zonefile/config.js";

type Json = { description?: string; properties?: Record<string, Json>; items?: Json };

/** Paths of every property in a JSON Schema that has no description. */
function undescribed(schema: Json, path = "$"): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(schema.properties ?? {})) {
    if (!v.description) out.push(`${path}.${k}`);
    out.push(...undescribed(v, `${path}.${k}`));
  }
  if (schema.items) out.push(...undescribed(schema.items, `${path}[]`));
  return out;
}

describe("provider config schemas", () => {
  it("describe every field in the generated JSON Schema", () => {
    for (const schema of [zonefileConfigSchema, memoryConfigSchema]) {
      const json = z.toJSONSchema(schema, { io: "input" }) as Json;
      expect(json.description).toBeTruthy();
      expect(undescribed(json)).toEqual([]);
    }
  });

  it("fill in the zone-file defaults and reject unknown keys and bad values", () => {
    expect(zonefileConfigSchema.parse({ type: "zonefile", path: "/var/named/example.com.zone" })).toEqual({
      type: "zonefile",
      path: "/var/named/example.com.zone",
      reloadTimeoutMs: 10_000,
      lockTimeoutMs: 10_000,
      staleLockMs: 600_000,
    });
    const bad = zonefileConfigSchema.safeParse({ type: "zonefile", path: "x", reloadCommand: [], relaodCommand: ["rndc"] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.code, i.path.join(".")])).toEqual([
      ["too_small", "reloadCommand"],
      ["unrecognized_keys", ""],
    ]);
    expect(memoryConfigSchema.safeParse({ type: "memory", records: [{ name: "a.example.com", type: "A", ttl: 300, values: ["192.0.2.1"], x: 1 }] }).success).toBe(false);
  });
});
