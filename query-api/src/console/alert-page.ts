import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { AlertDetail, AlertPage, TicketView, TimelineEntry } from '@oncall/contracts';
import { maybeRow } from '../read-model/db.js';
import { getAlert, getTimeline, type AlertRow, type TimelineRow } from '../read-model/alerts.js';
import { ticketsOfAlert, type TicketRow } from '../read-model/tickets.js';
import { actionsFor } from './actions.js';
import { pagedUsers } from './board-rows.js';
import { HttpError } from './http-errors.js';
import { mayAct, type ConsoleCaller } from './session.js';
import { traceUrlOf } from './trace-url.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const STREAM: Record<string, TimelineEntry['stream']> = {
  ALERTS: 'alerts',
  ESCALATIONS: 'escalations',
  DELIVERIES: 'deliveries',
  TICKETS: 'tickets',
};

/** A timeline row (its message was written by the projector in words: projector/src/domain/timeline.ts). */
export const timelineEntryOf = (r: TimelineRow): TimelineEntry => ({
  at: new Date(r.occurred_at).toISOString(),
  stream: STREAM[r.stream] ?? 'alerts',
  type: r.event_type,
  actor: r.actor,
  message: r.message,
});

export const ticketViewOf = (t: TicketRow): TicketView => ({
  providerId: t.provider_id,
  key: t.ticket_key,
  url: t.url,
  state: t.state ?? t.sync_status ?? t.status,
  lastError: t.last_error,
});

/** What the alerts_with_escalation row lacks: links, the matched routing rules, the current step's recipients (JSON text). */
export type AlertExtras = Readonly<{
  links: readonly { href: string; text: string }[];
  routingRules: readonly string[];
  stepRecipients: string | null;
}>;

export function alertDetailOf(r: AlertRow, x: AlertExtras): AlertDetail {
  return {
    id: r.id,
    serviceId: r.service_id,
    status: r.status,
    severity: r.severity,
    summary: r.summary,
    site: r.site ?? r.labels.site ?? null,
    labels: r.labels,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    step: r.escalation_step,
    paged: pagedUsers(x.stepRecipients),
    acknowledgedBy: r.acknowledged_by,
    snoozedUntil: iso(r.snoozed_until),
    incidentId: r.incident_id,
    inhibited: r.inhibited ?? false,
    flapping: r.flapping === 'started' || r.flapping === 'flapped',
    repeatCount: r.repeat_count,
    source: r.source,
    details: r.details,
    sourceSeverity: r.source_severity,
    annotations: r.annotations,
    links: x.links,
    generatorUrl: r.generator_url,
    acknowledgedAt: iso(r.acknowledged_at),
    resolvedAt: iso(r.resolved_at),
    resolvedBy: r.resolved_by,
    policyId: r.policy_id,
    routingRules: x.routingRules,
    nextEscalationAt: iso(r.next_escalation_at),
    slaDeadline: iso(r.sla_deadline),
  };
}

const Extras = z.object({
  links: z.array(z.object({ href: z.string(), text: z.string() })),
  routing_rules: z.array(z.string()).nullable(),
  step_recipients: z.string().nullable(),
});

async function extrasOf(pool: DatabasePool, id: string): Promise<AlertExtras> {
  const row = await maybeRow(
    pool,
    sql.type(Extras)`SELECT a.links, e.routing_rules, e.step_recipients::text AS step_recipients
      FROM alerts a LEFT JOIN alert_escalations e ON e.alert_id = a.id WHERE a.id = ${id}`,
  );
  // An archived alert: the page shows it without these.
  return { links: row?.links ?? [], routingRules: row?.routing_rules ?? [], stepRecipients: row?.step_recipients ?? null };
}

/** `GET /api/alerts/<id>`: 404 when no such alert (live or archived). */
export async function readAlertPage(
  pool: DatabasePool,
  id: string,
  caller: ConsoleCaller,
  traceTemplate: string | null,
): Promise<AlertPage> {
  const row = await getAlert(pool, id);
  if (!row) throw new HttpError(404, `alert ${id} not found`);
  const [extras, timeline, tickets] = await Promise.all([extrasOf(pool, id), getTimeline(pool, id), ticketsOfAlert(pool, id, null)]);
  return {
    alert: alertDetailOf(row, extras),
    timeline: timeline.map(timelineEntryOf),
    tickets: tickets.map(ticketViewOf),
    actions: actionsFor(row.status, mayAct(caller, 'respond').ok),
    // The alert's trace id is not in the read model yet (OpenTelemetry work adds it).
    traceUrl: traceUrlOf(traceTemplate, null),
  };
}
