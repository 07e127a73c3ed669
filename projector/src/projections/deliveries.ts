import { sql } from 'slonik';
import { CONSUMERS, STREAMS, subjects, type DeliveryEvent, type DeliveryStatusEvent } from '@oncall/contracts';
import { evolveNotificationOutcome, NOTIFICATION_OUTCOME_COLUMNS, type NotificationOutcomeRow } from '../domain/escalation-rows.js';
import { columnList, excludedRow, insertTimeline, loadRows, timelineRow } from './escalation-timeline.js';
import type { Projection } from './types.js';

const DELIVERY_EVENTS = new Set<string>(['NotificationDelivered', 'NotificationFailed', 'NotificationStatusReported'] satisfies Array<
  (DeliveryEvent | DeliveryStatusEvent)['type']
>);

/**
 * `notification_deliveries` (every outcome), `escalation_timeline` rows and the outcome columns of
 * `notifications` (status, per-channel outcome and the provider's later status report), from the
 * DELIVERIES stream.
 *
 * The request columns of a notification come from the escalations projection; the two write
 * disjoint columns, and whichever is first inserts the row, so the row is the same however they
 * interleave. A batch loads the outcome columns it touches, folds its events into them in stream
 * order (pure, `evolveNotificationOutcome`) and saves them: four statements at most.
 */
export const deliveriesProjection: Projection = {
  name: CONSUMERS.projectorDeliveries,
  stream: STREAMS.deliveries,
  filterSubject: subjects.deliveriesAll,
  partitionSubject: subjects.deliveriesOfPartition,
  applyMany: async (tx, events) => {
    const mine = events.filter((e) => DELIVERY_EVENTS.has(e.event.type));
    if (mine.length === 0) return;
    const ids = [...new Set(mine.map((e) => (e.event as DeliveryEvent | DeliveryStatusEvent).data.notificationId))];
    const loaded = await loadRows<NotificationOutcomeRow>(
      tx,
      sql.unsafe`
        SELECT jsonb_build_object(${sql.join(
          NOTIFICATION_OUTCOME_COLUMNS.map((c) => sql.fragment`${c}::text, ${sql.identifier(['n', c])}`),
          sql.fragment`, `,
        )})::text
        FROM notifications n WHERE notification_id = ANY(${sql.array(ids, 'uuid')})`,
    );
    const rows = new Map(loaded.map((r) => [r.notification_id, r]));
    const deliveries: object[] = [];
    for (const { event, at } of mine) {
      const e = event as DeliveryEvent | DeliveryStatusEvent;
      rows.set(e.data.notificationId, evolveNotificationOutcome(rows.get(e.data.notificationId), e, at.seq));
      // A provider's status report changes the notification's channel outcome; it is no delivery of its own.
      if (e.type === 'NotificationStatusReported') continue;
      const d = e.data;
      deliveries.push({
        seq: at.seq,
        event_id: e.id,
        notification_id: d.notificationId,
        alert_id: d.alertId,
        service_id: d.serviceId,
        outcome: e.type === 'NotificationDelivered' ? 'delivered' : 'failed',
        channel: d.channel,
        destination: d.destination,
        idempotency_key: d.idempotencyKey,
        attempts: d.attempts,
        occurred_at: e.occurredAt,
        ...(e.type === 'NotificationDelivered'
          ? {
              provider_message_id: e.data.providerMessageId,
              template_id: e.data.templateId,
              template_version: e.data.templateVersion,
              bundled: e.data.bundled,
            }
          : { reason: e.data.reason, retryable: e.data.retryable, error: e.data.error, fallback: e.data.fallback }),
      });
    }

    const changed = ids.map((id) => rows.get(id)!).sort((a, b) => (a.notification_id < b.notification_id ? -1 : 1));
    const update = NOTIFICATION_OUTCOME_COLUMNS.filter((c) => c !== 'notification_id' && c !== 'alert_id' && c !== 'service_id');
    await tx.query(sql.unsafe`
      INSERT INTO notifications (${columnList(NOTIFICATION_OUTCOME_COLUMNS)})
      SELECT ${columnList(NOTIFICATION_OUTCOME_COLUMNS)} FROM jsonb_populate_recordset(NULL::notifications, ${JSON.stringify(changed)}::jsonb)
      ON CONFLICT (notification_id) DO UPDATE SET (${columnList(update)}) = ${excludedRow(update)}`);
    await tx.query(sql.unsafe`
      INSERT INTO notification_deliveries (seq, event_id, notification_id, alert_id, service_id, outcome, channel, destination, idempotency_key,
        provider_message_id, attempts, template_id, template_version, bundled, reason, retryable, error, fallback, occurred_at)
      SELECT seq, event_id, notification_id, alert_id, service_id, outcome, channel, destination, idempotency_key,
        provider_message_id, attempts, template_id, template_version, bundled, reason, retryable, error, fallback, occurred_at
      FROM jsonb_populate_recordset(NULL::notification_deliveries, ${JSON.stringify(deliveries)}::jsonb)`);
    await insertTimeline(
      tx,
      mine.map(({ event, at }) => timelineRow(STREAMS.deliveries, event as DeliveryEvent | DeliveryStatusEvent, at.seq)),
    );
  },
};
