import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { COMPATIBILITY_DATE } from './scripts/worker/local.ts';

/** Tests of the worker's own modules that run where the worker runs: in workerd. */
const WORKERD_TESTS = 'test/**/*.workerd.test.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [WORKERD_TESTS],
          // Forks, not threads: the addon's SIMD level is process-wide state.
          pool: 'forks',
        },
      },
      {
        extends: true,
        plugins: [cloudflareTest({ miniflare: { compatibilityDate: COMPATIBILITY_DATE, compatibilityFlags: ['nodejs_compat'] } })],
        test: { name: 'workerd', include: [WORKERD_TESTS] },
      },
    ],
  },
});
