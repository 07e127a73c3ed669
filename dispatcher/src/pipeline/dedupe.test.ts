import { describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../domain/record.js';
import { dedupe } from './dedupe.js';
import { attempt, recordingNext } from './testing.js';

describe('dedupe', () => {
  it.each<[string, DeliveryRecord | null, object, number]>([
    ['nothing recorded: on to the send', null, { kind: 'sent', recorded: false }, 1],
    [
      'sent before: the same outcome, recorded',
      { state: 'sent', providerMessageId: 'C1/9.9' },
      { kind: 'sent', providerMessageId: 'C1/9.9', recorded: true },
      0,
    ],
    [
      'failed for good before: the same failure, with the delivery it failed at',
      { state: 'failed', delivery: 3, reason: 'invalid_destination' },
      { kind: 'failed', reason: 'invalid_destination', fallback: true, recordedAt: 3 },
      0,
    ],
    ['in hand elsewhere: tried again later', { state: 'sending', since: 5 }, { kind: 'retry', inMs: 250 }, 0],
  ])('%s', async (_, earlier, expected, sends) => {
    const next = recordingNext();
    expect(await dedupe({ retryBaseMs: 250 })(attempt({ earlier }), next)).toMatchObject(expected);
    expect(next.calls).toHaveLength(sends);
  });
});
