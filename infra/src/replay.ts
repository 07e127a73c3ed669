import type { NatsConnection } from '@nats-io/transport-node';
import { sql, type DatabasePool } from 'slonik';
import { PROJECTIONS, replayProjection } from '@oncall/projector';

/**
 * Empties the read-model tables of the pool's schema and applies every projection from
 * sequence 1. The live projector must be stopped while this runs (issue 4 replaces this with
 * a rebuild into a fresh schema and a switch-over).
 */
export async function replayAll(nc: NatsConnection, pool: DatabasePool, opts: { progress?: NodeJS.WriteStream } = {}): Promise<number> {
  await pool.query(sql.unsafe`TRUNCATE alert_timeline, alerts, integration_keys, services, heartbeat_monitors, heartbeat_beats, projection_checkpoints`);
  let total = 0;
  for (const projection of PROJECTIONS) {
    total += await replayProjection(nc, pool, projection, (p) => {
      opts.progress?.write(`\r${p.projection}: ${p.done}/${p.total}${p.done === p.total ? '\n' : ''}`);
    });
  }
  return total;
}
