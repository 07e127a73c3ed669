import type { AlertCommandKind } from '@oncall/contracts';

export type AlertStatusWord = 'triggered' | 'acknowledged' | 'snoozed' | 'resolved';

/** The command UpdateAlertStatus stands for, by the status it asks for. */
export const COMMAND_FOR_STATUS: Readonly<Partial<Record<AlertStatusWord, AlertCommandKind>>> = {
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
  command: AlertCommandKind;
  userId: string;
  note: string;
  requestId: string;
  snoozeSeconds: number | null;
  lastEventSeq: number;
}): string {
  if (c.requestId !== '') return `query-api:${c.alertId}:${c.command}:request:${c.requestId}`;
  return `query-api:${c.alertId}:${c.command}:${JSON.stringify([c.userId, c.note, c.snoozeSeconds, c.lastEventSeq])}`;
}
