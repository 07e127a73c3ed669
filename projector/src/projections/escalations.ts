import { sql, type DatabaseTransactionConnection } from 'slonik';
import { CONSUMERS, CORRELATION_EVENT_TYPES, STREAMS, subjects, type EscalationEvent } from '@oncall/contracts';
import {
  ALERT_ESCALATION_COLUMNS,
  evolveAlertEscalation,
  INCIDENT_COLUMNS,
  incidentDelta,
  isIncidentEvent,
  mergeIncident,
  NOTIFICATION_REQUEST_COLUMNS,
  notificationRequest,
  type AlertEscalationRow,
  type IncidentRow,
  type NotificationRequestRow,
} from '../domain/escalation-rows.js';
import { columnList, excludedRow, insertTimeline, loadRows, timelineRow, type EscalationTimelineRow } from './escalation-timeline.js';
import type { Projection } from './types.js';

const ESCALATION_EVENTS = new Set<string>([
  'AlertRouted',
  'EscalationStepReached',
  'NotificationRequested',
  'EscalationStopped',
  'AlertReopenRequested',
  ...CORRELATION_EVENT_TYPES,
] satisfies Array<EscalationEvent['type']>);

/**
 * `alert_escalations` (where each alert's escalation stands), `escalation_timeline` rows and the
 * request columns of `notifications`, from the ESCALATIONS stream.
 *
 * Nothing here reads or writes `alerts`: the alerts projection follows another stream and may be
 * behind or ahead, so escalation state lives in its own table keyed by alert id (joined by the
 * view `alerts_with_escalation`), and the rows never depend on how the two interleave.
 *
 * A batch costs at most five statements: load the `alert_escalations` rows it touches, fold its
 * events into them in stream order (pure, `evolveAlertEscalation`), upsert them, insert the
 * timeline rows, upsert the notification requests, merge the incidents' deltas.
 *
 * `incidents` is the one table whose rows span alerts, and so partitions (an incident's alerts
 * share a group key, not a partition). Its rows are merges that do not depend on the order of
 * their events (`mergeIncident`): the batch folds its events into one delta per incident, and
 * the upsert merges the deltas into the stored rows the same way, without reading them. So the
 * partitions of a replay can still be loaded side by side.
 */
export const escalationsProjection: Projection = {
  name: CONSUMERS.projectorEscalations,
  stream: STREAMS.escalations,
  filterSubject: subjects.escalationsAll,
  partitionSubject: subjects.escalationsOfPartition,
  applyMany: async (tx, events) => {
    const mine = events.filter((e) => ESCALATION_EVENTS.has(e.event.type));
    if (mine.length === 0) return;
    const ids = [...new Set(mine.map((e) => (e.event as EscalationEvent).data.alertId))];
    const loaded = await loadRows<AlertEscalationRow>(
      tx,
      sql.unsafe`SELECT to_jsonb(e)::text FROM alert_escalations e WHERE alert_id = ANY(${sql.array(ids, 'uuid')})`,
    );
    const rows = new Map(loaded.map((r) => [r.alert_id, r]));
    const timeline: EscalationTimelineRow[] = [];
    const requests = new Map<string, NotificationRequestRow>();
    const incidents = new Map<string, IncidentRow>();
    for (const { event, at } of mine) {
      const e = event as EscalationEvent;
      rows.set(e.data.alertId, evolveAlertEscalation(rows.get(e.data.alertId), e, at.seq));
      timeline.push(timelineRow(STREAMS.escalations, e, at.seq));
      if (e.type === 'NotificationRequested') requests.set(e.data.notificationId, notificationRequest(e, at.seq));
      if (isIncidentEvent(e)) {
        const delta = incidentDelta(e, at.seq);
        const before = incidents.get(delta.incident_id);
        incidents.set(delta.incident_id, before ? mergeIncident(before, delta) : delta);
      }
    }

    // Sorted by key: the deliveries projection upserts notifications in the same order (no deadlock).
    const changed = ids.map((id) => rows.get(id)!).sort((a, b) => (a.alert_id < b.alert_id ? -1 : 1));
    await tx.query(sql.unsafe`
      INSERT INTO alert_escalations (${columnList(ALERT_ESCALATION_COLUMNS)})
      SELECT ${columnList(ALERT_ESCALATION_COLUMNS)} FROM jsonb_populate_recordset(NULL::alert_escalations, ${JSON.stringify(changed)}::jsonb)
      ON CONFLICT (alert_id) DO UPDATE SET (${columnList(ALERT_ESCALATION_COLUMNS)}) = ${excludedRow(ALERT_ESCALATION_COLUMNS)}`);
    await insertTimeline(tx, timeline);
    if (requests.size > 0) {
      // Only the request columns: the outcome columns belong to the deliveries projection (their
      // defaults are the state before any outcome, whichever projection inserts the row).
      const update = NOTIFICATION_REQUEST_COLUMNS.filter((c) => c !== 'notification_id' && c !== 'alert_id' && c !== 'service_id');
      const sorted = [...requests.values()].sort((a, b) => (a.notification_id < b.notification_id ? -1 : 1));
      await tx.query(sql.unsafe`
        INSERT INTO notifications (${columnList(NOTIFICATION_REQUEST_COLUMNS)})
        SELECT ${columnList(NOTIFICATION_REQUEST_COLUMNS)} FROM jsonb_populate_recordset(NULL::notifications, ${JSON.stringify(sorted)}::jsonb)
        ON CONFLICT (notification_id) DO UPDATE SET (${columnList(update)}) = ${excludedRow(update)}`);
    }
    await mergeIncidents(tx, [...incidents.values()]);
  },
};

/**
 * Merges the batch's incident deltas into `incidents` as `mergeIncident` does, in key order (the
 * partitions of a replay may upsert the same incident side by side: one order, no deadlock).
 */
async function mergeIncidents(tx: DatabaseTransactionConnection, deltas: IncidentRow[]): Promise<void> {
  if (deltas.length === 0) return;
  const sorted = deltas.sort((a, b) => (a.incident_id < b.incident_id ? -1 : 1));
  await tx.query(sql.unsafe`
    INSERT INTO incidents AS i (${columnList(INCIDENT_COLUMNS)})
    SELECT ${columnList(INCIDENT_COLUMNS)} FROM jsonb_populate_recordset(NULL::incidents, ${JSON.stringify(sorted)}::jsonb)
    ON CONFLICT (incident_id) DO UPDATE SET
      first_alert_id = CASE WHEN i.group_labels IS NULL AND excluded.group_labels IS NOT NULL THEN excluded.first_alert_id ELSE i.first_alert_id END,
      group_labels = coalesce(i.group_labels, excluded.group_labels),
      summary = coalesce(i.summary, excluded.summary),
      opened_at = least(i.opened_at, excluded.opened_at),
      resolved_at = greatest(i.resolved_at, excluded.resolved_at),
      alert_count = i.alert_count + excluded.alert_count,
      last_alert_at = greatest(i.last_alert_at, excluded.last_alert_at),
      updated_at = greatest(i.updated_at, excluded.updated_at),
      last_event_seq = greatest(i.last_event_seq, excluded.last_event_seq)`);
}
