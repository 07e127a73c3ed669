import { sql } from 'slonik';
import { CONSUMERS, STREAMS, subjects, type EscalationEvent } from '@oncall/contracts';
import {
  ALERT_ESCALATION_COLUMNS,
  evolveAlertEscalation,
  NOTIFICATION_REQUEST_COLUMNS,
  notificationRequest,
  type AlertEscalationRow,
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
] satisfies Array<EscalationEvent['type']>);

/**
 * `alert_escalations` (where each alert's escalation stands), `escalation_timeline` rows and the
 * request columns of `notifications`, from the ESCALATIONS stream.
 *
 * Nothing here reads or writes `alerts`: the alerts projection follows another stream and may be
 * behind or ahead, so escalation state lives in its own table keyed by alert id (joined by the
 * view `alerts_with_escalation`), and the rows never depend on how the two interleave.
 *
 * A batch costs at most four statements: load the `alert_escalations` rows it touches, fold its
 * events into them in stream order (pure, `evolveAlertEscalation`), upsert them, insert the
 * timeline rows, upsert the notification requests.
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
    for (const { event, at } of mine) {
      const e = event as EscalationEvent;
      rows.set(e.data.alertId, evolveAlertEscalation(rows.get(e.data.alertId), e, at.seq));
      timeline.push(timelineRow(STREAMS.escalations, e, at.seq));
      if (e.type === 'NotificationRequested') requests.set(e.data.notificationId, notificationRequest(e, at.seq));
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
  },
};
