import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { decodeEvent, STREAMS, subjects, type AlertEvent } from '@oncall/contracts';

/**
 * One alert's whole history read from the ALERTS stream itself (its subject), not from a read
 * model: what an auditor trusts. With `asOf`, only what had happened by then.
 */
export async function alertHistory(nc: NatsConnection, alertId: string, asOf?: Date): Promise<AlertEvent[]> {
  const filter = subjects.alertHistory(alertId);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(STREAMS.alerts, { subjects_filter: filter });
  if (!info.state.subjects || Object.keys(info.state.subjects).length === 0) return [];
  const consumer = await jetstream(nc).consumers.get(STREAMS.alerts, { filter_subjects: filter, deliver_policy: DeliverPolicy.All });
  const events: AlertEvent[] = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    const event = decodeEvent(m.data) as AlertEvent;
    if (asOf && Date.parse(event.occurredAt) > asOf.getTime()) break;
    events.push(event);
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return events;
}

/**
 * An archived alert's timeline rows (projector/src/archive.ts), oldest first, for when the log no
 * longer holds its events (ONCALL_LOG_RETENTION); each marked `source: "archive"`. Empty when there
 * is no archive or the alert is not in it.
 */
export async function archivedHistory(databaseUrl: string, schema: string, alertId: string, asOf?: Date): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT stream, seq, event_id, event_type, occurred_at, actor, message, data FROM "${schema}_archive".alert_timeline_all
       WHERE alert_id = $1 AND ($2::timestamptz IS NULL OR occurred_at <= $2) ORDER BY occurred_at, stream_rank, seq`,
      [alertId, asOf?.toISOString() ?? null],
    );
    return rows.map((r: Record<string, unknown>) => ({ source: 'archive', ...r }));
  } catch (err) {
    if ((err as { code?: string }).code === '42P01' || (err as { code?: string }).code === '3F000') return [];
    throw err;
  } finally {
    await client.end();
  }
}
