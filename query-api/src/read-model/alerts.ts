import type pg from 'pg';
import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { maybeRow, rows } from './db.js';
import { timestampMs } from './pg-text.js';

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

/** The columns of an AlertRow, in the order alertFromText reads them. */
const COLUMN_LIST = `id, service_id, fingerprint, status, source, summary, details, severity, source_severity, labels, annotations,
  generator_url, created_at, updated_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, snoozed_until, snoozed_by,
  escalated_at, escalated_by, external_ticket_id, repeat_count, last_event_seq, policy_id, suppressed_by, suppressed_until,
  escalation_step, escalation_round, next_escalation_at, escalation_stopped_reason, ticket_key, ticket_url, site, group_key, incident_id,
  inhibited, inhibited_by, inhibited_rule, flapping, tier, sla_deadline, sla_breached_at`;
const COLUMNS = sql.join(
  COLUMN_LIST.split(/,\s*/).map((c) => sql.identifier([c])),
  sql.fragment`, `,
);

/** Alerts of one incident (the first, then the others as they joined); live alerts only. */
export async function incidentAlerts(db: CommonQueryMethods, incidentId: string): Promise<readonly AlertRow[]> {
  return rows(
    db,
    sql.type(AlertRow)`SELECT ${COLUMNS} FROM alerts_with_escalation WHERE incident_id = ${incidentId} ORDER BY created_at, id`,
  );
}

/**
 * One alert: an AlertRow and `traceId`, the trace that triggered it (docs/observability.md#tracing;
 * null when tracing was off). Not on the gRPC Alert: the console links to the trace with it.
 */
const AlertDetailRow = AlertRow.extend({ traceId: z.string().nullable() });
export type AlertDetailRow = z.infer<typeof AlertDetailRow>;

/** One alert with its escalation state, first ticket and trace id; an archived one from the archive. */
export async function getAlert(db: CommonQueryMethods, id: string): Promise<AlertDetailRow | null> {
  // The trace id is read from the table itself (a primary key lookup), so the view stays as it is.
  const live = await maybeRow(
    db,
    sql.type(AlertDetailRow)`SELECT ${COLUMNS}, (SELECT trace_id FROM alerts t WHERE t.id = v.id) AS "traceId"
      FROM alerts_with_escalation v WHERE id = ${id}`,
  );
  if (live) return live;
  return inArchive(db, null, (archive) =>
    maybeRow(
      db,
      sql.type(
        AlertDetailRow,
      )`SELECT ${COLUMNS}, (SELECT trace_id FROM ${sql.identifier([archive, 'alerts'])} t WHERE t.id = v.id) AS "traceId"
        FROM ${sql.identifier([archive, 'alerts_with_escalation'])} v WHERE id = ${id}`,
    ),
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
 *
 * Read through plain pg, rows as arrays of PostgreSQL's text (`listPool`), converted by
 * alertFromText: slonik's row objects and type parsers were ~half of query-api's CPU per alert of
 * a long stream (bench:query).
 */
export async function alertsAfter(db: ListPool, q: AlertQuery, after: AlertCursor | null, limit: number): Promise<readonly AlertListRow[]> {
  const values: unknown[] = [];
  const param = (value: unknown): string => `$${values.push(value)}`;
  const where = ['TRUE'];
  if (q.serviceIds.length) where.push(`service_id = ANY(${param(q.serviceIds)}::text[])`);
  if (q.statuses.length) where.push(`status = ANY(${param(q.statuses)}::text[])`);
  if (q.severities.length) where.push(`severity = ANY(${param(q.severities)}::text[])`);
  if (Object.keys(q.labelSelector).length) where.push(`labels @> ${param(JSON.stringify(q.labelSelector))}::jsonb`);
  if (q.createdAfter) where.push(`created_at > ${param(q.createdAfter.toISOString())}::timestamptz`);
  if (q.createdBefore) where.push(`created_at < ${param(q.createdBefore.toISOString())}::timestamptz`);
  if (q.updatedAfter) where.push(`updated_at > ${param(q.updatedAfter.toISOString())}::timestamptz`);
  if (q.updatedBefore) where.push(`updated_at < ${param(q.updatedBefore.toISOString())}::timestamptz`);
  if (after) where.push(`(created_at, id) < (${param(after.createdAt)}::timestamptz, ${param(after.id)}::uuid)`);
  const { rows: found } = await db.query<Array<string | null>>({
    text: `SELECT ${COLUMN_LIST}, to_jsonb(created_at) #>> '{}' AS created_key FROM alerts_with_escalation
      WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${param(limit)}`,
    values,
    rowMode: 'array',
    types: AS_TEXT,
  });
  // The schema checks the first row: every row of a query has its shape.
  return found.map((r, i) => (i === 0 ? AlertListRow.parse(alertFromText(r)) : alertFromText(r)));
}

/** A pg pool for queries with rows as arrays of text: ListAlerts's stream (`alertsAfter`). */
export type ListPool = Pick<pg.Pool, 'query'>;

/** Every value as PostgreSQL's text: alertFromText converts what it needs. */
const AS_TEXT = { getTypeParser: () => (text: string) => text } as unknown as pg.CustomTypesConfig;

/** A timestamptz as slonik's parser reads it (epoch ms). */
const ms = (text: string | null): number | null => (text === null ? null : timestampMs(text));

/** A row of `COLUMN_LIST, created_key` in PostgreSQL's text as the AlertListRow slonik and zod would make of it. */
export function alertFromText(v: ReadonlyArray<string | null>): AlertListRow {
  return {
    id: v[0]!,
    service_id: v[1]!,
    fingerprint: v[2]!,
    status: v[3] as AlertStatusWord,
    source: v[4]!,
    summary: v[5]!,
    details: v[6]!,
    severity: v[7]!,
    source_severity: v[8]!,
    labels: JSON.parse(v[9]!) as Record<string, string>,
    annotations: JSON.parse(v[10]!) as Record<string, string>,
    generator_url: v[11] ?? null,
    created_at: ms(v[12]!)!,
    updated_at: ms(v[13]!)!,
    acknowledged_at: ms(v[14] ?? null),
    acknowledged_by: v[15] ?? null,
    resolved_at: ms(v[16] ?? null),
    resolved_by: v[17] ?? null,
    snoozed_until: ms(v[18] ?? null),
    snoozed_by: v[19] ?? null,
    escalated_at: ms(v[20] ?? null),
    escalated_by: v[21] ?? null,
    external_ticket_id: v[22] ?? null,
    repeat_count: Number(v[23]),
    last_event_seq: Number(v[24]),
    policy_id: v[25] ?? null,
    suppressed_by: v[26] ?? null,
    suppressed_until: ms(v[27] ?? null),
    escalation_step: v[28] === null ? null : Number(v[28]),
    escalation_round: v[29] === null ? null : Number(v[29]),
    next_escalation_at: ms(v[30] ?? null),
    escalation_stopped_reason: v[31] ?? null,
    ticket_key: v[32] ?? null,
    ticket_url: v[33] ?? null,
    site: v[34] ?? null,
    group_key: v[35] ?? null,
    incident_id: v[36] ?? null,
    inhibited: v[37] === null ? null : v[37] === 't',
    inhibited_by: v[38] ?? null,
    inhibited_rule: v[39] ?? null,
    flapping: v[40] ?? null,
    tier: v[41] ?? null,
    sla_deadline: ms(v[42] ?? null),
    sla_breached_at: ms(v[43] ?? null),
    created_key: v[44]!,
  };
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
