import type { AlertStatusWord } from '@oncall/contracts';
import { timestampMs } from '../read-model/pg-text.js';
import type { SeqRow } from './board-window.js';

/**
 * The columns of a board row, read from `alerts a LEFT JOIN alert_escalations e` (not the view
 * alerts_with_escalation: its first-ticket lookup per row is the board's whole cost at 10,000
 * alerts, and the board shows no ticket). The severity is the view's effective one.
 */
export const BOARD_COLUMNS = `a.id, a.service_id, a.status, coalesce(e.severity_map ->> a.severity, a.severity) AS severity, a.summary,
  e.site, a.labels, a.created_at, a.updated_at, e.escalation_step, e.step_recipients, a.acknowledged_by, a.snoozed_until,
  e.incident_id, e.inhibited, e.flapping, a.repeat_count, a.last_event_seq, e.last_event_seq AS escalation_seq`;
export const ESCALATION_JOIN = `LEFT JOIN alert_escalations e ON e.alert_id = a.id`;

const iso = (text: string | null): string | null => (text === null ? null : new Date(timestampMs(text)).toISOString());

/** Users of a step's recipients (`[{type:'user',userId,…}, {type:'slack',…}]`). */
export function pagedUsers(recipients: string | null): string[] {
  if (recipients === null) return [];
  const list = JSON.parse(recipients) as unknown;
  if (!Array.isArray(list)) return [];
  const users: string[] = [];
  for (const r of list as Array<{ type?: unknown; userId?: unknown }>) {
    if (r.type === 'user' && typeof r.userId === 'string' && !users.includes(r.userId)) users.push(r.userId);
  }
  return users;
}

/** A row of BOARD_COLUMNS in PostgreSQL's text as the board shows it, with its sequences. */
export function boardRowOf(v: ReadonlyArray<string | null>): SeqRow {
  const labels = JSON.parse(v[6]!) as Record<string, string>;
  const flapping = v[15] ?? null;
  return {
    alert: {
      id: v[0]!,
      serviceId: v[1]!,
      status: v[2] as AlertStatusWord,
      severity: v[3]!,
      summary: v[4]!,
      site: v[5] ?? labels.site ?? null,
      labels,
      createdAt: iso(v[7]!)!,
      updatedAt: iso(v[8]!)!,
      step: v[9] === null ? null : Number(v[9]),
      paged: pagedUsers(v[10] ?? null),
      acknowledgedBy: v[11] ?? null,
      snoozedUntil: iso(v[12] ?? null),
      incidentId: v[13] ?? null,
      inhibited: v[14] === 't',
      flapping: flapping === 'started' || flapping === 'flapped',
      repeatCount: Number(v[16]),
    },
    alertSeq: Number(v[17]),
    escalationSeq: v[18] === null ? 0 : Number(v[18]),
  };
}
