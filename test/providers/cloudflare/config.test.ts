import { z } from "zod";
import { describe, expect, it } from "vitest";
import { cloudflareConfigSchema } from "../../../providers/cloudflare/config.js";

const ZONE_ID = "0123456789abcdef0123456789abcdef";

describe("Cloudflare config block", () => {
  it("fills in the defaults", () => {
    expect(cloudflareConfigSchema.parse({ type: "cloudflare", zoneId: ZONE_ID, apiToken: "t" })).toEqual({
      type: "cloudflare",
      zoneId: ZONE_ID,
      apiToken: "t",
      batchSize: 200,
      maxRetries: 2,
      requestsPer5Minutes: 1200,
      timeoutMs: 30_000,
    });
  });

  it("rejects unknown keys, a malformed zone id, and a batch size beyond the API's", () => {
    const issues = (v: unknown) => cloudflareConfigSchema.safeParse(v).error?.issues.map((i) => `${i.path.join(".")}: ${i.code}`);
    expect(issues({ type: "cloudflare", zoneId: ZONE_ID, zone: "x" })).toEqual([": unrecognized_keys"]);
    expect(issues({ type: "cloudflare", zoneId: "ABC" })).toEqual(["zoneId: invalid_format"]);
    expect(issues({ type: "cloudflare", zoneName: "example.com", batchSize: 5000 })).toEqual(["batchSize: too_big"]);
    expect(issues({ type: "cloudflare", zoneName: "example.com", baseUrl: "ftp://x" })).toEqual(["baseUrl: invalid_format"]);
  });

  it("describes every field in its JSON Schema", () => {
    const schema = z.toJSONSchema(cloudflareConfigSchema, { io: "input" }) as { properties: Record<string, { description?: string }>; description?: string; additionalProperties?: boolean };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.description).toBeTruthy();
    for (const [key, prop] of Object.entries(schema.properties)) expect(prop.description, key).toBeTruthy();
    expect(Object.keys(schema.properties).sort()).toEqual(
      ["apiToken", "baseUrl", "batchSize", "maxRetries", "requestsPer5Minutes", "timeoutMs", "type", "zoneId", "zoneName"],
    );
  });
});
