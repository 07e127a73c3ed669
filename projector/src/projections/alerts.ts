import { sql, type DatabaseTransactionConnection } from 'slonik';
import { CONSUMERS, STREAMS, subjects, type DomainEvent } from '@oncall/contracts';
import { foldAlertBatch } from '../domain/alert-batch.js';
import { jsonbOrdered } from '../domain/jsonb-order.js';
import type { Applied, Prepared, Projection } from './types.js';

/**
 * `alerts` (current state) and `alert_timeline` (every event) from the ALERTS stream: the thin
 * adapter of a pure fold. `foldAlertBatch` (domain/alert-batch.ts) folds the batch in memory into
 * its timeline rows and one patch per alert; this file serializes them and runs them as at most
 * two statements, however the batch's events interleave:
 *  1. One UPDATE … FROM for the patches of alerts inserted before the batch. It comes first: an
 *     alert resolved here frees its fingerprint for a new alert of the same batch.
 *  2. One INSERT of every timeline row and, from the same parsed rows, of every alert triggered
 *     in the batch, in its state after the batch: the AlertTriggered data with its patch on top.
 *     A change that precedes the trigger of its alert in the batch (never in a valid log) goes to
 *     the UPDATE and finds no row, as it would have.
 * Rows travel as one JSON parameter per statement: PostgreSQL parses each event's data once and
 * the alert's labels and annotations are taken from it, not sent and parsed a second time.
 */
export const alertsProjection: Projection = {
  name: CONSUMERS.projectorAlerts,
  stream: STREAMS.alerts,
  filterSubject: subjects.alertsAll,
  partitionSubject: subjects.alertsOfPartition,
  applyMany: (tx, events) => prepareAlerts(events)(tx),
  prepare: (events) => prepareAlerts(events),
};

/** Folds a batch (foldAlertBatch) and builds the parameters of its (at most) two statements; no database work. */
function prepareAlerts(events: ReadonlyArray<{ event: DomainEvent; at: Applied }>): Prepared {
  const { timeline, existing } = foldAlertBatch(events);
  // Keys in jsonb order: PostgreSQL then parses the parameters without sorting them (jsonb-order.ts).
  const updates = existing.length > 0 ? JSON.stringify(jsonbOrdered(existing)) : undefined;
  const rows = timeline.length > 0 ? JSON.stringify(jsonbOrdered(timeline)) : undefined;
  return async (tx) => {
    if (updates) await updateAlerts(tx, updates);
    if (rows) await insertRows(tx, rows);
  };
}

/**
 * The timeline rows (`rows`: the TimelineRow array of domain/alert-batch.ts as JSON), and the alerts triggered in the batch: an alert's column is its patch's
 * value if a later event of the batch set it, else what AlertTriggered sets (`d` is its data).
 * The two inserts touch different tables, so running them in one statement orders nothing.
 */
async function insertRows(tx: DatabaseTransactionConnection, rows: string): Promise<void> {
  await tx.query(sql.unsafe`
    WITH t AS MATERIALIZED (SELECT e FROM jsonb_array_elements(${rows}::jsonb) AS e),
    timeline AS (
      INSERT INTO alert_timeline (seq, alert_id, event_id, event_type, occurred_at, actor, message, data)
      SELECT (e->>0)::int8, (e->>1)::uuid, (e->>2)::uuid, e->>3, (e->>4)::timestamptz, e->>5, e->>6, e->7 FROM t
    )
    INSERT INTO alerts (id, service_id, fingerprint, status, source, summary, details, severity, labels, annotations, links, custom,
      generator_url, starts_at, created_at, updated_at, acknowledged_at, acknowledged_by, first_acknowledged_at, resolved_at, resolved_by,
      snoozed_until, snoozed_by, escalated_at, escalated_by, repeat_count, last_seen_at, last_event_seq, trace_id)
    SELECT (d->>'alertId')::uuid, d->>'serviceId', d->>'fingerprint', COALESCE(p->>'status', 'triggered'), d->>'source',
      COALESCE(p->>'summary', d->>'summary'), COALESCE(p->>'details', d->>'details'), COALESCE(p->>'severity', d->>'severity'),
      COALESCE(p->'labels', d->'labels'), COALESCE(p->'annotations', d->'annotations'),
      COALESCE(p->'links', d->'links'), COALESCE(p->'custom', d->'custom'),
      d->>'generatorUrl', (d->>'startsAt')::timestamptz, (e->>4)::timestamptz, COALESCE(p->>'updated_at', e->>4)::timestamptz,
      (p->>'acknowledged_at')::timestamptz, p->>'acknowledged_by', (p->>'first_acknowledged_at')::timestamptz,
      (p->>'resolved_at')::timestamptz, p->>'resolved_by', (p->>'snoozed_until')::timestamptz, p->>'snoozed_by',
      (p->>'escalated_at')::timestamptz, p->>'escalated_by',
      COALESCE((p->>'repeat_count')::integer, 0), COALESCE(p->>'last_seen_at', d->>'seenAt')::timestamptz,
      COALESCE((p->>'last_event_seq')::int8, (e->>0)::int8), e->>9
    FROM t CROSS JOIN LATERAL (SELECT e->7 AS d, e->8 AS p) AS x
    WHERE p IS NOT NULL`);
}

/** `patches`: the AlertPatch array as JSON. */
async function updateAlerts(tx: DatabaseTransactionConnection, patches: string): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE alerts AS a SET
      summary = COALESCE(u.summary, a.summary),
      details = COALESCE(u.details, a.details),
      severity = COALESCE(u.severity, a.severity),
      labels = COALESCE(u.labels, a.labels),
      annotations = COALESCE(u.annotations, a.annotations),
      links = COALESCE(u.links, a.links),
      custom = COALESCE(u.custom, a.custom),
      repeat_count = COALESCE(u.repeat_count, a.repeat_count),
      last_seen_at = COALESCE(u.last_seen_at, a.last_seen_at),
      updated_at = COALESCE(u.updated_at, a.updated_at),
      status = COALESCE(u.status, a.status),
      acknowledged_at = COALESCE(u.acknowledged_at, a.acknowledged_at),
      acknowledged_by = CASE WHEN u.acknowledged_at IS NULL THEN a.acknowledged_by ELSE u.acknowledged_by END,
      resolved_at = COALESCE(u.resolved_at, a.resolved_at),
      first_acknowledged_at = COALESCE(a.first_acknowledged_at, u.first_acknowledged_at),
      resolved_by = CASE WHEN u.resolved_at IS NULL THEN a.resolved_by ELSE u.resolved_by END,
      snoozed_until = CASE WHEN u.snooze_set THEN u.snoozed_until ELSE a.snoozed_until END,
      snoozed_by = CASE WHEN u.snooze_set THEN u.snoozed_by ELSE a.snoozed_by END,
      escalated_at = COALESCE(u.escalated_at, a.escalated_at),
      escalated_by = CASE WHEN u.escalated_at IS NULL THEN a.escalated_by ELSE u.escalated_by END,
      last_event_seq = u.last_event_seq
    FROM jsonb_to_recordset(${patches}::jsonb) AS u(id uuid, summary text, details text, severity text,
      labels jsonb, annotations jsonb, links jsonb, custom jsonb, repeat_count integer, last_seen_at timestamptz,
      updated_at timestamptz, status text, acknowledged_at timestamptz, acknowledged_by text,
      first_acknowledged_at timestamptz, resolved_at timestamptz, resolved_by text, snooze_set boolean, snoozed_until timestamptz,
      snoozed_by text, escalated_at timestamptz, escalated_by text, last_event_seq int8)
    WHERE a.id = u.id`);
}
