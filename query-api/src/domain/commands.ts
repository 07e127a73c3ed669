import type { EventData } from '@oncall/contracts';

/**
 * What query-api can tell about an alert command before and while the decider decides it. The
 * decider (ingest/src/domain/alert.ts) is the authority; these rules only let a command answer
 * without waiting for an event that will never come (a repeated acknowledgement, a reopen of a
 * triggered alert, a command that raced with a resolve).
 */

export type CommandKind = EventData<'AlertCommandReceived'>['command'];
export type AlertStatusWord = 'triggered' | 'acknowledged' | 'snoozed' | 'resolved';

/** The alert as the read model shows it. */
export type CommandTarget = Readonly<{
  status: AlertStatusWord;
  /** Users who acknowledged since the alert last opened (only needed while it is acknowledged). */
  acknowledgedSinceOpen: readonly string[];
}>;

/**
 * - `change`: the decider will record an event for the command.
 * - `unchanged`: the decider will record nothing and the alert already is as the command wants.
 * - `rejected`: the alert is resolved; the decider ignores commands for closed alerts.
 */
export type Outcome = 'change' | 'unchanged' | 'rejected';

export function expectedOutcome(command: CommandKind, userId: string, target: CommandTarget): Outcome {
  if (target.status === 'resolved') return 'rejected';
  switch (command) {
    case 'acknowledge':
      return target.status === 'acknowledged' && target.acknowledgedSinceOpen.includes(userId) ? 'unchanged' : 'change';
    case 'unacknowledge':
      return target.status === 'triggered' ? 'unchanged' : 'change';
    case 'resolve':
    case 'snooze':
    case 'escalate':
      return 'change';
    default: {
      const _never: never = command;
      return _never;
    }
  }
}

/** An event of the alert that another command or a source caused. */
export type ForeignEvent = Readonly<{ type: string; userId: string | null }>;

/**
 * What an event caused by something else, seen on the alert's subject before the command's own
 * event, means for the command. Events of one alert are appended in the order the decider decided
 * their causes, so a foreign event seen first was decided first.
 *
 * - `pending`: the command may still change the alert; keep waiting for its event.
 * - `unchanged`: the command will change nothing (the alert already is as it wants).
 * - `rejected`: the alert was resolved first; the decider will ignore the command.
 */
export function afterForeignEvent(command: CommandKind, userId: string, event: ForeignEvent): Outcome | 'pending' {
  if (event.type === 'AlertResolved') return command === 'resolve' ? 'unchanged' : 'rejected';
  if (command === 'acknowledge' && event.type === 'AlertAcknowledged' && event.userId === userId) return 'unchanged';
  if (command === 'unacknowledge' && event.type === 'AlertUnacknowledged') return 'unchanged';
  return 'pending';
}

/** The lifecycle status a command leads to, for UpdateAlertStatus. */
export const COMMAND_FOR_STATUS: Readonly<Partial<Record<AlertStatusWord, CommandKind>>> = {
  triggered: 'unacknowledge',
  acknowledged: 'acknowledge',
  resolved: 'resolve',
};

/**
 * The idempotency key of a command: the client's request id when it gave one; else its content,
 * its user and the alert's last projected event, so a retry of the same command against the same
 * alert state is appended once, while the same command issued again after the alert changed (a
 * second escalation) is a new command.
 */
export function commandKey(c: {
  alertId: string;
  command: CommandKind;
  userId: string;
  note: string;
  requestId: string;
  snoozeSeconds: number | null;
  lastEventSeq: number;
}): string {
  if (c.requestId !== '') return `query-api:${c.alertId}:${c.command}:request:${c.requestId}`;
  return `query-api:${c.alertId}:${c.command}:${JSON.stringify([c.userId, c.note, c.snoozeSeconds, c.lastEventSeq])}`;
}
