import type { AlertCommandKind, AlertSource, EventData, Link, Signal, Surface } from '@oncall/contracts';

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
  /** The last change a person (or the pipeline) made; absent in snapshots older than the field. */
  lastChange?: LastChange;
}>;

export type LastChange = EventData<'AlertCommandDeclined'>['lastChange'] & {};
const changeOf = (action: string, d: { userId: string | null; via?: Surface | undefined }): LastChange => ({
  action,
  userId: d.userId,
  ...(d.via && { via: d.via }),
});

/** Commands name the alert and its (service, fingerprint), which locate it in a partition. */
export type AlertTarget = { alertId: string; serviceId: string; fingerprint: string };
/** Who asked, and from where (null: the pipeline itself, e.g. an ack timeout). */
type Actor = { userId: string | null; via?: Surface };

export type AlertCommand =
  | Readonly<{ type: 'ReportSignal'; data: { serviceId: string; source: AlertSource; signal: Signal } }>
  | Readonly<{ type: 'AcknowledgeAlert'; data: AlertTarget & Actor & { note: string } }>
  | Readonly<{ type: 'ResolveAlert'; data: AlertTarget & Actor & { note: string } }>
  | Readonly<{ type: 'SnoozeAlert'; data: AlertTarget & Actor & { note: string; until: string } }>
  | Readonly<{ type: 'EscalateAlert'; data: AlertTarget & Actor & { note: string } }>
  | Readonly<{ type: 'UnacknowledgeAlert'; data: AlertTarget & Actor & { reason: string } }>;

export type DecidedEvent =
  | Readonly<{ type: 'AlertTriggered'; data: EventData<'AlertTriggered'> }>
  | Readonly<{ type: 'AlertUpdated'; data: EventData<'AlertUpdated'> }>
  | Readonly<{ type: 'AlertRepeated'; data: EventData<'AlertRepeated'> }>
  | Readonly<{ type: 'AlertAcknowledged'; data: EventData<'AlertAcknowledged'> }>
  | Readonly<{ type: 'AlertResolved'; data: EventData<'AlertResolved'> }>
  | Readonly<{ type: 'AlertSnoozed'; data: EventData<'AlertSnoozed'> }>
  | Readonly<{ type: 'AlertEscalated'; data: EventData<'AlertEscalated'> }>
  | Readonly<{ type: 'AlertUnacknowledged'; data: EventData<'AlertUnacknowledged'> }>
  | Readonly<{ type: 'AlertCommandDeclined'; data: EventData<'AlertCommandDeclined'> }>
  /**
   * A repeat that changed nothing and is not yet due to be recorded: it updates the count in
   * memory and is never appended (see `isRecorded`).
   */
  | Readonly<{ type: 'RepeatSeen'; data: AlertTarget }>;

/** Whether a decided event goes to the log (everything but RepeatSeen). */
export const isRecorded = (e: DecidedEvent): e is Exclude<DecidedEvent, { type: 'RepeatSeen' }> => e.type !== 'RepeatSeen';

export type DecideContext = Readonly<{ now: string; newAlertId: () => string }>;

const COMMAND_WORD = {
  AcknowledgeAlert: 'acknowledge',
  ResolveAlert: 'resolve',
  SnoozeAlert: 'snooze',
  EscalateAlert: 'escalate',
  UnacknowledgeAlert: 'unacknowledge',
} as const satisfies Record<Exclude<AlertCommand['type'], 'ReportSignal'>, AlertCommandKind>;

/**
 * Every command gets exactly one answer: the lifecycle event it causes, or AlertCommandDeclined
 * saying why nothing changed. Acknowledging twice is not an error (the second is `unchanged`);
 * a second person acknowledging an acknowledged alert is recorded (untilAllAck steps count them).
 */
export function decide(command: AlertCommand, state: OpenAlert | undefined, ctx: DecideContext): DecidedEvent[] {
  if (command.type === 'ReportSignal') return decideSignal(command.data, state, ctx);
  const d = command.data;
  const open = state?.alertId === d.alertId ? state : undefined;
  const decline = (reason: 'closed' | 'unchanged' | 'invalid', message: string): DecidedEvent[] => [
    {
      type: 'AlertCommandDeclined',
      data: {
        alertId: d.alertId,
        serviceId: d.serviceId,
        fingerprint: d.fingerprint,
        command: COMMAND_WORD[command.type],
        userId: d.userId,
        ...(d.via && { via: d.via }),
        reason,
        message,
        status: open ? open.status : 'resolved',
        lastChange: open?.lastChange ?? null,
      },
    },
  ];
  if (!open) return decline('closed', `alert ${d.alertId} is not open: it was resolved`);
  const actor = { userId: d.userId, ...(d.via && { via: d.via }) };
  switch (command.type) {
    case 'AcknowledgeAlert': {
      const { userId } = command.data;
      if (open.status === 'acknowledged' && (userId === null || open.ackedBy.includes(userId)))
        return decline('unchanged', 'already acknowledged');
      return [{ type: 'AlertAcknowledged', data: { ...ref(open), by: 'user', ...actor, note: command.data.note } }];
    }
    case 'ResolveAlert':
      return [{ type: 'AlertResolved', data: { ...ref(open), by: 'user', ...actor, note: command.data.note, endsAt: null } }];
    case 'SnoozeAlert': {
      const { note, until } = command.data;
      // Also an end that is not a time (NaN compares false).
      if (!(Date.parse(until) > Date.parse(ctx.now))) return decline('invalid', `snooze until ${until || '(none)'} is not in the future`);
      return [{ type: 'AlertSnoozed', data: { ...ref(open), ...actor, note, until } }];
    }
    case 'EscalateAlert':
      return [{ type: 'AlertEscalated', data: { ...ref(open), ...actor, note: command.data.note } }];
    case 'UnacknowledgeAlert':
      // Idempotent: a reopen that races with a new trigger or another reopen changes nothing.
      if (open.status === 'triggered') return decline('unchanged', 'already open and not acknowledged');
      return [{ type: 'AlertUnacknowledged', data: { ...ref(open), ...actor, reason: command.data.reason } }];
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
          lastChange: changeOf('acknowledged', event.data),
        }
      );
    }
    case 'AlertSnoozed':
      return state && { ...state, status: 'snoozed', lastChange: changeOf('snoozed', event.data) };
    case 'AlertUnacknowledged':
      return state && { ...state, status: 'triggered', ackedBy: [], lastChange: changeOf('unacknowledged', event.data) };
    case 'AlertEscalated':
      return state && { ...state, lastChange: changeOf('escalated', event.data) };
    case 'AlertCommandDeclined':
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
    // A person's manual alert (CreateAlert) is always recorded: the API answers with the event it caused.
    if (source !== 'manual' && Date.parse(ctx.now) - Date.parse(state.recordedAt) < REPEAT_RECORD_INTERVAL_MS)
      return [{ type: 'RepeatSeen', data: ref(state) }];
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

/** Key of an open alert inside a partition's state. */
export const alertKey = (serviceId: string, fingerprint: string): string => `${serviceId}\n${fingerprint}`;
