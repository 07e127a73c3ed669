import { ALERT_LIFECYCLE_EVENTS, type AlertEvent, type DomainEvent } from '@oncall/contracts';
import { describe } from './timeline.js';

/**
 * What one batch of ALERTS events does to `alerts` and `alert_timeline`, folded in stream order
 * in memory: a pure function of the events, so the alerts projection (projections/alerts.ts) only
 * serializes the result and runs its two statements.
 */

/** The lifecycle events, and the decider's refusals (shown on the timeline). */
const ALERT_EVENTS: ReadonlySet<string> = new Set([...ALERT_LIFECYCLE_EVENTS, 'AlertCommandDeclined' satisfies AlertEvent['type']]);

/** The columns a change event sets, with the types of their values. */
export type ChangedColumns = {
  summary: string;
  details: string;
  severity: string;
  labels: unknown;
  annotations: unknown;
  links: unknown;
  custom: unknown;
  repeat_count: number;
  last_seen_at: string;
  updated_at: string;
  status: 'triggered' | 'acknowledged' | 'snoozed' | 'resolved';
  acknowledged_at: string;
  acknowledged_by: string | null;
  /** Set by the first acknowledgement of the batch; the row's own first one wins over it. */
  first_acknowledged_at: string;
  resolved_at: string;
  resolved_by: string | null;
  /** Present when a change set or cleared the snooze: the two columns below then replace the row's. */
  snooze_set: true;
  snoozed_until: string | null;
  snoozed_by: string | null;
  escalated_at: string;
  escalated_by: string | null;
  last_event_seq: number;
};

/**
 * What the changes of one batch do to one alert: a column is present once a change of the batch
 * set it (the last change wins, as with one UPDATE per event), absent when none touched it.
 * `id` is set on patches of alerts inserted before the batch.
 */
export type AlertPatch = { id?: string } & Partial<ChangedColumns>;

type ChangeEvent = Exclude<AlertEvent, { type: 'AlertTriggered' | 'AlertCommandDeclined' }>;

/**
 * A timeline row as a JSON array: seq, alert_id, event_id, event_type, occurred_at, actor,
 * message, data; an AlertTriggered row carries its alert's patch as a ninth member and the trace id
 * of its message (or null) as a tenth.
 */
export type TimelineRow =
  | readonly [number, string, string, string, string, string, string, unknown]
  | readonly [number, string, string, string, string, string, string, unknown, AlertPatch, string | null];

/** Where an event is in ALERTS: its sequence, and the trace id its message carries (projections/types.ts `Applied`). */
export type BatchPosition = { seq: number; traceId?: string | null };

/** A batch folded: the rows of the two statements, sharing the patch objects. */
export type AlertBatch = {
  /** Every alert event of the batch, in stream order; a trigger's row carries its alert's patch. */
  timeline: TimelineRow[];
  /** The patches of alerts inserted before the batch (each with its `id`), in order of first change. */
  existing: AlertPatch[];
};

/**
 * Folds a batch in stream order: each change event sets its columns on its alert's patch, so per
 * column the last change of the batch wins, exactly as one UPDATE per event would
 * (`first_acknowledged_at` keeps the first; nullable columns that a change may clear travel with
 * `snooze_set`, saying the batch set them). A change goes to the patch of its alert's trigger
 * when the trigger came earlier in the batch, else to an `existing` patch; a change that precedes
 * the trigger of its alert in the batch (never in a valid log) thus goes to `existing` and finds
 * no row, as it would have. Events of other streams' types are ignored.
 */
export function foldAlertBatch(events: ReadonlyArray<{ event: DomainEvent; at: BatchPosition }>): AlertBatch {
  const timeline: TimelineRow[] = [];
  const existing: AlertPatch[] = [];
  /** The patch the next change of an alert goes to: of its trigger in the batch, or of the row before. */
  const patches = new Map<string, AlertPatch>();
  for (const { event, at } of events) {
    if (!ALERT_EVENTS.has(event.type)) continue;
    const e = event as AlertEvent;
    const { actor, message } = describe(e);
    const row = [at.seq, e.data.alertId, e.id, e.type, e.occurredAt, actor, message, e.data] as const;
    if (e.type === 'AlertTriggered') {
      // The alert's later changes in this batch go onto its insert. A second trigger of the same
      // id is a second row, whose insert fails as the second insert would have.
      const patch: AlertPatch = {};
      // The trace that triggered the alert (docs/observability.md#tracing): the alert's trace_id.
      timeline.push([...row, patch, at.traceId ?? null]);
      patches.set(e.data.alertId, patch);
      continue;
    }
    timeline.push(row);
    // The answer to a command that changed nothing: on the timeline, not on the alert.
    if (e.type === 'AlertCommandDeclined') continue;
    let patch = patches.get(e.data.alertId);
    if (!patch) {
      patch = { id: e.data.alertId };
      existing.push(patch);
      patches.set(e.data.alertId, patch);
    }
    applyChange(patch, e, at.seq);
  }
  return { timeline, existing };
}

/** Sets the columns one change event sets: the same assignments as one UPDATE per event. */
function applyChange(t: AlertPatch, e: ChangeEvent, seq: number): void {
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
      t.first_acknowledged_at ??= at;
      clearSnooze(t);
      t.updated_at = at;
      break;
    case 'AlertResolved':
      t.status = 'resolved';
      t.resolved_at = at;
      t.resolved_by = e.data.userId;
      clearSnooze(t);
      t.updated_at = at;
      break;
    case 'AlertSnoozed':
      t.status = 'snoozed';
      t.snooze_set = true;
      t.snoozed_until = e.data.until;
      t.snoozed_by = e.data.userId;
      t.updated_at = at;
      break;
    case 'AlertEscalated':
      t.escalated_at = at;
      t.escalated_by = e.data.userId;
      t.updated_at = at;
      break;
    case 'AlertUnacknowledged':
      t.status = 'triggered';
      clearSnooze(t);
      t.updated_at = at;
      break;
    default: {
      const _never: never = e;
      return _never;
    }
  }
  t.last_event_seq = seq;
}

function clearSnooze(t: AlertPatch): void {
  t.snooze_set = true;
  t.snoozed_until = null;
  t.snoozed_by = null;
}
