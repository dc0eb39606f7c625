import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    // examples/*.test.ts: a user's tests, run with the suite
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // the database suites share servers; files run in parallel, each on its own schema/database
    fileParallelism: true
  }
})
