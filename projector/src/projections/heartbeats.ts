import { sql } from 'slonik';
import { CONSUMERS, STREAMS, subjects } from '@oncall/contracts';
import { oneByOne, type Projection } from './types.js';

/** The last beat of every heartbeat monitor, from the HEARTBEATS stream. */
export const heartbeatsProjection: Projection = {
  name: CONSUMERS.projectorHeartbeats,
  stream: STREAMS.heartbeats,
  filterSubject: subjects.heartbeatsAll,
  applyMany: oneByOne(async (tx, event, { seq }) => {
    if (event.type !== 'HeartbeatReceived') return;
    await tx.query(sql.unsafe`
      INSERT INTO heartbeat_beats (monitor_id, last_beat_at, last_event_seq)
      VALUES (${event.data.monitorId}, ${event.data.receivedAt}, ${seq})
      ON CONFLICT (monitor_id) DO UPDATE SET last_beat_at = EXCLUDED.last_beat_at, last_event_seq = EXCLUDED.last_event_seq`);
  }),
};
