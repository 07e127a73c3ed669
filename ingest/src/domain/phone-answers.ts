import type { CommandAnswer } from '@oncall/shared';

/**
 * What a person hears or reads back after answering a page by SMS or phone: the decider's
 * answer in words. Pure; the lifecycle rules are the decider's, this only phrases them.
 */

const DONE: Readonly<Record<string, string>> = {
  AlertAcknowledged: 'Acknowledged',
  AlertResolved: 'Resolved',
  AlertEscalated: 'Escalated',
  AlertSnoozed: 'Snoozed',
  AlertUnacknowledged: 'Reopened',
};

/** "by alice (slack)", "by alice", or "" when nobody is known. */
function byWhom(lastChange: Extract<CommandAnswer, { outcome: 'declined' }>['lastChange']): string {
  if (lastChange === null || lastChange.userId === null) return '';
  const via = lastChange.via && lastChange.via !== 'api' && lastChange.via !== 'system' ? ` (${lastChange.via})` : '';
  return ` by ${lastChange.userId}${via}`;
}

/** "Acknowledged: <summary>", "Already resolved by alice (slack)". */
export function answerText(answer: CommandAnswer, summary: string): string {
  if (answer.outcome === 'changed') return `${DONE[answer.event.type] ?? 'Done'}: ${summary}`;
  switch (answer.reason) {
    case 'closed':
    case 'unchanged':
      return answer.status === 'triggered'
        ? `Nothing changed: ${answer.message}`
        : `Already ${answer.status}${byWhom(answer.lastChange)}: ${summary}`;
    case 'invalid':
      return `Not done: ${answer.message}`;
    default: {
      const _never: never = answer.reason;
      return _never;
    }
  }
}

/** The spoken form: shorter, no summary (the call already read it). */
export function answerSpeech(answer: CommandAnswer): string {
  if (answer.outcome === 'changed') return `${DONE[answer.event.type] ?? 'Done'}. Goodbye.`;
  if (answer.status === 'triggered' || answer.reason === 'invalid') return `Nothing changed. ${answer.message} Goodbye.`;
  return `This alert is already ${answer.status}${byWhom(answer.lastChange)}. Goodbye.`;
}

export const SMS_HELP =
  'On-call alerts. Reply with the code of a page and a letter: a to acknowledge, c to resolve, e to escalate (e.g. 4a). STOP to stop texts, START to resume.';
export const SMS_STOPPED = 'You will no longer receive on-call texts at this number. Reply START to receive them again.';
export const SMS_STARTED = 'You will receive on-call texts at this number again.';

export function unknownCodeText(code: number): string {
  return `Code ${code} is not a page sent to this number (or it has expired). ${SMS_HELP}`;
}
