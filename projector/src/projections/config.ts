import { sql } from 'slonik';
import { CONSUMERS, STREAMS, subjects } from '@oncall/contracts';
import { oneByOne, type Projection } from './types.js';

/** Configuration tables from the CONFIG stream. */
export const configProjection: Projection = {
  name: CONSUMERS.projectorConfig,
  stream: STREAMS.config,
  filterSubject: subjects.configAll,
  applyMany: oneByOne(async (tx, event, { seq }) => {
    switch (event.type) {
      case 'ServiceConfigured': {
        const d = event.data;
        await tx.query(sql.unsafe`
          INSERT INTO services (id, name, description, configured_at, last_event_seq)
          VALUES (${d.serviceId}, ${d.name}, ${d.description}, ${event.occurredAt}, ${seq})
          ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
            configured_at = EXCLUDED.configured_at, last_event_seq = EXCLUDED.last_event_seq`);
        await tx.query(sql.unsafe`DELETE FROM integration_keys WHERE service_id = ${d.serviceId}`);
        if (d.integrationKeys.length > 0) {
          await tx.query(sql.unsafe`
            INSERT INTO integration_keys (key_hash, service_id, name)
            SELECT * FROM ${sql.unnest(d.integrationKeys.map((k) => [k.keyHash, d.serviceId, k.name]), ['text', 'text', 'text'])}`);
        }
        break;
      }
      case 'ServiceRemoved':
        await tx.query(sql.unsafe`DELETE FROM services WHERE id = ${event.data.serviceId}`);
        break;
      case 'HeartbeatMonitorConfigured': {
        const d = event.data;
        await tx.query(sql.unsafe`
          INSERT INTO heartbeat_monitors (id, service_id, name, interval_seconds, last_event_seq)
          VALUES (${d.monitorId}, ${d.serviceId}, ${d.name}, ${d.intervalSeconds}, ${seq})
          ON CONFLICT (id) DO UPDATE SET service_id = EXCLUDED.service_id, name = EXCLUDED.name,
            interval_seconds = EXCLUDED.interval_seconds, last_event_seq = EXCLUDED.last_event_seq`);
        break;
      }
      case 'HeartbeatMonitorRemoved':
        await tx.query(sql.unsafe`DELETE FROM heartbeat_monitors WHERE id = ${event.data.monitorId}`);
        break;
      default:
        break;
    }
  }),
};
