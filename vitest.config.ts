import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Real Postfix/Dovecot/BIND, as root: `npm run test:integration` (docs/integration-tests.md).
    exclude: [...configDefaults.exclude, "test/integration/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
