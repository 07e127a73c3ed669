import type { AlertCommandKind, Surface } from '@oncall/contracts';
import type { AlertView, CommandAnswer } from '@oncall/shared';

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
