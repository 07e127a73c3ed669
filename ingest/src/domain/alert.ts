import type { AlertSource, EventData, Signal } from '@oncall/contracts';

/**
 * The alert lifecycle as a decider: `decide(command, state, ctx) → events`, `evolve(state, event)
 * → state`. No I/O and no clock: `ctx` brings the id of a new alert, so the same command on
 * the same state always gives the same events.
 *
 * Triggered ─ack→ Acknowledged ─resolve→ Resolved (closed: the state is gone, and the next
 * firing signal of the fingerprint opens a new alert with a new id).
 */

export type AlertStatus = 'triggered' | 'acknowledged';

export type OpenAlert = Readonly<{
  alertId: string;
  serviceId: string;
  fingerprint: string;
  status: AlertStatus;
  summary: string;
  details: string;
  severity: Signal['severity'];
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}>;

export type AlertCommand =
  | Readonly<{ type: 'ReportSignal'; data: { serviceId: string; source: AlertSource; signal: Signal } }>
  | Readonly<{ type: 'AcknowledgeAlert'; data: AlertTarget & { userId: string; note: string } }>
  | Readonly<{ type: 'ResolveAlert'; data: AlertTarget & { userId: string; note: string } }>;

/** Commands name the alert and its (service, fingerprint), which locate it in a partition. */
export type AlertTarget = { alertId: string; serviceId: string; fingerprint: string };

export type DecidedEvent =
  | Readonly<{ type: 'AlertTriggered'; data: EventData<'AlertTriggered'> }>
  | Readonly<{ type: 'AlertUpdated'; data: EventData<'AlertUpdated'> }>
  | Readonly<{ type: 'AlertAcknowledged'; data: EventData<'AlertAcknowledged'> }>
  | Readonly<{ type: 'AlertResolved'; data: EventData<'AlertResolved'> }>;

export type DecideContext = Readonly<{ newAlertId: () => string }>;

export type AlertErrorCode = 'not_found' | 'illegal_state';

export class AlertCommandError extends Error {
  override readonly name = 'AlertCommandError';
  constructor(
    readonly code: AlertErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function decide(command: AlertCommand, state: OpenAlert | undefined, ctx: DecideContext): DecidedEvent[] {
  switch (command.type) {
    case 'ReportSignal':
      return decideSignal(command.data, state, ctx);
    case 'AcknowledgeAlert': {
      const open = requireOpen(command.data.alertId, state);
      if (open.status === 'acknowledged') return [];
      return [{ type: 'AlertAcknowledged', data: { ...ref(open), userId: command.data.userId, note: command.data.note } }];
    }
    case 'ResolveAlert': {
      const open = requireOpen(command.data.alertId, state);
      return [
        {
          type: 'AlertResolved',
          data: { ...ref(open), by: 'user', userId: command.data.userId, note: command.data.note, endsAt: null },
        },
      ];
    }
    default: {
      const _never: never = command;
      return _never;
    }
  }
}

export function evolve(state: OpenAlert | undefined, event: DecidedEvent): OpenAlert | undefined {
  switch (event.type) {
    case 'AlertTriggered': {
      const d = event.data;
      return {
        alertId: d.alertId,
        serviceId: d.serviceId,
        fingerprint: d.fingerprint,
        status: 'triggered',
        summary: d.summary,
        details: d.details,
        severity: d.severity,
        labels: d.labels,
        annotations: d.annotations,
      };
    }
    case 'AlertUpdated': {
      if (!state) return state;
      const { summary, details, severity, labels, annotations } = event.data;
      return { ...state, summary, details, severity, labels, annotations };
    }
    case 'AlertAcknowledged':
      return state && { ...state, status: 'acknowledged' };
    case 'AlertResolved':
      return undefined;
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

function decideSignal(
  data: Extract<AlertCommand, { type: 'ReportSignal' }>['data'],
  state: OpenAlert | undefined,
  ctx: DecideContext,
): DecidedEvent[] {
  const { signal, serviceId, source } = data;
  if (signal.status === 'resolved') {
    if (!state) return [];
    return [{ type: 'AlertResolved', data: { ...ref(state), by: 'source', userId: null, note: '', endsAt: signal.endsAt } }];
  }
  const content = {
    summary: signal.summary,
    details: signal.details,
    severity: signal.severity,
    labels: signal.labels,
    annotations: signal.annotations,
  };
  if (!state) {
    return [
      {
        type: 'AlertTriggered',
        data: {
          alertId: ctx.newAlertId(),
          serviceId,
          fingerprint: signal.fingerprint,
          source,
          ...content,
          startsAt: signal.startsAt,
          generatorUrl: signal.generatorUrl,
        },
      },
    ];
  }
  const changed = changedFields(state, content);
  if (changed.length === 0) return [];
  return [{ type: 'AlertUpdated', data: { ...ref(state), ...content, changed } }];
}

type Content = Pick<OpenAlert, 'summary' | 'details' | 'severity' | 'labels' | 'annotations'>;

function changedFields(before: Content, after: Content): string[] {
  const changed: string[] = [];
  if (before.summary !== after.summary) changed.push('summary');
  if (before.details !== after.details) changed.push('details');
  if (before.severity !== after.severity) changed.push('severity');
  if (!sameMap(before.labels, after.labels)) changed.push('labels');
  if (!sameMap(before.annotations, after.annotations)) changed.push('annotations');
  return changed;
}

function sameMap(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function ref(state: OpenAlert): { alertId: string; serviceId: string; fingerprint: string } {
  return { alertId: state.alertId, serviceId: state.serviceId, fingerprint: state.fingerprint };
}

function requireOpen(alertId: string, state: OpenAlert | undefined): OpenAlert {
  if (!state) throw new AlertCommandError('illegal_state', `alert ${alertId} is not open`);
  if (state.alertId !== alertId) throw new AlertCommandError('not_found', `alert ${alertId} is not the open alert of its fingerprint`);
  return state;
}

/** Key of an open alert inside a partition's state. */
export const alertKey = (serviceId: string, fingerprint: string): string => `${serviceId}\n${fingerprint}`;
