/**
 * Two test projects (run both with `./profile-stream test`, what .ci/run calls):
 *   unit         pure and embedded tests beside their code (`packages/*\/src/**\/*.test.ts`, chDB in-process included):
 *                no stack, seconds; `npm run test:unit`, `npm run test:watch` while developing.
 *   integration  `test/**\/*.test.ts` and `*.int.test.ts` beside their code: the real Kafka, schema registry, Redis and
 *                ClickHouse, brought up once by test/global-setup.ts with the project's own stack scripts.
 */
import { defineConfig } from 'vitest/config';

const exclude = ['**/node_modules/**', '**/dist/**', '.data/**', '.tools/**'];

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    exclude,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/codegen/**/*.test.ts', 'services/*/src/**/*.test.ts', 'infra/src/**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'packages/*/src/**/*.int.test.ts', 'services/*/src/**/*.int.test.ts', 'infra/src/**/*.int.test.ts'],
          exclude,
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          env: { PS_TEST_RUN: '1' },
        },
      },
    ],
  },
});
