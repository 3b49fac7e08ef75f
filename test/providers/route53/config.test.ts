import { describe, expect, it } from "vitest";
import { z } from "zod";
import { route53ConfigSchema } from "../../../providers/route53/config.js";

describe("route53ConfigSchema", () => {
  it("fills in the defaults", () => {
    expect(route53ConfigSchema.parse({ type: "route53", zoneName: "example.com" })).toEqual({
      type: "route53",
      zoneName: "example.com",
      privateZone: false,
      region: "us-east-1",
      maxAttempts: 3,
      requestsPerSecond: 5,
      waitForSync: { enabled: false, timeoutSeconds: 60, pollSeconds: 2 },
    });
  });

  it("fills in waitForSync defaults inside a partial block", () => {
    const parsed = route53ConfigSchema.parse({ type: "route53", hostedZoneId: "Z1", waitForSync: { enabled: true } });
    expect(parsed.waitForSync).toEqual({ enabled: true, timeoutSeconds: 60, pollSeconds: 2 });
  });

  it("wants exactly one of hostedZoneId and zoneName", () => {
    const neither = route53ConfigSchema.safeParse({ type: "route53" });
    expect(neither.success).toBe(false);
    expect(neither.error?.issues[0]?.message).toBe("give either hostedZoneId or zoneName");
    const both = route53ConfigSchema.safeParse({ type: "route53", hostedZoneId: "Z1", zoneName: "example.com" });
    expect(both.success).toBe(false);
    expect(both.error?.issues[0]?.message).toMatch(/not both/);
  });

  it("rejects unknown keys, also inside waitForSync", () => {
    expect(route53ConfigSchema.safeParse({ type: "route53", hostedZoneId: "Z1", zoneId: "Z1" }).success).toBe(false);
    expect(route53ConfigSchema.safeParse({ type: "route53", hostedZoneId: "Z1", waitForSync: { timeout: 3 } }).success).toBe(false);
  });

  it("rejects a malformed endpoint, zone id and attempts", () => {
    expect(route53ConfigSchema.safeParse({ type: "route53", hostedZoneId: "Z1", endpoint: "not a url" }).success).toBe(false);
    expect(route53ConfigSchema.safeParse({ type: "route53", hostedZoneId: "Z 1" }).success).toBe(false);
    expect(route53ConfigSchema.safeParse({ type: "route53", hostedZoneId: "Z1", maxAttempts: 0 }).success).toBe(false);
    expect(route53ConfigSchema.safeParse({ type: "route53", hostedZoneId: "/hostedzone/Z1" }).success).toBe(true);
  });

  it("describes every field in its JSON Schema", () => {
    const schema = z.toJSONSchema(route53ConfigSchema, { io: "input" }) as {
      description?: string;
      properties: Record<string, { description?: string; properties?: Record<string, { description?: string }> }>;
    };
    expect(schema.description).toBeTruthy();
    const missing: string[] = [];
    for (const [key, prop] of Object.entries(schema.properties)) {
      if (!prop.description) missing.push(key);
      for (const [inner, p] of Object.entries(prop.properties ?? {})) if (!p.description) missing.push(`${key}.${inner}`);
    }
    expect(missing).toEqual([]);
    expect(Object.keys(schema.properties).sort()).toEqual(
      ["endpoint", "hostedZoneId", "maxAttempts", "privateZone", "region", "requestsPerSecond", "type", "waitForSync", "zoneName"],
    );
  });
});
