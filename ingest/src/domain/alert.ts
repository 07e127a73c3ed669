import type { AlertSource, EventData, Link, Signal } from '@oncall/contracts';

/**
 * The alert lifecycle as a decider: `decide(command, state, ctx) → events`, `evolve(state, event)
 * → state`. No I/O and no clock: `ctx` brings the time and the id of a new alert, so the same
 * command on the same state always gives the same events.
 *
 * Triggered ─ack→ Acknowledged ─resolve→ Resolved (closed: the state is gone, and the next
 * firing signal of the fingerprint opens a new alert with a new id). Snoozed is an acknowledgement
 * with an end: the escalator reopens the alert (Unacknowledge) when it runs out, as it does when
 * an acknowledged alert's ack timeout passes.
 */

export type AlertStatus = 'triggered' | 'acknowledged' | 'snoozed';

/** Repeats that changed nothing are recorded at most this often per alert. */
export const REPEAT_RECORD_INTERVAL_MS = 60_000;

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
  links: readonly Link[];
  custom: Readonly<Record<string, unknown>>;
  /** Repeats recorded in the log so far. */
  repeatCount: number;
  /** Repeats seen since the last recorded count (lost on a restart, by design). */
  unrecordedRepeats: number;
  /** When the count was last recorded (or the alert triggered). */
  recordedAt: string;
  /** Users who acknowledged since the alert last opened: each is recorded once (untilAllAck steps). */
  ackedBy: readonly string[];
}>;

/** Commands name the alert and its (service, fingerprint), which locate it in a partition. */
export type AlertTarget = { alertId: string; serviceId: string; fingerprint: string };

export type AlertCommand =
  | Readonly<{ type: 'ReportSignal'; data: { serviceId: string; source: AlertSource; signal: Signal } }>
  | Readonly<{ type: 'AcknowledgeAlert'; data: AlertTarget & { userId: string | null; note: string } }>
  | Readonly<{ type: 'ResolveAlert'; data: AlertTarget & { userId: string | null; note: string } }>
  | Readonly<{ type: 'SnoozeAlert'; data: AlertTarget & { userId: string | null; note: string; until: string } }>
  | Readonly<{ type: 'EscalateAlert'; data: AlertTarget & { userId: string | null; note: string } }>
  | Readonly<{ type: 'UnacknowledgeAlert'; data: AlertTarget & { userId: string | null; reason: string } }>;

export type DecidedEvent =
  | Readonly<{ type: 'AlertTriggered'; data: EventData<'AlertTriggered'> }>
  | Readonly<{ type: 'AlertUpdated'; data: EventData<'AlertUpdated'> }>
  | Readonly<{ type: 'AlertRepeated'; data: EventData<'AlertRepeated'> }>
  | Readonly<{ type: 'AlertAcknowledged'; data: EventData<'AlertAcknowledged'> }>
  | Readonly<{ type: 'AlertResolved'; data: EventData<'AlertResolved'> }>
  | Readonly<{ type: 'AlertSnoozed'; data: EventData<'AlertSnoozed'> }>
  | Readonly<{ type: 'AlertEscalated'; data: EventData<'AlertEscalated'> }>
  | Readonly<{ type: 'AlertUnacknowledged'; data: EventData<'AlertUnacknowledged'> }>
  /**
   * A repeat that changed nothing and is not yet due to be recorded: it updates the count in
   * memory and is never appended (see `isRecorded`).
   */
  | Readonly<{ type: 'RepeatSeen'; data: AlertTarget }>;

/** Whether a decided event goes to the log (everything but RepeatSeen). */
export const isRecorded = (e: DecidedEvent): e is Exclude<DecidedEvent, { type: 'RepeatSeen' }> => e.type !== 'RepeatSeen';

export type DecideContext = Readonly<{ now: string; newAlertId: () => string }>;

export type AlertErrorCode = 'not_found' | 'illegal_state' | 'invalid';

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
      const { userId } = command.data;
      if (open.status === 'acknowledged' && (userId === null || open.ackedBy.includes(userId))) return [];
      return [{ type: 'AlertAcknowledged', data: { ...ref(open), by: 'user', userId: command.data.userId, note: command.data.note } }];
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
    case 'SnoozeAlert': {
      const open = requireOpen(command.data.alertId, state);
      if (Date.parse(command.data.until) <= Date.parse(ctx.now))
        throw new AlertCommandError('invalid', `snooze until ${command.data.until} is not in the future`);
      const { userId, note, until } = command.data;
      return [{ type: 'AlertSnoozed', data: { ...ref(open), userId, note, until } }];
    }
    case 'EscalateAlert': {
      const open = requireOpen(command.data.alertId, state);
      return [{ type: 'AlertEscalated', data: { ...ref(open), userId: command.data.userId, note: command.data.note } }];
    }
    case 'UnacknowledgeAlert': {
      const open = requireOpen(command.data.alertId, state);
      // Idempotent: a reopen that races with a new trigger or another reopen changes nothing.
      if (open.status === 'triggered') return [];
      return [{ type: 'AlertUnacknowledged', data: { ...ref(open), userId: command.data.userId, reason: command.data.reason } }];
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
        links: d.links,
        custom: d.custom,
        repeatCount: 0,
        unrecordedRepeats: 0,
        recordedAt: d.seenAt,
        ackedBy: [],
      };
    }
    case 'AlertUpdated': {
      if (!state) return state;
      const { summary, details, severity, labels, annotations, links, custom, repeatCount, seenAt } = event.data;
      return {
        ...state,
        summary,
        details,
        severity,
        labels,
        annotations,
        links,
        custom,
        repeatCount,
        unrecordedRepeats: 0,
        recordedAt: seenAt,
      };
    }
    case 'AlertRepeated': {
      const { repeatCount, seenAt, links, custom } = event.data;
      return state && { ...state, repeatCount, links, custom, unrecordedRepeats: 0, recordedAt: seenAt };
    }
    case 'RepeatSeen':
      return state && { ...state, unrecordedRepeats: state.unrecordedRepeats + 1 };
    case 'AlertAcknowledged': {
      const userId = event.data.userId;
      return (
        state && {
          ...state,
          status: 'acknowledged',
          ackedBy: userId && !state.ackedBy.includes(userId) ? [...state.ackedBy, userId] : state.ackedBy,
        }
      );
    }
    case 'AlertSnoozed':
      return state && { ...state, status: 'snoozed' };
    case 'AlertUnacknowledged':
      return state && { ...state, status: 'triggered', ackedBy: [] };
    case 'AlertEscalated':
      return state;
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
  switch (signal.status) {
    case 'resolved':
      if (!state) return [];
      return [{ type: 'AlertResolved', data: { ...ref(state), by: 'source', userId: null, note: '', endsAt: signal.endsAt } }];
    case 'acknowledged':
      if (!state || state.status === 'acknowledged') return [];
      return [{ type: 'AlertAcknowledged', data: { ...ref(state), by: 'source', userId: null, note: '' } }];
    case 'firing':
      break;
    default: {
      const _never: never = signal.status;
      return _never;
    }
  }
  const content: Content = {
    summary: signal.summary,
    details: signal.details,
    severity: signal.severity,
    labels: signal.labels,
    annotations: signal.annotations,
    links: signal.links,
    custom: signal.custom,
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
          links: [...content.links],
          startsAt: signal.startsAt,
          generatorUrl: signal.generatorUrl,
          seenAt: ctx.now,
        },
      },
    ];
  }
  const changed = changedFields(state, content);
  if (changed.length === 0) {
    if (Date.parse(ctx.now) - Date.parse(state.recordedAt) < REPEAT_RECORD_INTERVAL_MS) return [{ type: 'RepeatSeen', data: ref(state) }];
    return [
      {
        type: 'AlertRepeated',
        data: {
          ...ref(state),
          repeatCount: state.repeatCount + state.unrecordedRepeats + 1,
          seenAt: ctx.now,
          links: [...content.links],
          custom: content.custom,
        },
      },
    ];
  }
  return [
    {
      type: 'AlertUpdated',
      data: {
        ...ref(state),
        ...content,
        links: [...content.links],
        changed,
        repeatCount: state.repeatCount + state.unrecordedRepeats + 1,
        seenAt: ctx.now,
      },
    },
  ];
}

type Content = Pick<OpenAlert, 'summary' | 'details' | 'severity' | 'labels' | 'annotations' | 'links' | 'custom'>;

/**
 * What makes a repeat an update. Links and custom data are not compared: sources refresh them
 * on every send (Grafana's values and link time ranges), so they ride on AlertRepeated instead.
 */
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
