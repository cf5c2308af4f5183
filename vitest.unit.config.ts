import { defineConfig } from 'vitest/config'
import base from './vitest.config.ts'

/**
 * The unit suites: the tests that live beside the code (schema/, server/, controller/,
 * bench/), without the integration suites of test/. `npm run test:unit`; CI runs them a
 * second time on the current Node LTS (see .ci/run).
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['schema/**/*.test.ts', 'server/**/*.test.ts', 'controller/**/*.test.ts', 'bench/**/*.test.ts'],
  },
})
