import { describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../domain/record.js';
import type { DeliveryAttempt, Outcome } from './attempt.js';
import { record, type DeliveryEvents } from './record.js';
import { attempt, failed, recordingNext, sent, silent } from './testing.js';

function setup() {
  const log: string[] = [];
  const events: DeliveryEvents = {
    delivered: async (a, o, attempts) => void log.push(`delivered ${a.delivery.channel} attempts=${attempts} bundled=${o.bundled}`),
    failed: async (a, o, attempts) => void log.push(`failed ${a.delivery.channel} ${o.reason} attempts=${attempts}`),
  };
  const held = (): Pick<DeliveryAttempt, 'claim'> => ({
    claim: { settle: async (r: DeliveryRecord) => void log.push(`settle ${JSON.stringify(r)}`) },
  });
  return { log, held, stage: record(events, silent) };
}

describe('record', () => {
  it.each<[string, Outcome, number, string[]]>([
    [
      'a send: the record, then NotificationDelivered',
      { ...sent, bundled: 3 } as Outcome,
      2,
      ['settle {"state":"sent","providerMessageId":"C1/1.0001"}', 'delivered slack attempts=2 bundled=3'],
    ],
    [
      'a failure for good: the record with the delivery it failed at, then NotificationFailed',
      failed('invalid_destination'),
      2,
      ['settle {"state":"failed","delivery":2,"reason":"invalid_destination"}', 'failed slack invalid_destination attempts=2'],
    ],
    [
      'a send an earlier try recorded: its event only, the attempt before this one',
      { ...sent, recorded: true } as Outcome,
      3,
      ['delivered slack attempts=2 bundled=1'],
    ],
    [
      'a failure an earlier try recorded: its event only, counted to the delivery it failed at',
      { ...(failed('bad_request') as Extract<Outcome, { kind: 'failed' }>), recordedAt: 2 },
      3,
      ['failed slack bad_request attempts=2'],
    ],
    ['a retry: nothing yet', { kind: 'retry', inMs: 5 }, 1, []],
  ])('%s', async (_, outcome, delivery, expected) => {
    const { log, held, stage } = setup();
    expect(await stage(attempt({ ...held(), try: { delivery, base: 1 } }), recordingNext(outcome))).toBe(outcome);
    expect(log).toStrictEqual(expected);
  });

  it('an outcome for a delivery this process has not claimed is a bug, not a record', async () => {
    const { stage } = setup();
    await expect(stage(attempt(), recordingNext(sent))).rejects.toThrow(/not claimed/);
  });
});
