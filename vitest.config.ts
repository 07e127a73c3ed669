import { defineConfig } from 'vitest/config';

const exclude = ['**/node_modules/**', '.oncall-data/**'];

export default defineConfig({
  test: {
    // Integration files mostly wait on their servers (one fork used half of 2 cores): four at a time use them.
    poolOptions: { forks: { maxForks: 4, minForks: 1 }, threads: { isolate: false } },
    projects: [
      {
        // Pure tests: no servers, seconds. In worker threads that share one module graph (vitest 3 sets
        // isolation per pool, not per project: the threads pool is theirs alone); isolated, collecting
        // took 26 of their 55 s. They run beside integration files, so on 2 busy cores a property test
        // that takes 0.7 s alone took over vitest's default 5 s once (alert-bytes.test.ts in CI).
        test: { name: 'unit', include: ['**/*.test.ts'], exclude: [...exclude, '**/*.int.test.ts'], pool: 'threads', testTimeout: 30_000 },
      },
      {
        // Against a real nats-server and PostgreSQL: one PostgreSQL for the run; each file makes its own database and nats-server.
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude,
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
