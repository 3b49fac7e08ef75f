import { describe, expect, it } from "vitest";
import { tuneHeapGrowth } from "../../src/cli/heap-tuning.js";

describe("tuneHeapGrowth", () => {
  it("leaves a growing factor the user gave on the command line or in NODE_OPTIONS alone", () => {
    expect(tuneHeapGrowth(["--heap-growing-percent=200"], undefined)).toBe(false);
    expect(tuneHeapGrowth([], "--max-old-space-size=512 --heap_growing_percent=10")).toBe(false);
  });

  it("sets its own when none was given", () => {
    expect(tuneHeapGrowth(["--enable-source-maps"], "--max-old-space-size=512")).toBe(true);
  });
});
