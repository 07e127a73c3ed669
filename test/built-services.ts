import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * The service entry points and the `oncall` command as plain JavaScript, built once per test run:
 * tests start dozens of service processes and `oncall` commands, and under tsx each start spent
 * about 0.45 s of CPU more (its loader thread sees every module) than the same code built, on 2
 * cores shared by four test files at a time. `oncall up` and bin/oncall.js run these when
 * ONCALL_BUILT_DIR names the folder (infra/src/entry.ts); without it, the sources through tsx.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the supervisor starts (infra/src/up.ts) and bin/oncall.js imports. */
const ENTRIES = [
  'infra/src/oncall.ts',
  'ingest/src/main.ts',
  'ingest/src/decider-main.ts',
  'projector/src/main.ts',
  'escalator/src/main.ts',
  'dispatcher/src/main.ts',
  'query-api/src/main.ts',
  'ticket-bridge/src/main.ts',
];

/**
 * npm packages stay imports (node_modules resolves them from the output folder, which is inside
 * node_modules); the workspace packages are bundled. So is ingest's own ajv 8 (the root holds
 * eslint's ajv 6, which the output folder would find), with what it requires; its CommonJS
 * exports also hide `Ajv` from Node's named-import detection, which tsx papers over.
 */
const packagesExternal: Plugin = {
  name: 'packages-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const bundled = args.path.startsWith('@oncall/') || /^ajv(\/|$)/.test(args.path) || args.importer.includes('/node_modules/');
      return bundled ? undefined : { external: true };
    });
  },
};

/**
 * Paths built from `import.meta.url` (migrations, the gRPC descriptor set, nats.conf, the console's
 * build) stay relative to each source file, not to the bundle.
 */
const sourceUrls: Plugin = {
  name: 'source-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes('/node_modules/')) return undefined;
      const text = await readFile(args.path, 'utf8');
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

/** Builds into a new folder under node_modules/.cache; resolves with it and a function that removes it. */
export async function buildServices(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = join(ROOT, 'node_modules', '.cache', `oncall-built-${process.pid}-${Date.now()}`);
  await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES,
    outbase: ROOT,
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [packagesExternal, sourceUrls],
    logLevel: 'warning',
    // For the CommonJS that is bundled (ajv): its require() of Node's own modules.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
