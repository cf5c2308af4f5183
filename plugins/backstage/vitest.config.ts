import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
    // One real Sentra server (and its controller) per file, started in beforeAll: files run one
    // at a time so a 2-core CI machine is not asked to boot several at once.
    fileParallelism: false,
    // Starts Sentra (server + controller) once for every file; see test/support/global-setup.ts.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
})
