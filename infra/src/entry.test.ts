import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryArgs } from './entry.js';

describe('entryArgs', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oncall-entry-'));
    await mkdir(join(dir, 'projector/src'), { recursive: true });
    await writeFile(join(dir, 'projector/src/main.mjs'), '');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['no ONCALL_BUILT_DIR: the source through tsx', 'projector/src/main.ts', {}, ['--import', 'tsx', 'projector/src/main.ts']],
    [
      'an empty ONCALL_BUILT_DIR: the source',
      'projector/src/main.ts',
      { ONCALL_BUILT_DIR: '' },
      ['--import', 'tsx', 'projector/src/main.ts'],
    ],
    ['a build that holds the entry: the build', 'projector/src/main.ts', 'built', ['projector/src/main.mjs']],
    ['a build without this entry: the source', 'escalator/src/main.ts', 'built', ['--import', 'tsx', 'escalator/src/main.ts']],
  ] as const)('%s', (_name, entry, env, expected) => {
    const args = entryArgs(entry, env === 'built' ? { ONCALL_BUILT_DIR: dir } : env);
    expect(args).toEqual(expected[0] === '--import' ? expected : [join(dir, expected[0])]);
  });
});
