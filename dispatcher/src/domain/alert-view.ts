import type { DomainEvent } from '@oncall/contracts';

/** An alert as its Slack message shows it: what it is, where it stands, and who changed it last. */
export type AlertView = Readonly<{
  alertId: string;
  serviceId: string;
  fingerprint: string;
  summary: string;
  severity: string;
  status: 'triggered' | 'acknowledged' | 'snoozed' | 'resolved';
  /** The last change by a person or the source; null while nobody acted. */
  change: Readonly<{ action: string; userId: string | null; via: string | null; at: string; until: string | null }> | null;
}>;

type Data = Record<string, unknown>;
const str = (d: Data, k: string): string | null => (typeof d[k] === 'string' ? d[k] : null);

/** Folds an alert's lifecycle events (its ALERTS subject, in order) into its view; null before AlertTriggered. */
export function alertView(events: readonly DomainEvent[]): AlertView | null {
  let view = null as AlertView | null;
  for (const e of events) {
    const d = e.data as Data;
    const change = (action: string) => ({ action, userId: str(d, 'userId'), via: str(d, 'via'), at: e.occurredAt, until: str(d, 'until') });
    switch (e.type) {
      case 'AlertTriggered':
        view = {
          alertId: str(d, 'alertId') ?? '',
          serviceId: str(d, 'serviceId') ?? '',
          fingerprint: str(d, 'fingerprint') ?? '',
          summary: str(d, 'summary') ?? '',
          severity: str(d, 'severity') ?? '',
          status: 'triggered',
          change: null,
        };
        break;
      case 'AlertUpdated':
        if (view) view = { ...view, summary: str(d, 'summary') ?? view.summary, severity: str(d, 'severity') ?? view.severity };
        break;
      case 'AlertAcknowledged':
        if (view) view = { ...view, status: 'acknowledged', change: change('acknowledged') };
        break;
      case 'AlertSnoozed':
        if (view) view = { ...view, status: 'snoozed', change: change('snoozed') };
        break;
      case 'AlertEscalated':
        if (view) view = { ...view, change: change('escalated') };
        break;
      case 'AlertUnacknowledged':
        if (view)
          view = {
            ...view,
            status: 'triggered',
            change: { ...change('reopened'), via: str(d, 'via') ?? (d.userId === null ? str(d, 'reason') : null) },
          };
        break;
      case 'AlertResolved':
        if (view) view = { ...view, status: 'resolved', change: change('resolved') };
        break;
      default:
        break;
    }
  }
  return view;
}
