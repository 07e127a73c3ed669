import type { AlertCommandKind, AlertEvent, Surface } from '@oncall/contracts';
import type { CommandAnswer } from '@oncall/shared';

export type AlertStatusWord = 'triggered' | 'acknowledged' | 'snoozed' | 'resolved';

/** What a person answering a page needs to see of an alert, folded from its events in the log. */
export type AlertView = Readonly<{
  alertId: string;
  serviceId: string;
  summary: string;
  details: string;
  severity: string;
  status: AlertStatusWord;
  triggeredAt: string;
  snoozedUntil: string | null;
  /** The last change a person or the pipeline made (acknowledged, resolved, …), with when. */
  lastChange: Readonly<{ action: string; userId: string | null; via: Surface | null; at: string }> | null;
}>;

type Change = NonNullable<AlertView['lastChange']>;
const change = (action: string, e: AlertEvent & { data: { userId: string | null; via?: Surface } }): Change => ({
  action,
  userId: e.data.userId,
  via: e.data.via ?? null,
  at: e.occurredAt,
});

/** The alert as its events in order tell it; null when there are none (or no AlertTriggered). */
export function foldAlert(events: readonly AlertEvent[]): AlertView | null {
  let view: AlertView | null = null;
  for (const e of events) {
    if (e.type === 'AlertTriggered') {
      const d = e.data;
      view = {
        alertId: d.alertId,
        serviceId: d.serviceId,
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
        view = { ...view, status: 'snoozed', snoozedUntil: e.data.until, lastChange: change('snoozed', e) };
        break;
      case 'AlertUnacknowledged':
        view = { ...view, status: 'triggered', snoozedUntil: null, lastChange: change('reopened', e) };
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

const DONE: Readonly<Record<AlertCommandKind, string>> = {
  acknowledge: 'Acknowledged',
  resolve: 'Resolved',
  snooze: 'Snoozed',
  escalate: 'Escalated to the next step',
  unacknowledge: 'Reopened',
};

/** "by alice (slack)", "by the pipeline" (system), "by its source" (no person, no surface), "" when unknown. */
export function byWhom(c: Readonly<{ userId: string | null; via?: Surface | null | undefined }> | null): string {
  if (!c) return '';
  const who = c.userId ?? (c.via === 'system' ? 'the pipeline' : c.via ? 'someone' : 'its source');
  return ` by ${who}${c.via && c.via !== 'system' ? ` (${c.via})` : ''}`;
}

/**
 * The decider's answer in a sentence: "Acknowledged", "Already resolved by alice (slack)". The
 * decider forgets a closed alert, so who resolved it comes from the alert's log (`view`).
 */
export function answerText(command: AlertCommandKind, answer: CommandAnswer, view: AlertView | null = null): string {
  if (answer.outcome === 'changed') {
    return answer.event.type === 'AlertSnoozed' ? `Snoozed until ${answer.event.data.until}` : DONE[command];
  }
  switch (answer.reason) {
    case 'closed':
      return `Already resolved${byWhom(answer.lastChange?.action === 'resolved' ? answer.lastChange : view?.status === 'resolved' ? view.lastChange : null)}; nothing to do`;
    case 'unchanged':
      return `Already ${answer.status}${byWhom(answer.lastChange)}; nothing changed`;
    case 'invalid':
      return `Not done: ${answer.message}`;
    default: {
      const _never: never = answer.reason;
      return _never;
    }
  }
}
