import { sql, type DatabaseTransactionConnection } from 'slonik';
import { CONSUMERS, STREAMS, subjects, type AlertEvent, type EventOf } from '@oncall/contracts';
import { describe } from '../domain/timeline.js';
import type { Projection } from './types.js';

const ALERT_EVENTS = new Set<string>(['AlertTriggered', 'AlertUpdated', 'AlertRepeated', 'AlertAcknowledged', 'AlertResolved']);

type Triggered = { e: EventOf<'AlertTriggered'>; seq: number };

/**
 * `alerts` (current state) and `alert_timeline` (every event) from the ALERTS stream.
 * A batch costs few statements: new alerts go in as one multi-row insert (flushed before any
 * other change so per-alert order holds), the timeline rows as one more at the end.
 */
export const alertsProjection: Projection = {
  name: CONSUMERS.projectorAlerts,
  stream: STREAMS.alerts,
  filterSubject: subjects.alertsAll,
  applyMany: async (tx, events) => {
    const triggered: Triggered[] = [];
    const timeline: Array<readonly unknown[]> = [];
    const flush = async () => {
      if (triggered.length === 0) return;
      await insertAlerts(tx, triggered);
      triggered.length = 0;
    };
    for (const { event, at } of events) {
      if (!ALERT_EVENTS.has(event.type)) continue;
      const e = event as AlertEvent;
      const { actor, message } = describe(e);
      timeline.push([at.seq, e.data.alertId, e.id, e.type, e.occurredAt, actor, message, JSON.stringify(e.data)]);
      if (e.type === 'AlertTriggered') {
        triggered.push({ e, seq: at.seq });
        continue;
      }
      await flush();
      await applyChange(tx, e, at.seq);
    }
    await flush();
    if (timeline.length > 0) {
      await tx.query(sql.unsafe`
        INSERT INTO alert_timeline (seq, alert_id, event_id, event_type, occurred_at, actor, message, data)
        SELECT * FROM ${sql.unnest(timeline, ['int8', 'uuid', 'uuid', 'text', 'timestamptz', 'text', 'text', 'jsonb'])}`);
    }
  },
};

async function insertAlerts(tx: DatabaseTransactionConnection, rows: readonly Triggered[]): Promise<void> {
  const tuples = rows.map(({ e, seq }) => {
    const d = e.data;
    return [
      d.alertId, d.serviceId, d.fingerprint, d.source, d.summary, d.details, d.severity,
      JSON.stringify(d.labels), JSON.stringify(d.annotations), JSON.stringify(d.links), JSON.stringify(d.custom),
      d.generatorUrl, d.startsAt, e.occurredAt, d.seenAt, seq,
    ];
  });
  await tx.query(sql.unsafe`
    INSERT INTO alerts (id, service_id, fingerprint, source, summary, details, severity, labels, annotations, links, custom,
      generator_url, starts_at, created_at, last_seen_at, last_event_seq, status, updated_at, repeat_count)
    SELECT u.*, 'triggered', u.created_at, 0 FROM ${sql.unnest(tuples, [
      'uuid', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'jsonb', 'jsonb', 'jsonb',
      'text', 'timestamptz', 'timestamptz', 'timestamptz', 'int8',
    ])} AS u(id, service_id, fingerprint, source, summary, details, severity, labels, annotations, links, custom,
      generator_url, starts_at, created_at, last_seen_at, last_event_seq)`);
}

async function applyChange(tx: DatabaseTransactionConnection, e: Exclude<AlertEvent, EventOf<'AlertTriggered'>>, seq: number): Promise<void> {
  const at = e.occurredAt;
  switch (e.type) {
    case 'AlertUpdated': {
      const d = e.data;
      await tx.query(sql.unsafe`
        UPDATE alerts SET summary = ${d.summary}, details = ${d.details}, severity = ${d.severity},
          labels = ${sql.jsonb(d.labels)}, annotations = ${sql.jsonb(d.annotations)}, links = ${sql.jsonb(d.links)},
          custom = ${sql.jsonb(d.custom as never)}, repeat_count = ${d.repeatCount}, last_seen_at = ${d.seenAt},
          updated_at = ${at}, last_event_seq = ${seq}
        WHERE id = ${d.alertId}`);
      return;
    }
    case 'AlertRepeated':
      await tx.query(sql.unsafe`
        UPDATE alerts SET repeat_count = ${e.data.repeatCount}, last_seen_at = ${e.data.seenAt}, links = ${sql.jsonb(e.data.links)},
          custom = ${sql.jsonb(e.data.custom as never)}, last_event_seq = ${seq}
        WHERE id = ${e.data.alertId}`);
      return;
    case 'AlertAcknowledged':
      await tx.query(sql.unsafe`
        UPDATE alerts SET status = 'acknowledged', acknowledged_at = ${at}, acknowledged_by = ${e.data.userId},
          updated_at = ${at}, last_event_seq = ${seq}
        WHERE id = ${e.data.alertId}`);
      return;
    case 'AlertResolved':
      await tx.query(sql.unsafe`
        UPDATE alerts SET status = 'resolved', resolved_at = ${at}, resolved_by = ${e.data.userId},
          updated_at = ${at}, last_event_seq = ${seq}
        WHERE id = ${e.data.alertId}`);
      return;
    default: {
      const _never: never = e;
      return _never;
    }
  }
}
