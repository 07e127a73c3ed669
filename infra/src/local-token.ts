import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { apiTokenHash, apiTokenId, createApiToken, loadConfig } from '@oncall/shared';

/**
 * The local admin token of `oncall up`: the one kept in `file` while the log still holds it live
 * (not revoked, not expired), else a new one, kept there readable by the owner only.
 */
export async function localAdminToken(nc: NatsConnection, file: string, now = new Date()): Promise<string> {
  const kept = (await readFile(file, 'utf8').catch(() => '')).trim();
  const id = apiTokenId(kept);
  if (id !== null) {
    const stored = (await loadConfig(nc)).state.apiTokens.get(id);
    const live = stored && !stored.revoked && stored.tokenHash === apiTokenHash(kept);
    if (live && (stored.expiresAt === null || Date.parse(stored.expiresAt) > now.getTime())) return kept;
  }
  const { token } = await createApiToken(nc, { name: 'oncall up (local admin)', scopes: ['admin'], userId: null, expiresAt: null }, now);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}
