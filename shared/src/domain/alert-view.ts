import type { AlertEvent, Surface } from '@oncall/contracts';

export type AlertStatusWord = 'triggered' | 'acknowledged' | 'snoozed' | 'resolved';

/** The last change a person, the source or the pipeline made to an alert. */
export type AlertChange = Readonly<{
  action: 'acknowledged' | 'resolved' | 'snoozed' | 'reopened' | 'escalated';
  /** null: the source (or, for a reopen, the pipeline). */
  userId: string | null;
  via: Surface | null;
  at: string;
  /** snoozed: until when. */
  until: string | null;
  /** reopened by the pipeline: why (ack-timeout, snooze-ended). */
  reason: string | null;
}>;

/** What a page's surfaces show of an alert (the action page, an edited Slack message), folded from its events. */
export type AlertView = Readonly<{
  alertId: string;
  serviceId: string;
  fingerprint: string;
  summary: string;
  details: string;
  severity: string;
  status: AlertStatusWord;
  triggeredAt: string;
  snoozedUntil: string | null;
  lastChange: AlertChange | null;
}>;

const change = (
  action: AlertChange['action'],
  e: AlertEvent & { data: { userId: string | null; via?: Surface } },
  more: { until?: string; reason?: string } = {},
): AlertChange => ({
  action,
  userId: e.data.userId,
  via: e.data.via ?? null,
  at: e.occurredAt,
  until: more.until ?? null,
  reason: more.reason ?? null,
});

/**
 * The alert as its events (its ALERTS subject, in order) tell it; null without an AlertTriggered.
 * `from`: the view of the events before these (to fold only what came after it). Pure.
 */
export function foldAlert(events: readonly AlertEvent[], from: AlertView | null = null): AlertView | null {
  let view: AlertView | null = from;
  for (const e of events) {
    if (e.type === 'AlertTriggered') {
      const d = e.data;
      view = {
        alertId: d.alertId,
        serviceId: d.serviceId,
        fingerprint: d.fingerprint,
        summary: d.summary,
        details: d.details,
        severity: d.severity,
        status: 'triggered',
        triggeredAt: d.startsAt ?? e.occurredAt,
        snoozedUntil: null,
        lastChange: null,
      };
      continue;
    }
    if (!view) continue;
    switch (e.type) {
      case 'AlertUpdated':
        view = { ...view, summary: e.data.summary, details: e.data.details, severity: e.data.severity };
        break;
      case 'AlertAcknowledged':
        view = { ...view, status: 'acknowledged', lastChange: change('acknowledged', e) };
        break;
      case 'AlertResolved':
        view = { ...view, status: 'resolved', snoozedUntil: null, lastChange: change('resolved', e) };
        break;
      case 'AlertSnoozed':
        view = { ...view, status: 'snoozed', snoozedUntil: e.data.until, lastChange: change('snoozed', e, { until: e.data.until }) };
        break;
      case 'AlertUnacknowledged':
        view = { ...view, status: 'triggered', snoozedUntil: null, lastChange: change('reopened', e, { reason: e.data.reason }) };
        break;
      case 'AlertEscalated':
        view = { ...view, lastChange: change('escalated', e) };
        break;
      case 'AlertRepeated':
      case 'AlertCommandDeclined':
        break;
      default: {
        const _never: never = e;
        return _never;
      }
    }
  }
  return view;
}
