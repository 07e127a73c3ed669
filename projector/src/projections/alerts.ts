import { sql, type DatabaseTransactionConnection } from 'slonik';
import { CONSUMERS, STREAMS, subjects, type AlertEvent } from '@oncall/contracts';
import { describe } from '../domain/timeline.js';
import type { Projection } from './types.js';

const ALERT_EVENTS = new Set<string>(['AlertTriggered', 'AlertUpdated', 'AlertRepeated', 'AlertAcknowledged', 'AlertResolved']);

/** A whole `alerts` row as its columns are named; timestamps stay ISO strings (cast by PostgreSQL). */
type AlertRow = {
  id: string;
  service_id: string;
  fingerprint: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  source: string;
  summary: string;
  details: string;
  severity: string;
  labels: unknown;
  annotations: unknown;
  links: unknown;
  custom: unknown;
  generator_url: string | null;
  starts_at: string | null;
  created_at: string;
  updated_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  repeat_count: number;
  last_seen_at: string;
  last_event_seq: number;
};

/** The columns a change event sets. */
type ChangedColumn =
  | 'summary' | 'details' | 'severity' | 'labels' | 'annotations' | 'links' | 'custom' | 'repeat_count' | 'last_seen_at'
  | 'updated_at' | 'status' | 'acknowledged_at' | 'acknowledged_by' | 'resolved_at' | 'resolved_by';

/**
 * What the changes of one batch do to an alert that was inserted before the batch: a column is
 * present once a change set it (the last change wins), absent when no change of the batch touched it.
 */
type AlertPatch = { id: string; last_event_seq: number } & { [C in ChangedColumn]?: AlertRow[C] };

type ChangeEvent = Exclude<AlertEvent, { type: 'AlertTriggered' }>;

/**
 * `alerts` (current state) and `alert_timeline` (every event) from the ALERTS stream.
 *
 * A batch costs at most three statements, however its events interleave. Its events are folded
 * in stream order in memory, one target per alert:
 *  - an alert triggered in this batch becomes a whole row; its later changes in the batch are
 *    applied to that row, so it is inserted once, in its state after the batch;
 *  - an alert inserted before this batch gets a patch; each change sets its columns on the
 *    patch, so per column the last change of the batch wins, as sequential UPDATEs would do.
 * Then: one UPDATE … FROM for every patch (before the inserts: an alert resolved in this batch
 * frees its fingerprint for a new alert of the batch), one multi-row INSERT of the new alerts,
 * one multi-row INSERT of the timeline. Rows travel as one JSON parameter (jsonb_to_recordset),
 * so the event data is serialised once and nothing is re-escaped into array literals.
 */
export const alertsProjection: Projection = {
  name: CONSUMERS.projectorAlerts,
  stream: STREAMS.alerts,
  filterSubject: subjects.alertsAll,
  applyMany: async (tx, events) => {
    const inserts: AlertRow[] = [];
    const patches: AlertPatch[] = [];
    /** Where the next change of an alert goes: its new row, or its patch. */
    const targets = new Map<string, AlertRow | AlertPatch>();
    const timeline: unknown[] = [];
    for (const { event, at } of events) {
      if (!ALERT_EVENTS.has(event.type)) continue;
      const e = event as AlertEvent;
      const { actor, message } = describe(e);
      timeline.push({
        seq: at.seq, alert_id: e.data.alertId, event_id: e.id, event_type: e.type, occurred_at: e.occurredAt, actor, message, data: e.data,
      });
      if (e.type === 'AlertTriggered') {
        // A second trigger of the same id stays a second row: the insert fails as it would have.
        const row = triggeredRow(e, at.seq);
        inserts.push(row);
        targets.set(row.id, row);
        continue;
      }
      let target = targets.get(e.data.alertId);
      if (!target) {
        target = { id: e.data.alertId, last_event_seq: at.seq };
        patches.push(target);
        targets.set(target.id, target);
      }
      applyChange(target, e, at.seq);
    }
    if (patches.length > 0) await updateAlerts(tx, patches);
    if (inserts.length > 0) await insertAlerts(tx, inserts);
    if (timeline.length > 0) {
      await tx.query(sql.unsafe`
        INSERT INTO alert_timeline (seq, alert_id, event_id, event_type, occurred_at, actor, message, data)
        SELECT seq, alert_id, event_id, event_type, occurred_at, actor, message, data
        FROM jsonb_to_recordset(${JSON.stringify(timeline)}::jsonb)
          AS t(seq int8, alert_id uuid, event_id uuid, event_type text, occurred_at timestamptz, actor text, message text, data jsonb)`);
    }
  },
};

function triggeredRow(e: Extract<AlertEvent, { type: 'AlertTriggered' }>, seq: number): AlertRow {
  const d = e.data;
  return {
    id: d.alertId,
    service_id: d.serviceId,
    fingerprint: d.fingerprint,
    status: 'triggered',
    source: d.source,
    summary: d.summary,
    details: d.details,
    severity: d.severity,
    labels: d.labels,
    annotations: d.annotations,
    links: d.links,
    custom: d.custom,
    generator_url: d.generatorUrl,
    starts_at: d.startsAt,
    created_at: e.occurredAt,
    updated_at: e.occurredAt,
    acknowledged_at: null,
    acknowledged_by: null,
    resolved_at: null,
    resolved_by: null,
    repeat_count: 0,
    last_seen_at: d.seenAt,
    last_event_seq: seq,
  };
}

/** Sets the columns one change event sets: the same assignments as one UPDATE per event. */
function applyChange(t: AlertRow | AlertPatch, e: ChangeEvent, seq: number): void {
  const at = e.occurredAt;
  switch (e.type) {
    case 'AlertUpdated': {
      const d = e.data;
      t.summary = d.summary;
      t.details = d.details;
      t.severity = d.severity;
      t.labels = d.labels;
      t.annotations = d.annotations;
      t.links = d.links;
      t.custom = d.custom;
      t.repeat_count = d.repeatCount;
      t.last_seen_at = d.seenAt;
      t.updated_at = at;
      break;
    }
    case 'AlertRepeated':
      t.repeat_count = e.data.repeatCount;
      t.last_seen_at = e.data.seenAt;
      t.links = e.data.links;
      t.custom = e.data.custom;
      break;
    case 'AlertAcknowledged':
      t.status = 'acknowledged';
      t.acknowledged_at = at;
      t.acknowledged_by = e.data.userId;
      t.updated_at = at;
      break;
    case 'AlertResolved':
      t.status = 'resolved';
      t.resolved_at = at;
      t.resolved_by = e.data.userId;
      t.updated_at = at;
      break;
    default: {
      const _never: never = e;
      return _never;
    }
  }
  t.last_event_seq = seq;
}

async function insertAlerts(tx: DatabaseTransactionConnection, rows: readonly AlertRow[]): Promise<void> {
  await tx.query(sql.unsafe`
    INSERT INTO alerts (id, service_id, fingerprint, status, source, summary, details, severity, labels, annotations, links, custom,
      generator_url, starts_at, created_at, updated_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by,
      repeat_count, last_seen_at, last_event_seq)
    SELECT id, service_id, fingerprint, status, source, summary, details, severity, labels, annotations, links, custom,
      generator_url, starts_at, created_at, updated_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by,
      repeat_count, last_seen_at, last_event_seq
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS u(id uuid, service_id text, fingerprint text, status text, source text,
      summary text, details text, severity text, labels jsonb, annotations jsonb, links jsonb, custom jsonb,
      generator_url text, starts_at timestamptz, created_at timestamptz, updated_at timestamptz,
      acknowledged_at timestamptz, acknowledged_by text, resolved_at timestamptz, resolved_by text,
      repeat_count integer, last_seen_at timestamptz, last_event_seq int8)`);
}

/**
 * One UPDATE for every patch. An absent column arrives as NULL and keeps the row's value: every
 * changed column is NOT NULL except the two `_by` columns, which may be set to NULL and so follow
 * their `_at` column (an acknowledgement or resolution always sets both).
 */
async function updateAlerts(tx: DatabaseTransactionConnection, patches: readonly AlertPatch[]): Promise<void> {
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
      resolved_by = CASE WHEN u.resolved_at IS NULL THEN a.resolved_by ELSE u.resolved_by END,
      last_event_seq = u.last_event_seq
    FROM jsonb_to_recordset(${JSON.stringify(patches)}::jsonb) AS u(id uuid, summary text, details text, severity text,
      labels jsonb, annotations jsonb, links jsonb, custom jsonb, repeat_count integer, last_seen_at timestamptz,
      updated_at timestamptz, status text, acknowledged_at timestamptz, acknowledged_by text,
      resolved_at timestamptz, resolved_by text, last_event_seq int8)
    WHERE a.id = u.id`);
}
