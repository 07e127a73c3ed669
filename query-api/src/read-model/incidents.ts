import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { maybeRow, rows } from './db.js';
import type { TimelineRow } from './alerts.js';

/** Times come back as epoch ms (slonik's timestamptz parser), bigints as strings. */
const time = z.number();
const bigint = z.coerce.number();

const IncidentRow = z.object({
  incident_id: z.string(),
  service_id: z.string(),
  group_key: z.string(),
  group_labels: z.record(z.string(), z.string()).nullable(),
  first_alert_id: z.string(),
  summary: z.string().nullable(),
  opened_at: time,
  resolved_at: time.nullable(),
  alert_count: z.number(),
  last_alert_at: time.nullable(),
  updated_at: time,
  /** `opened_at` as PostgreSQL writes it (microseconds kept): the page cursor. */
  opened_key: z.string(),
});
export type IncidentRow = z.infer<typeof IncidentRow>;

/** Where the previous page ended: the last incident's sort key. */
export type IncidentCursor = { openedAt: string; incidentId: string };

export type IncidentFilter = {
  status: 'open' | 'resolved' | null;
  serviceIds: string[];
  pageSize: number;
  after: IncidentCursor | null;
};

const COLUMNS = sql.fragment`incident_id, service_id, group_key, group_labels, first_alert_id, summary, opened_at, resolved_at, alert_count,
  last_alert_at, updated_at, to_jsonb(opened_at) #>> '{}' AS opened_key`;

/**
 * One page of incidents, newest first: `opened_at` then `incident_id`, both descending (the
 * indexes' order), starting after the cursor. Up to `pageSize + 1` rows: one more than the page
 * says whether another page follows.
 */
export async function listIncidents(db: CommonQueryMethods, f: IncidentFilter): Promise<readonly IncidentRow[]> {
  const where = [sql.fragment`TRUE`];
  if (f.status === 'open') where.push(sql.fragment`resolved_at IS NULL`);
  if (f.status === 'resolved') where.push(sql.fragment`resolved_at IS NOT NULL`);
  if (f.serviceIds.length) where.push(sql.fragment`service_id = ANY(${sql.array(f.serviceIds, 'text')})`);
  if (f.after) where.push(sql.fragment`(opened_at, incident_id) < (${f.after.openedAt}::timestamptz, ${f.after.incidentId}::uuid)`);
  return rows(
    db,
    sql.type(IncidentRow)`
    SELECT ${COLUMNS} FROM incidents WHERE ${sql.join(where, sql.fragment` AND `)}
    ORDER BY opened_at DESC, incident_id DESC LIMIT ${f.pageSize + 1}`,
  );
}

export async function getIncident(db: CommonQueryMethods, incidentId: string): Promise<IncidentRow | null> {
  return maybeRow(db, sql.type(IncidentRow)`SELECT ${COLUMNS} FROM incidents WHERE incident_id = ${incidentId}`);
}

const TimelineRowSchema = z.object({
  stream: z.string(),
  seq: bigint,
  alert_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  occurred_at: time,
  actor: z.string(),
  message: z.string(),
});

/**
 * Every event of every alert of the incident across the streams, oldest first
 * (`incident_timeline`: the incident's alerts by `alert_escalations_incident`, their events by
 * the timelines' alert indexes). Live alerts only: an archived alert's events are in the archive.
 */
export async function getIncidentTimeline(db: CommonQueryMethods, incidentId: string): Promise<readonly TimelineRow[]> {
  return rows(
    db,
    sql.type(TimelineRowSchema)`
    SELECT stream, seq, alert_id, event_id, event_type, occurred_at, actor, message FROM incident_timeline
    WHERE incident_id = ${incidentId} ORDER BY occurred_at, stream_rank, seq`,
  );
}
