import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readOrCreateActionSecret } from './action-secret.js';

describe('the action secret of oncall up', () => {
  it('is made once, owner-readable only, and read back on later starts', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'oncall-secret-')), 'data', 'action-secret');
    const first = await readOrCreateActionSecret(file);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readOrCreateActionSecret(file)).toBe(first);
    expect((await readFile(file, 'utf8')).trim()).toBe(first);
  });

  it('a file holding a short secret is an error that says what to do', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'oncall-secret-')), 'action-secret');
    await writeFile(file, 'short\n');
    await expect(readOrCreateActionSecret(file)).rejects.toThrow(/shorter than 32 characters; delete the file/);
  });
});
