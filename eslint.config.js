// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Dependencies point one way (docs/architecture.md): contracts ← shared ← services; a service
 * imports no other service (infra, which starts them all, may), and nothing imports infra except
 * the benches and tests.
 */
const SERVICES = ['ingest', 'projector', 'escalator', 'dispatcher', 'query-api', 'ticket-bridge'];
const boundaries = [
  { files: ['contracts/src/**/*.ts'], banned: ['@oncall/*'] },
  { files: ['shared/src/**/*.ts'], banned: ['@oncall/*', '!@oncall/contracts', '!@oncall/shared', '!@oncall/shared/*'] },
  ...SERVICES.map((service) => ({
    files: [`${service}/src/**/*.ts`],
    banned: ['@oncall/infra', '@oncall/infra/*', ...SERVICES.filter((s) => s !== service).map((s) => `@oncall/${s}`)],
  })),
];
const DOMAIN_BANNED = ['node:*', '@nats-io/*', 'pg', 'slonik', 'liquidjs', 'fastify'];

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'console/dist/**', 'contracts/src/gen/**', '.oncall-data/**', 'coverage/**', 'bin/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Async signatures are kept where an interface expects a promise.
      '@typescript-eslint/require-await': 'off',
    },
  },
  ...boundaries.map(({ files, banned }) => ({
    files,
    rules: { 'no-restricted-imports': ['error', { patterns: banned }] },
  })),
  {
    // The contracts barrel loads neither gRPC nor a NATS client (types only); gRPC is @oncall/contracts/grpc.
    files: ['contracts/src/**/*.ts'],
    ignores: ['contracts/src/grpc.ts', 'contracts/src/gen/**', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['@grpc/*', '@nats-io/*'], allowTypeImports: true, message: 'contracts import only types of gRPC and NATS' }],
        },
      ],
    },
  },
  {
    files: ['*/src/domain/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      // The one-way rule above still holds here: a later rule replaces an earlier one, so both lists.
      'no-restricted-imports': [
        'error',
        { patterns: [...DOMAIN_BANNED, '@oncall/infra', '@oncall/infra/*', ...SERVICES.map((s) => `@oncall/${s}`)] },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'domain code takes now as data' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'domain code takes now as data' },
        { selector: "CallExpression[callee.name='setTimeout']", message: 'no timers in domain code' },
      ],
    },
  },
  {
    // The browser app: only the console API's types (import type) cross into it.
    files: ['console/src/**/*.{ts,tsx}'],
    // (A negated glob cannot re-include a path below '@oncall/*', so a regex; the typescript-eslint
    // rule refuses a value import of console-api, which would bundle zod into the page.)
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@oncall/contracts/console-api',
              allowTypeImports: true,
              message: 'the console imports only types from @oncall/contracts/console-api (import type)',
            },
          ],
          patterns: [
            {
              regex: '^(@oncall/(?!contracts/console-api$)|node:)',
              message: 'the console imports only @oncall/contracts/console-api (types)',
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
