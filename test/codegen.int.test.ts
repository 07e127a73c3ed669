import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CONTRACTS = fileURLToPath(new URL('../contracts', import.meta.url));
const BUF = fileURLToPath(new URL('../node_modules/.bin/buf', import.meta.url));

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('generated protobuf code', () => {
  let out: string;
  afterAll(async () => out && rm(out, { recursive: true, force: true }));

  it('matches what the protos generate (run `npm run gen` after editing a .proto)', async () => {
    out = await mkdtemp(join(tmpdir(), 'oncall-gen-'));
    await promisify(execFile)(BUF, ['generate', '-o', out], { cwd: CONTRACTS });
    const committed = join(CONTRACTS, 'src', 'gen');
    const fresh = join(out, 'src', 'gen');
    expect(await files(fresh)).toEqual(await files(committed));
    for (const f of await files(fresh)) {
      expect(await readFile(join(fresh, f), 'utf8'), f).toBe(await readFile(join(committed, f), 'utf8'));
    }
  });
});
