import pg from 'pg';
import { withSearchPath } from '@oncall/shared';
import { PROJECTION_CHANNEL } from '@oncall/contracts';

export class ProjectionTimeoutError extends Error {
  override readonly name = 'ProjectionTimeoutError';
}

/**
 * Resolves once `projection` in `schema` has applied stream sequence `seq` (read-your-writes).
 * Listens for the projector's NOTIFY before reading the checkpoint, so no commit is missed.
 */
export async function waitForProjection(
  databaseUrl: string,
  schema: string,
  projection: string,
  seq: number,
  timeoutMs = 10_000,
): Promise<void> {
  const client = new pg.Client({ connectionString: withSearchPath(databaseUrl, schema) });
  await client.connect();
  let timer: NodeJS.Timeout | undefined;
  try {
    const reached = new Promise<void>((resolve) => {
      client.on('notification', (n) => {
        const [s, name, last] = (n.payload ?? '').split(' ');
        if (s === schema && name === projection && Number(last) >= seq) resolve();
      });
    });
    await client.query(`LISTEN ${PROJECTION_CHANNEL}`);
    const row = await client.query<{ last_seq: string }>('SELECT last_seq FROM projection_checkpoints WHERE projection = $1', [projection]);
    if (Number(row.rows[0]?.last_seq ?? 0) >= seq) return;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ProjectionTimeoutError(`${projection} did not reach sequence ${seq} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    await Promise.race([reached, timeout]);
  } finally {
    clearTimeout(timer);
    await client.end();
  }
}
