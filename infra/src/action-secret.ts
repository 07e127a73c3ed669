import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MIN_ACTION_SECRET_LENGTH } from '@oncall/shared';

/**
 * The action-link secret `oncall up` shares between the dispatcher (signs) and ingest (checks):
 * read from `file`, or made once (32 random bytes, hex) and kept there readable by the owner only,
 * so links already sent keep working across restarts.
 */
export async function readOrCreateActionSecret(file: string): Promise<string> {
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length < MIN_ACTION_SECRET_LENGTH)
      throw new Error(
        `${file}: the action secret is shorter than ${MIN_ACTION_SECRET_LENGTH} characters; delete the file to make a new one`,
      );
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('hex');
  // 'wx': two starts racing keep the first secret.
  try {
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readOrCreateActionSecret(file);
    throw err;
  }
  return secret;
}
