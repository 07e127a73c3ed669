import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The `node` arguments that run an entry point (a `.ts` path from the repository root): its
 * source through tsx; or, when ONCALL_BUILT_DIR names a folder holding it as `.mjs` (the test
 * harness builds one per run, test/built-services.ts), that plain JavaScript, which starts with
 * about half the CPU.
 */
export function entryArgs(entry: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dir = env.ONCALL_BUILT_DIR;
  if (dir) {
    const built = join(dir, entry.replace(/\.ts$/, '.mjs'));
    if (existsSync(built)) return [built];
  }
  return ['--import', 'tsx', entry];
}
