import type { CommandAnswer } from '@oncall/shared';
import type { SlackPress } from './payload.js';

/** How a person is named in an answer: their directory name, or their id. */
export type NameOf = (userId: string) => string;

const DONE: Readonly<Record<string, string>> = {
  AlertAcknowledged: 'acknowledged',
  AlertResolved: 'resolved',
  AlertSnoozed: 'snoozed',
  AlertEscalated: 'escalated',
  AlertUnacknowledged: 'reopened',
};

const PAST: Readonly<Record<string, string>> = {
  acknowledge: 'acknowledged',
  acknowledged: 'acknowledged',
  resolve: 'resolved',
  resolved: 'resolved',
  snooze: 'snoozed',
  snoozed: 'snoozed',
  escalate: 'escalated',
  escalated: 'escalated',
  unacknowledge: 'reopened',
  unacknowledged: 'reopened',
};

export const shortId = (alertId: string): string => alertId.slice(0, 8);

/** `alice (sms)`, `the source`, or `alice` when the surface is unknown. */
export function whoDid(change: Readonly<{ userId: string | null; via?: string | undefined }>, nameOf: NameOf): string {
  const who = change.userId === null ? 'the source' : nameOf(change.userId);
  return change.via && change.userId !== null ? `${who} (${change.via})` : who;
}

/** Slack's date formatting with a plain fallback. */
const slackDate = (iso: string): string => {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${iso}>` : iso;
};

/** What the person who pressed is told: what changed, or why nothing did. */
export function answerText(press: Pick<SlackPress, 'command' | 'target'>, answer: CommandAnswer, nameOf: NameOf): string {
  const alert = `alert \`${shortId(press.target.alertId)}\``;
  if (answer.outcome === 'changed') {
    const { event } = answer;
    const done = DONE[event.type] ?? 'changed';
    if (event.type === 'AlertSnoozed') return `You snoozed ${alert} until ${slackDate(event.data.until)}.`;
    if (event.type === 'AlertEscalated') return `You escalated ${alert}: the next step is being paged.`;
    return `You ${done} ${alert}.`;
  }
  const last = answer.lastChange;
  switch (answer.reason) {
    case 'closed':
      return last ? `Already resolved by ${whoDid(last, nameOf)}.` : `Already resolved: ${alert} is closed.`;
    case 'unchanged': {
      const what = last ? (PAST[last.action] ?? answer.status) : answer.status;
      return last ? `Already ${what} by ${whoDid(last, nameOf)}.` : `Nothing changed: ${alert} is already ${answer.status}.`;
    }
    case 'invalid':
      return `Could not ${press.command} ${alert}: ${answer.message}`;
    default: {
      const _never: never = answer.reason;
      return _never;
    }
  }
}

export const NOT_LINKED =
  'Your Slack account is not linked to an on-call user, so nothing was changed. Ask an admin to add your Slack member id to your on-call profile.';

export const NO_ANSWER = 'Your command was recorded, but no answer came in time. Check the alert before pressing again.';
export const NOT_APPENDED = 'Your command could not be recorded (the event log did not take it). Nothing changed; please try again.';
export const NO_DIRECTORY = 'Could not check who you are (the user directory did not answer). Nothing changed; please try again.';
