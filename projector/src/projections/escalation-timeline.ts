import { sql, type DatabaseTransactionConnection } from 'slonik';
import type { DeliveryEvent, DeliveryStatusEvent, EscalationEvent, TicketEvent } from '@oncall/contracts';
import { describeOther } from '../domain/timeline.js';

/** A row of `escalation_timeline`: one event of ESCALATIONS, DELIVERIES or TICKETS. */
export type EscalationTimelineRow = {
  stream: string;
  seq: number;
  alert_id: string;
  event_id: string;
  event_type: string;
  occurred_at: string;
  actor: string;
  message: string;
  data: unknown;
};

export function timelineRow(
  stream: string,
  event: EscalationEvent | DeliveryEvent | DeliveryStatusEvent | TicketEvent,
  seq: number,
): EscalationTimelineRow {
  const { actor, message } = describeOther(event);
  return {
    stream,
    seq,
    alert_id: event.data.alertId,
    event_id: event.id,
    event_type: event.type,
    occurred_at: event.occurredAt,
    actor,
    message,
    data: event.data,
  };
}

/** Inserts the rows in one statement. Rows are keyed by (stream, seq), so each is written once. */
export async function insertTimeline(tx: DatabaseTransactionConnection, rows: readonly EscalationTimelineRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(sql.unsafe`
    INSERT INTO escalation_timeline (stream, seq, alert_id, event_id, event_type, occurred_at, actor, message, data)
    SELECT stream, seq, alert_id, event_id, event_type, occurred_at, actor, message, data
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS t(stream text, seq int8, alert_id uuid, event_id uuid, event_type text,
      occurred_at timestamptz, actor text, message text, data jsonb)`);
}

/** `(a, b, …)` of column names. */
export const columnList = (columns: readonly string[]) =>
  sql.join(
    columns.map((c) => sql.identifier([c])),
    sql.fragment`, `,
  );

/** `ROW(EXCLUDED.a, EXCLUDED.b, …)`, for `ON CONFLICT … DO UPDATE SET (a, b, …) = …`. */
export const excludedRow = (columns: readonly string[]) =>
  sql.fragment`ROW(${sql.join(
    columns.map((c) => sql.identifier(['excluded', c])),
    sql.fragment`, `,
  )})`;

/** Rows loaded as JSON text (PostgreSQL renders times, arrays and JSON; nothing is re-typed on the way). */
export async function loadRows<T>(tx: DatabaseTransactionConnection, query: ReturnType<typeof sql.unsafe>): Promise<T[]> {
  const rows = await tx.anyFirst(query);
  return rows.map((r) => JSON.parse(String(r)) as T);
}
