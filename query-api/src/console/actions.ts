import type { AlertCommandKind } from '@oncall/contracts';
import type { ActionRequest, AlertStatusWord, ConsoleAction } from '@oncall/contracts';
import type { AlertCommandInput } from '../adapters/alert-commands.js';
import { HttpError } from './http-errors.js';

/** What a person may do to an alert in each status (the decider's rules: ingest/src/domain/alert.ts). */
const ACTIONS_BY_STATUS: Readonly<Record<AlertStatusWord, readonly ConsoleAction[]>> = {
  triggered: ['acknowledge', 'resolve', 'escalate', 'snooze'],
  acknowledged: ['unacknowledge', 'resolve', 'escalate', 'snooze'],
  snoozed: ['acknowledge', 'unacknowledge', 'resolve', 'escalate', 'snooze'],
  resolved: [],
};

/** The buttons the alert page shows: none without the right to act. */
export const actionsFor = (status: AlertStatusWord, mayAct: boolean): readonly ConsoleAction[] => (mayAct ? ACTIONS_BY_STATUS[status] : []);

const COMMAND: Readonly<Record<ConsoleAction, AlertCommandKind>> = {
  acknowledge: 'acknowledge',
  unacknowledge: 'unacknowledge',
  resolve: 'resolve',
  escalate: 'escalate',
  snooze: 'snooze',
};

/**
 * A console action as the one command path's input: the session's user as actor, `via: console`.
 * `minutes` belongs to snooze only, and snooze needs it (400 naming `minutes`).
 */
export function commandOf(alertId: string, req: ActionRequest, userId: string): AlertCommandInput {
  if (req.action === 'snooze' && req.minutes === undefined)
    throw new HttpError(400, 'minutes: a snooze needs its length in minutes', 'minutes');
  if (req.action !== 'snooze' && req.minutes !== undefined)
    throw new HttpError(400, `minutes: only a snooze has a length, not ${req.action}`, 'minutes');
  return {
    alertId,
    command: COMMAND[req.action],
    userId,
    note: req.note ?? '',
    requestId: '',
    snoozeSeconds: req.action === 'snooze' ? req.minutes! * 60 : null,
    via: 'console',
  };
}

/** What an action's outcome reads as, by action (the page shows it). */
const DONE: Readonly<Record<ConsoleAction, string>> = {
  acknowledge: 'acknowledged',
  unacknowledge: 'unacknowledged',
  resolve: 'resolved',
  escalate: 'escalated to the next step',
  snooze: 'snoozed',
};
export const doneMessage = (action: ConsoleAction, status: AlertStatusWord): string => `${DONE[action]}; the alert is ${status}`;

/** A canonical alert id (UUID); 400 otherwise. */
export function alertIdOf(text: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text))
    throw new HttpError(400, 'id: is not an alert id (a UUID)', 'id');
  return text.toLowerCase();
}
