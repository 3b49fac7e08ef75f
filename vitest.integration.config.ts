import { defineConfig } from "vitest/config";

// Integration tests against real Postfix, Dovecot and BIND started on loopback by the tests
// (docs/integration-tests.md). `npm run test:integration` builds first. One file at a time:
// each starts its own servers, and the machine has two cores.
export default defineConfig({
  test: {
    include: ["test/integration/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    fileParallelism: false,
    pool: "forks",
  },
});
