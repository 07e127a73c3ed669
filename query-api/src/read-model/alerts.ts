import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';

const AlertRow = z.object({
  id: z.string(),
  service_id: z.string(),
  fingerprint: z.string(),
  status: z.enum(['triggered', 'acknowledged', 'resolved']),
  source: z.string(),
  summary: z.string(),
  details: z.string(),
  severity: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  generator_url: z.string().nullable(),
  created_at: z.number(),
  updated_at: z.number(),
  acknowledged_at: z.number().nullable(),
  acknowledged_by: z.string().nullable(),
  resolved_at: z.number().nullable(),
  resolved_by: z.string().nullable(),
  external_ticket_id: z.string().nullable(),
  repeat_count: z.number(),
  last_event_seq: z.coerce.number(),
});
export type AlertRow = z.infer<typeof AlertRow>;

export type AlertFilter = {
  serviceIds: string[];
  statuses: AlertRow['status'][];
  severities: string[];
  labelSelector: Record<string, string>;
  createdAfter?: Date;
  createdBefore?: Date;
  limit: number;
};

const COLUMNS = sql.fragment`id, service_id, fingerprint, status, source, summary, details, severity, labels, annotations,
  generator_url, created_at, updated_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, external_ticket_id, repeat_count, last_event_seq`;

export async function getAlert(pool: DatabasePool, id: string): Promise<AlertRow | null> {
  return pool.maybeOne(sql.type(AlertRow)`SELECT ${COLUMNS} FROM alerts WHERE id = ${id}`);
}

/** Newest first; every filter is optional and they combine with AND. */
export async function listAlerts(pool: DatabasePool, f: AlertFilter): Promise<readonly AlertRow[]> {
  const where = [sql.fragment`TRUE`];
  if (f.serviceIds.length) where.push(sql.fragment`service_id = ANY(${sql.array(f.serviceIds, 'text')})`);
  if (f.statuses.length) where.push(sql.fragment`status = ANY(${sql.array(f.statuses, 'text')})`);
  if (f.severities.length) where.push(sql.fragment`severity = ANY(${sql.array(f.severities, 'text')})`);
  if (Object.keys(f.labelSelector).length) where.push(sql.fragment`labels @> ${sql.jsonb(f.labelSelector)}`);
  if (f.createdAfter) where.push(sql.fragment`created_at > ${f.createdAfter.toISOString()}`);
  if (f.createdBefore) where.push(sql.fragment`created_at < ${f.createdBefore.toISOString()}`);
  return pool.any(sql.type(AlertRow)`
    SELECT ${COLUMNS} FROM alerts WHERE ${sql.join(where, sql.fragment` AND `)}
    ORDER BY created_at DESC, id LIMIT ${f.limit}`);
}

const TimelineRow = z.object({
  seq: z.coerce.number(),
  alert_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  occurred_at: z.number(),
  actor: z.string(),
  message: z.string(),
});
export type TimelineRow = z.infer<typeof TimelineRow>;

/** Every event of one alert, oldest first. */
export async function getTimeline(pool: DatabasePool, alertId: string): Promise<readonly TimelineRow[]> {
  return pool.any(sql.type(TimelineRow)`
    SELECT seq, alert_id, event_id, event_type, occurred_at, actor, message FROM alert_timeline WHERE alert_id = ${alertId} ORDER BY seq`);
}
