#!/usr/bin/env -S node --max-semi-space-size=32
// The `oncall` command. The project runs its TypeScript sources directly through tsx; with
// ONCALL_BUILT_DIR (set by the test harness, infra/src/entry.ts) a build of them when it holds one.
// --max-semi-space-size=32: see NODE_FLAGS in bench/processes.ts (less promotion, +12–20% ingest throughput).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const built = process.env.ONCALL_BUILT_DIR ? join(process.env.ONCALL_BUILT_DIR, 'infra/src/oncall.mjs') : undefined;
if (built && existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../infra/src/oncall.ts');
}
