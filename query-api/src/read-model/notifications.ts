import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { maybeRow, rows } from './db.js';
import { CONSUMERS } from '@oncall/contracts';
import { checkpoint } from './alerts.js';

/** The latest outcome of one channel, as projector-deliveries-v1 keeps it in `notifications.channels`. */
const ChannelOutcomeRow = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('delivered'),
    destination: z.string(),
    attempts: z.number(),
    at: z.string(),
    providerMessageId: z.string().nullable(),
  }),
  z.object({
    status: z.literal('failed'),
    destination: z.string(),
    attempts: z.number(),
    at: z.string(),
    reason: z.string(),
    retryable: z.boolean(),
    error: z.string(),
    fallback: z.string().nullable(),
  }),
]);
export type ChannelOutcomeRow = z.infer<typeof ChannelOutcomeRow>;

const NotificationRow = z.object({
  notification_id: z.string(),
  alert_id: z.string(),
  service_id: z.string(),
  kind: z.string().nullable(),
  recipient: z.union([
    z.object({ type: z.literal('user'), userId: z.string() }),
    z.object({ type: z.literal('slack'), channel: z.string() }),
    z.object({ type: z.literal('webhook') }),
    z.null(),
  ]),
  template_version: z.number().nullable(),
  requested_at: z.number().nullable(),
  request_seq: z.coerce.number().nullable(),
  status: z.enum(['requested', 'delivered', 'failed']),
  channels: z.record(z.string(), ChannelOutcomeRow),
  outcomes: z.number(),
  last_outcome_at: z.number().nullable(),
  delivery_seq: z.coerce.number().nullable(),
});
export type NotificationRow = z.infer<typeof NotificationRow>;

const COLUMNS = sql.fragment`notification_id, alert_id, service_id, kind, recipient, template_version, requested_at, request_seq,
  status, channels, outcomes, last_outcome_at, delivery_seq`;

export async function getNotification(pool: DatabasePool, notificationId: string): Promise<NotificationRow | null> {
  return maybeRow(pool, sql.type(NotificationRow)`SELECT ${COLUMNS} FROM notifications WHERE notification_id = ${notificationId}`);
}

/** Which notifications a delivery-status stream follows; empty = every notification. */
export type NotificationFilter = Readonly<{ notificationId: string | null; alertId: string | null }>;

/** How far the two projections that write `notifications` had got when a read was made. */
export type NotificationMark = Readonly<{ escalations: number; deliveries: number }>;

const where = (f: NotificationFilter) => {
  const parts = [sql.fragment`TRUE`];
  if (f.notificationId) parts.push(sql.fragment`n.notification_id = ${f.notificationId}`);
  if (f.alertId) parts.push(sql.fragment`n.alert_id = ${f.alertId}`);
  return sql.join(parts, sql.fragment` AND `);
};

/**
 * The notifications matching `filter` that changed after `since` (every matching one when
 * `since` is null), with the projections' checkpoints read in the same snapshot: a row the
 * projections committed up to those checkpoints is either returned now or was returned before.
 * Changes are found through the per-stream keys (`notification_deliveries.seq`, the request's and
 * the provider status reports' `escalation_timeline` rows), so following every notification never scans `notifications`.
 */
export async function notificationChanges(
  pool: DatabasePool,
  filter: NotificationFilter,
  since: NotificationMark | null,
): Promise<{ rows: readonly NotificationRow[]; mark: NotificationMark }> {
  return pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`);
    const mark = {
      escalations: await checkpoint(tx, CONSUMERS.projectorEscalations),
      deliveries: await checkpoint(tx, CONSUMERS.projectorDeliveries),
    };
    const rows = since === null ? await snapshot(tx, filter) : await changed(tx, filter, since);
    return { rows, mark };
  });
}

/** Where the two projections stand now: following from here sees every later change. */
export async function notificationMark(pool: DatabasePool): Promise<NotificationMark> {
  return pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`);
    return {
      escalations: await checkpoint(tx, CONSUMERS.projectorEscalations),
      deliveries: await checkpoint(tx, CONSUMERS.projectorDeliveries),
    };
  });
}

function snapshot(db: CommonQueryMethods, filter: NotificationFilter): Promise<readonly NotificationRow[]> {
  return rows(
    db,
    sql.type(NotificationRow)`
    SELECT ${COLUMNS} FROM notifications n WHERE ${where(filter)} ORDER BY requested_at NULLS LAST, notification_id`,
  );
}

function changed(db: CommonQueryMethods, filter: NotificationFilter, since: NotificationMark): Promise<readonly NotificationRow[]> {
  return rows(
    db,
    sql.type(NotificationRow)`
    SELECT ${COLUMNS} FROM notifications n
    WHERE ${where(filter)} AND n.notification_id IN (
      SELECT notification_id FROM notification_deliveries WHERE seq > ${since.deliveries}
      UNION
      SELECT (data->>'notificationId')::uuid FROM escalation_timeline
      WHERE stream = 'DELIVERIES' AND seq > ${since.deliveries} AND event_type = 'NotificationStatusReported'
      UNION
      SELECT (data->>'notificationId')::uuid FROM escalation_timeline
      WHERE stream = 'ESCALATIONS' AND seq > ${since.escalations} AND event_type = 'NotificationRequested')
    ORDER BY requested_at NULLS LAST, notification_id`,
  );
}
