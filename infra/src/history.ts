import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { status } from '@grpc/grpc-js';
import { decodeEvent, STREAMS, subjects, type AlertEvent } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { severityWord, statusWord } from './alerts-client.js';
import { parseOrUsage, UsageError } from './cli-usage.js';
import { call, isServiceError, type ApiClient } from './grpc-client.js';

/**
 * One alert's whole history read from the ALERTS stream itself (its subject), not from a read
 * model: what an auditor trusts. With `asOf`, only what had happened by then.
 */
export async function alertHistory(nc: NatsConnection, alertId: string, asOf?: Date): Promise<AlertEvent[]> {
  const filter = subjects.alertHistory(alertId);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(STREAMS.alerts, { subjects_filter: filter });
  if (!info.state.subjects || Object.keys(info.state.subjects).length === 0) return [];
  const consumer = await jetstream(nc).consumers.get(STREAMS.alerts, { filter_subjects: filter, deliver_policy: DeliverPolicy.All });
  const events: AlertEvent[] = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    const event = decodeEvent(m.data) as AlertEvent;
    if (asOf && Date.parse(event.occurredAt) > asOf.getTime()) break;
    events.push(event);
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return events;
}

/**
 * An archived alert's timeline rows (projector/src/archive.ts), oldest first, for when the log no
 * longer holds its events (ONCALL_LOG_RETENTION); each marked `source: "archive"`. Empty when there
 * is no archive or the alert is not in it.
 */
export async function archivedHistory(databaseUrl: string, schema: string, alertId: string, asOf?: Date): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT stream, seq, event_id, event_type, occurred_at, actor, message, data FROM "${schema}_archive".alert_timeline_all
       WHERE alert_id = $1 AND ($2::timestamptz IS NULL OR occurred_at <= $2) ORDER BY occurred_at, stream_rank, seq`,
      [alertId, asOf?.toISOString() ?? null],
    );
    return rows.map((r: Record<string, unknown>) => ({ source: 'archive', ...r }));
  } catch (err) {
    if ((err as { code?: string }).code === '42P01' || (err as { code?: string }).code === '3F000') return [];
    throw err;
  } finally {
    await client.end();
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type HistoryArgs = Readonly<{ alertId: string; asOf: Date | undefined; json: boolean; log: boolean; grpc: string | undefined }>;

/** Parses `oncall history <alert-id> [--json] [--as-of T] [--log] [--grpc host:port]`; bad input is a UsageError. */
export function parseHistoryArgs(argv: string[]): HistoryArgs {
  const { values, positionals } = parseOrUsage('history', {
    args: argv,
    allowPositionals: true,
    options: {
      'as-of': { type: 'string' },
      json: { type: 'boolean', default: false },
      log: { type: 'boolean', default: false },
      grpc: { type: 'string' },
    },
  });
  const [alertId, ...extra] = positionals;
  if (alertId === undefined) throw new UsageError('history needs an alert id: oncall history <alert-id>');
  if (extra.length > 0) throw new UsageError(`history: unexpected argument ${extra[0]}`);
  if (!UUID.test(alertId)) throw new UsageError(`history: "${alertId}" is not an alert id (a UUID, as oncall alerts --json shows)`);
  const asOf = values['as-of'] === undefined ? undefined : new Date(values['as-of']);
  if (asOf && Number.isNaN(asOf.getTime()))
    throw new UsageError(`history --as-of: not a time: ${values['as-of']} (use e.g. 2026-03-01T12:00:00Z)`);
  if (values.log && values.grpc !== undefined) throw new UsageError('history: --log reads the log, not query-api: no --grpc with it');
  return { alertId: alertId.toLowerCase(), asOf, json: values.json, log: values.log, grpc: values.grpc };
}

export type AlertTimeline = Readonly<{
  alert: alertingV1.Alert;
  escalation: alertingV1.EscalationState;
  timeline: readonly alertingV1.TimelineEntry[];
}>;

/** An alert query-api does not know (GetAlert's NOT_FOUND). */
export class AlertNotFound extends Error {
  override readonly name = 'AlertNotFound';
}

/** The alert, where its escalation stands and its whole timeline, through query-api; `asOf` drops later entries. */
export async function fetchTimeline(client: ApiClient, alertId: string, asOf?: Date): Promise<AlertTimeline> {
  let alert: alertingV1.Alert;
  try {
    alert = await call<alertingV1.Alert>((cb) => client.alerts.getAlert({ id: alertId }, cb));
  } catch (err) {
    if (isServiceError(err) && err.code === status.NOT_FOUND) throw new AlertNotFound(`alert ${alertId} not found`, { cause: err });
    throw err;
  }
  const escalation = await call<alertingV1.EscalationState>((cb) => client.escalations.getEscalationState({ alertId }, cb));
  const timeline: alertingV1.TimelineEntry[] = [];
  for await (const entry of client.alerts.getAlertTimeline({ alertId }) as AsyncIterable<alertingV1.TimelineEntry>) {
    if (!asOf || (entry.occurredAt?.getTime() ?? 0) <= asOf.getTime()) timeline.push(entry);
  }
  return { alert, escalation, timeline };
}

const time = (d: Date | undefined): string => (d ? `${d.toISOString().slice(0, 19).replace('T', ' ')}Z` : '-');

/** Where the escalation stands, in one line. */
export function escalationLine(e: alertingV1.EscalationState): string {
  if (e.policyId === '' && e.currentStep === 0 && e.stoppedReason === '') return 'escalation: not routed yet';
  const parts = [e.policyId ? `policy ${e.policyId}` : 'no policy'];
  if (e.currentStep > 0) parts.push(`step ${e.currentStep}${e.repetition > 0 ? ` (round ${e.repetition + 1})` : ''}`);
  if (e.suppressedBy) parts.push(`suppressed by ${e.suppressedBy}${e.suppressedUntil ? ` until ${time(e.suppressedUntil)}` : ''}`);
  if (e.stoppedReason) parts.push(`stopped: ${e.stoppedReason}`);
  if (e.reopenAt) parts.push(`reopens ${time(e.reopenAt)}`);
  if (e.nextStepAt) parts.push(`next step ${time(e.nextStepAt)}`);
  return `escalation: ${parts.join(', ')}`;
}

/** The stream an entry comes from, as a word: alert, escalation, delivery, ticket. */
const SOURCE: Readonly<Record<string, string>> = { ALERTS: 'alert', ESCALATIONS: 'escalation', DELIVERIES: 'delivery', TICKETS: 'ticket' };

/** An alert's timeline to read: a head (the alert, where its escalation stands), then one line per entry, oldest first. */
export function formatTimeline({ alert, escalation, timeline }: AlertTimeline): string {
  const head = [
    `alert ${alert.id} ${JSON.stringify(alert.summary)}`,
    `  ${statusWord(alert.status)}, ${severityWord(alert.severity)}, service ${alert.serviceId}, created ${time(alert.createdAt)}`,
    `  ${escalationLine(escalation)}`,
  ];
  if (timeline.length === 0) return `${head.join('\n')}\n\nno timeline entries\n`;
  const kinds = timeline.map((t) => SOURCE[t.stream] ?? t.stream.toLowerCase());
  const typeWidth = Math.max(...timeline.map((t) => t.eventType.length));
  const kindWidth = Math.max(...kinds.map((k) => k.length));
  const lines = timeline.map((t, i) =>
    [time(t.occurredAt), kinds[i]!.padEnd(kindWidth), t.eventType.padEnd(typeWidth), t.actor ? `by ${t.actor}` : '', t.message]
      .filter((c) => c !== '')
      .join('  ')
      .trimEnd(),
  );
  return `${head.join('\n')}\n\n${lines.join('\n')}\n`;
}

/** The timeline as one JSON document: the alert, its escalation and the entries (enum names, ISO times). */
export const timelineJson = ({ alert, escalation, timeline }: AlertTimeline): string =>
  `${JSON.stringify({
    alert: alertingV1.Alert.toJSON(alert),
    escalation: alertingV1.EscalationState.toJSON(escalation),
    timeline: timeline.map((t) => alertingV1.TimelineEntry.toJSON(t)),
  })}\n`;
