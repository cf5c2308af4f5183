import { createRequire } from 'node:module'
import { defineConfig } from 'vitest/config'

const require = createRequire(import.meta.url)

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS entry for yoga and Pothos (graphql 16 has no "exports"
    // map), while Vite would pick its "module" entry for our files: two graphql instances,
    // and GraphQLError instanceof checks that fail. Pin ours to the one Node loads.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['schema/**/*.test.ts', 'server/**/*.test.ts', 'controller/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    // Suites share one MariaDB and one Redis; running files one at a time keeps them from
    // stepping on each other's databases and keeps a 2-core machine responsive.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
