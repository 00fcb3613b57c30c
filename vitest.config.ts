import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "scripts/**/*.test.ts", "tooling/**/*.test.ts", "tests/**/*.test.ts"],
    // Every suite talks to a real PostgreSQL server; give it room on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
