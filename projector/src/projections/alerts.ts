import { sql } from 'slonik';
import { CONSUMERS, STREAMS, subjects, type AlertEvent } from '@oncall/contracts';
import { describe } from '../domain/timeline.js';
import type { Projection } from './types.js';

const ALERT_EVENTS = new Set<string>(['AlertTriggered', 'AlertUpdated', 'AlertRepeated', 'AlertAcknowledged', 'AlertResolved']);

/** `alerts` (current state) and `alert_timeline` (every event) from the ALERTS stream. */
export const alertsProjection: Projection = {
  name: CONSUMERS.projectorAlerts,
  stream: STREAMS.alerts,
  filterSubject: subjects.alertsAll,
  apply: async (tx, event, { seq }) => {
    if (!ALERT_EVENTS.has(event.type)) return;
    const e = event as AlertEvent;
    const at = e.occurredAt;
    switch (e.type) {
      case 'AlertTriggered': {
        const d = e.data;
        await tx.query(sql.unsafe`
          INSERT INTO alerts (id, service_id, fingerprint, status, source, summary, details, severity, labels,
            annotations, links, custom, generator_url, starts_at, created_at, updated_at, repeat_count, last_seen_at, last_event_seq)
          VALUES (${d.alertId}, ${d.serviceId}, ${d.fingerprint}, 'triggered', ${d.source}, ${d.summary}, ${d.details},
            ${d.severity}, ${sql.jsonb(d.labels)}, ${sql.jsonb(d.annotations)}, ${sql.jsonb(d.links)}, ${sql.jsonb(d.custom as never)},
            ${d.generatorUrl}, ${d.startsAt}, ${at}, ${at}, 0, ${d.seenAt}, ${seq})`);
        break;
      }
      case 'AlertUpdated': {
        const d = e.data;
        await tx.query(sql.unsafe`
          UPDATE alerts SET summary = ${d.summary}, details = ${d.details}, severity = ${d.severity},
            labels = ${sql.jsonb(d.labels)}, annotations = ${sql.jsonb(d.annotations)}, links = ${sql.jsonb(d.links)},
            custom = ${sql.jsonb(d.custom as never)}, repeat_count = ${d.repeatCount}, last_seen_at = ${d.seenAt},
            updated_at = ${at}, last_event_seq = ${seq}
          WHERE id = ${d.alertId}`);
        break;
      }
      case 'AlertRepeated':
        await tx.query(sql.unsafe`
          UPDATE alerts SET repeat_count = ${e.data.repeatCount}, last_seen_at = ${e.data.seenAt}, links = ${sql.jsonb(e.data.links)},
            custom = ${sql.jsonb(e.data.custom as never)}, last_event_seq = ${seq}
          WHERE id = ${e.data.alertId}`);
        break;
      case 'AlertAcknowledged':
        await tx.query(sql.unsafe`
          UPDATE alerts SET status = 'acknowledged', acknowledged_at = ${at}, acknowledged_by = ${e.data.userId},
            updated_at = ${at}, last_event_seq = ${seq}
          WHERE id = ${e.data.alertId}`);
        break;
      case 'AlertResolved':
        await tx.query(sql.unsafe`
          UPDATE alerts SET status = 'resolved', resolved_at = ${at}, resolved_by = ${e.data.userId},
            updated_at = ${at}, last_event_seq = ${seq}
          WHERE id = ${e.data.alertId}`);
        break;
      default: {
        const _never: never = e;
        return _never;
      }
    }
    const { actor, message } = describe(e);
    await tx.query(sql.unsafe`
      INSERT INTO alert_timeline (seq, alert_id, event_id, event_type, occurred_at, actor, message, data)
      VALUES (${seq}, ${e.data.alertId}, ${e.id}, ${e.type}, ${at}, ${actor}, ${message}, ${sql.jsonb(e.data as never)})`);
  },
};
