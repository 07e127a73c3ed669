import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { maybeRow, rows } from './db.js';

/** Times come back as epoch ms (slonik's timestamptz parser), bigints as strings. */
const time = z.number();
const bigint = z.coerce.number();

export const ALERT_STATUSES = ['triggered', 'acknowledged', 'snoozed', 'resolved'] as const;
export type AlertStatusWord = (typeof ALERT_STATUSES)[number];

const AlertRow = z.object({
  id: z.string(),
  service_id: z.string(),
  fingerprint: z.string(),
  status: z.enum(ALERT_STATUSES),
  source: z.string(),
  summary: z.string(),
  details: z.string(),
  /** Effective (the view applies the route's severity map); `source_severity` is the source's. */
  severity: z.string(),
  source_severity: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  generator_url: z.string().nullable(),
  created_at: time,
  updated_at: time,
  acknowledged_at: time.nullable(),
  acknowledged_by: z.string().nullable(),
  resolved_at: time.nullable(),
  resolved_by: z.string().nullable(),
  snoozed_until: time.nullable(),
  snoozed_by: z.string().nullable(),
  escalated_at: time.nullable(),
  escalated_by: z.string().nullable(),
  external_ticket_id: z.string().nullable(),
  repeat_count: z.number(),
  last_event_seq: bigint,
  // alerts_with_escalation: null until the escalator has routed the alert
  policy_id: z.string().nullable(),
  suppressed_by: z.string().nullable(),
  suppressed_until: time.nullable(),
  escalation_step: z.number().nullable(),
  escalation_round: z.number().nullable(),
  next_escalation_at: time.nullable(),
  escalation_stopped_reason: z.string().nullable(),
  ticket_key: z.string().nullable(),
  ticket_url: z.string().nullable(),
  // storm sense (alerts_with_escalation): null until the escalator decided
  site: z.string().nullable(),
  group_key: z.string().nullable(),
  incident_id: z.string().nullable(),
  inhibited: z.boolean().nullable(),
  inhibited_by: z.string().nullable(),
  inhibited_rule: z.string().nullable(),
  flapping: z.string().nullable(),
  tier: z.string().nullable(),
  sla_deadline: time.nullable(),
  sla_breached_at: time.nullable(),
});
export type AlertRow = z.infer<typeof AlertRow>;

/** A listed alert also carries its sort key: `created_at` as PostgreSQL writes it (microseconds kept), the page cursor. */
const AlertListRow = AlertRow.extend({ created_key: z.string() });
export type AlertListRow = z.infer<typeof AlertListRow>;

/** What ListAlerts filters on; every part is optional and they combine with AND. */
export type AlertQuery = {
  serviceIds: string[];
  statuses: AlertStatusWord[];
  severities: string[];
  labelSelector: Record<string, string>;
  createdAfter?: Date;
  createdBefore?: Date;
  updatedAfter?: Date;
  updatedBefore?: Date;
};

/** Where a page ended: the last alert's sort key (`created_at` as PostgreSQL writes it, microseconds kept, and its id). */
export type AlertCursor = { createdAt: string; id: string };

const COLUMNS = sql.fragment`id, service_id, fingerprint, status, source, summary, details, severity, source_severity, labels, annotations,
  generator_url, created_at, updated_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, snoozed_until, snoozed_by,
  escalated_at, escalated_by, external_ticket_id, repeat_count, last_event_seq, policy_id, suppressed_by, suppressed_until,
  escalation_step, escalation_round, next_escalation_at, escalation_stopped_reason, ticket_key, ticket_url, site, group_key, incident_id,
  inhibited, inhibited_by, inhibited_rule, flapping, tier, sla_deadline, sla_breached_at`;

/** Alerts of one incident (the first, then the others as they joined); live alerts only. */
export async function incidentAlerts(db: CommonQueryMethods, incidentId: string): Promise<readonly AlertRow[]> {
  return rows(
    db,
    sql.type(AlertRow)`SELECT ${COLUMNS} FROM alerts_with_escalation WHERE incident_id = ${incidentId} ORDER BY created_at, id`,
  );
}

/** One alert with its escalation state and first ticket; an archived one from the archive. */
export async function getAlert(db: CommonQueryMethods, id: string): Promise<AlertRow | null> {
  const live = await maybeRow(db, sql.type(AlertRow)`SELECT ${COLUMNS} FROM alerts_with_escalation WHERE id = ${id}`);
  if (live) return live;
  return inArchive(db, null, (archive) =>
    maybeRow(db, sql.type(AlertRow)`SELECT ${COLUMNS} FROM ${sql.identifier([archive, 'alerts_with_escalation'])} WHERE id = ${id}`),
  );
}

/**
 * A query of the archive schema (`<schema>_archive`, projector/src/archive.ts); `none` when it does
 * not exist yet (nothing archived).
 */
async function inArchive<T>(db: CommonQueryMethods, none: T, query: (archive: string) => Promise<T>): Promise<T> {
  const archive = await db.oneFirst(sql.type(z.object({ a: z.string() }))`SELECT current_schema() || '_archive' AS a`);
  try {
    return await query(archive);
  } catch (err) {
    if (isUndefinedTable(err)) return none;
    throw err;
  }
}

const isUndefinedTable = (err: unknown): boolean => {
  for (let e: unknown = err; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '42P01') return true;
  }
  return false;
};

/**
 * Up to `limit` alerts after the cursor, newest first: `created_at` then `id`, both descending
 * (the order of the index alerts_created_id, so a page reads `limit` index entries, not the
 * table). Keyset, not OFFSET: a page costs the same wherever it starts, and alerts that arrive
 * meanwhile (newer, so before the cursor) neither shift nor repeat the pages after it.
 */
export async function alertsAfter(
  db: CommonQueryMethods,
  q: AlertQuery,
  after: AlertCursor | null,
  limit: number,
): Promise<readonly AlertListRow[]> {
  const where = [sql.fragment`TRUE`];
  if (q.serviceIds.length) where.push(sql.fragment`service_id = ANY(${sql.array(q.serviceIds, 'text')})`);
  if (q.statuses.length) where.push(sql.fragment`status = ANY(${sql.array(q.statuses, 'text')})`);
  if (q.severities.length) where.push(sql.fragment`severity = ANY(${sql.array(q.severities, 'text')})`);
  if (Object.keys(q.labelSelector).length) where.push(sql.fragment`labels @> ${sql.jsonb(q.labelSelector)}`);
  if (q.createdAfter) where.push(sql.fragment`created_at > ${q.createdAfter.toISOString()}::timestamptz`);
  if (q.createdBefore) where.push(sql.fragment`created_at < ${q.createdBefore.toISOString()}::timestamptz`);
  if (q.updatedAfter) where.push(sql.fragment`updated_at > ${q.updatedAfter.toISOString()}::timestamptz`);
  if (q.updatedBefore) where.push(sql.fragment`updated_at < ${q.updatedBefore.toISOString()}::timestamptz`);
  if (after) where.push(sql.fragment`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`);
  const found = await db.any(
    sql.type(AlertListRow)`
    SELECT ${COLUMNS}, to_jsonb(created_at) #>> '{}' AS created_key FROM alerts_with_escalation
    WHERE ${sql.join(where, sql.fragment` AND `)} ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
  );
  // The schema checks the first row: every row of a query has its shape, and checking each row of
  // a 100k-alert stream cost 13% of query-api's CPU (bench:query). The others get the one
  // conversion the schema makes (int8 arrives as a bigint), in place: they are this query's own.
  return found.map((r, i) => {
    if (i === 0) return AlertListRow.parse(r);
    (r as { last_event_seq: number }).last_event_seq = Number(r.last_event_seq);
    return r;
  });
}

const TimelineRow = z.object({
  stream: z.string(),
  seq: bigint,
  alert_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  occurred_at: time,
  actor: z.string(),
  message: z.string(),
});
export type TimelineRow = z.infer<typeof TimelineRow>;

/** Every event of one alert across ALERTS, ESCALATIONS, DELIVERIES and TICKETS, oldest first. */
export async function getTimeline(pool: DatabasePool, alertId: string): Promise<readonly TimelineRow[]> {
  const live = await rows(
    pool,
    sql.type(TimelineRow)`
    SELECT stream, seq, alert_id, event_id, event_type, occurred_at, actor, message FROM alert_timeline_all
    WHERE alert_id = ${alertId} ORDER BY occurred_at, stream_rank, seq`,
  );
  // An archived alert's rows are in the archive, and rows of its late events (a delivery after the move) live.
  const archived = await inArchive(pool, [], (archive) =>
    rows(
      pool,
      sql.type(TimelineRow)`
      SELECT stream, seq, alert_id, event_id, event_type, occurred_at, actor, message FROM ${sql.identifier([archive, 'alert_timeline_all'])}
      WHERE alert_id = ${alertId} ORDER BY occurred_at, stream_rank, seq`,
    ),
  );
  return archived.length === 0 ? live : [...archived, ...live];
}

/** The last stream sequence a projection has applied (0 before its first batch). */
export async function checkpoint(db: CommonQueryMethods, projection: string): Promise<number> {
  const row = await maybeRow(
    db,
    sql.type(z.object({ last_seq: bigint }))`SELECT last_seq FROM projection_checkpoints WHERE projection = ${projection}`,
  );
  return row?.last_seq ?? 0;
}
