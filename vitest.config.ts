import { defineConfig } from 'vitest/config';

const exclude = ['**/node_modules/**', '.oncall-data/**'];

export default defineConfig({
  test: {
    projects: [
      {
        // Pure tests: no servers, seconds.
        test: { name: 'unit', include: ['**/*.test.ts'], exclude: [...exclude, '**/*.int.test.ts'] },
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
