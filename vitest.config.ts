import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // the servers' audit lines go to their <data>/logs files (which the audit tests read), not to the test output
    env: { TRADSYS_LOG_STDERR: '0' },
    reporters: ['default'],
  },
});
