import { describe, expect, it } from "vitest";
import { formatObservation } from "../../src/probes/format.js";
import type { Observation } from "../../src/probes/types.js";

describe("formatObservation", () => {
  it("renders a passed STARTTLS handshake with phases, TLS facts, capabilities and warnings", () => {
    const obs: Observation = {
      ok: true,
      reason: "ok",
      latencyMs: 23.4,
      phases: [
        { name: "connect", ms: 0.6 },
        { name: "greeting", ms: 2 },
        { name: "starttls", ms: 1.2 },
      ],
      greeting: "220-mx1.example.net ESMTP\n220 ready",
      tls: {
        protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", subject: "mx1.example.net", issuer: "Example CA",
        subjectAltNames: "DNS:mx1.example.net", validTo: "2026-03-01T00:00:00.000Z", daysLeft: 12, authorized: true,
      },
      capabilities: ["PIPELINING", "SIZE 10240000"],
      warnings: ["certificate for mx1.example.net expires in 12 days"],
    };
    expect(formatObservation(obs, "submission://mx1.example.net")).toBe(
      [
        "submission://mx1.example.net: ok",
        "  latency      23.4 ms (connect 0.6 ms, greeting 2 ms, starttls 1.2 ms)",
        "  greeting     220-mx1.example.net ESMTP",
        "               220 ready",
        "  tls          TLSv1.3 TLS_AES_256_GCM_SHA384",
        "  certificate  mx1.example.net, issued by Example CA, valid to 2026-03-01T00:00:00.000Z (12 days left)",
        "  names        DNS:mx1.example.net",
        "  verified     yes",
        "  capabilities PIPELINING, SIZE 10240000",
        "  warning      certificate for mx1.example.net expires in 12 days",
      ].join("\n"),
    );
  });

  it("renders a failure with its reason first", () => {
    const obs: Observation = {
      ok: false,
      reason: "timeout waiting for banner after 5000 ms",
      latencyMs: 5001,
      phases: [{ name: "connect", ms: 1 }, { name: "greeting", ms: 5000 }],
      warnings: [],
    };
    expect(formatObservation(obs)).toBe(
      "FAILED: timeout waiting for banner after 5000 ms\n  latency      5001 ms (connect 1 ms, greeting 5000 ms)",
    );
  });

  it("says why an unverified certificate was not trusted", () => {
    const obs: Observation = {
      ok: true, reason: "ok", latencyMs: 3, phases: [], warnings: [],
      tls: {
        protocol: "TLSv1.2", cipher: "ECDHE-ECDSA-AES128-GCM-SHA256", subject: "", issuer: "", subjectAltNames: "",
        validTo: "2026-01-01T00:00:00.000Z", daysLeft: -3, authorized: false, authorizationError: "self-signed certificate",
      },
    };
    expect(formatObservation(obs).split("\n").slice(3)).toEqual([
      "  certificate  (no CN), issued by (no CN), valid to 2026-01-01T00:00:00.000Z (expired 3 days ago)",
      "  verified     no: self-signed certificate",
    ]);
  });
});
