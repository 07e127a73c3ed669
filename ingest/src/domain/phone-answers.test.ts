import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '@oncall/contracts';
import type { CommandAnswer } from '@oncall/shared';
import { answerSpeech, answerText } from './phone-answers.js';

const changed = (type: string): CommandAnswer => ({ outcome: 'changed', event: { type } as AlertEvent, seq: 1, intakeSeq: 1 });
const declined = (
  reason: 'closed' | 'unchanged' | 'invalid',
  status: 'triggered' | 'acknowledged' | 'snoozed' | 'resolved',
  lastChange: { action: string; userId: string | null; via?: 'slack' | 'sms' | 'api' } | null,
  message = 'the alert is resolved',
): CommandAnswer => ({ outcome: 'declined', reason, status, lastChange, message, seq: 1, intakeSeq: 1 });

describe('answerText / answerSpeech', () => {
  it.each<[string, CommandAnswer, string, string]>([
    ['an acknowledgement', changed('AlertAcknowledged'), 'Acknowledged: Disk full', 'Acknowledged. Goodbye.'],
    ['a resolve', changed('AlertResolved'), 'Resolved: Disk full', 'Resolved. Goodbye.'],
    ['an escalation', changed('AlertEscalated'), 'Escalated: Disk full', 'Escalated. Goodbye.'],
    [
      'a closed alert resolved in Slack',
      declined('closed', 'resolved', { action: 'resolved', userId: 'alice', via: 'slack' }),
      'Already resolved by alice (slack): Disk full',
      'This alert is already resolved by alice (slack). Goodbye.',
    ],
    [
      'an ack repeated, through the API',
      declined('unchanged', 'acknowledged', { action: 'acknowledged', userId: 'bob', via: 'api' }),
      'Already acknowledged by bob: Disk full',
      'This alert is already acknowledged by bob. Goodbye.',
    ],
    [
      'resolved by its source',
      declined('closed', 'resolved', null),
      'Already resolved: Disk full',
      'This alert is already resolved. Goodbye.',
    ],
    [
      'an invalid command',
      declined('invalid', 'triggered', null, 'nothing to escalate to.'),
      'Not done: nothing to escalate to.',
      'Nothing changed. nothing to escalate to. Goodbye.',
    ],
  ])('%s', (_, answer, text, speech) => {
    expect(answerText(answer, 'Disk full')).toBe(text);
    expect(answerSpeech(answer)).toBe(speech);
  });
});
