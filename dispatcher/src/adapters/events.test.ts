import { describe, expect, it } from 'vitest';
import { decodeEvent, isUnstorable, type DomainEvent } from '@oncall/contracts';
import { ManualClock, type StreamAppender } from '@oncall/shared';
import { DeliveryError } from '../notifiers/index.js';
import { attempt } from '../pipeline/testing.js';
import { deliveryEvents } from './events.js';

/** What an appender was asked to append, decoded (the events' own schemas validate them). */
function capture() {
  const appended: Array<{ subject: string; event: DomainEvent; msgID?: string }> = [];
  const appender = {
    append: async (subject: string, data: Uint8Array, opts: { msgID?: string } = {}) => {
      appended.push({ subject, event: decodeEvent(data), msgID: opts.msgID });
      return { seq: appended.length, duplicate: false };
    },
  } as unknown as StreamAppender;
  return { appended, events: deliveryEvents(appender, new ManualClock(Date.parse('2026-12-01T10:00:00Z'))) };
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : [];

describe('delivery events', () => {
  const slack = { channel: 'slack', address: 'C\ud800NOC', idempotencyKey: 'n-1:slack', fallback: null } as const;

  it('text from outside is made storable (no NUL, no lone surrogate), and the id derives from the idempotency key', async () => {
    const { appended, events } = capture();
    const a = attempt({ delivery: slack, partition: 3 });
    await events.delivered(a, { kind: 'sent', providerMessageId: 'C1/\u00001.1', bundled: 1, recorded: false }, 1);
    const error = new DeliveryError({ channel: 'slack', reason: 'bad_request', retryable: false, providerCode: 'msg_too_long' });
    await events.failed(a, { kind: 'failed', reason: 'bad_request', error, fallback: true, recordedAt: null }, 2);
    expect(appended.map((x) => x.subject)).toStrictEqual([
      `deliveries.3.${a.notification.alertId}`,
      `deliveries.3.${a.notification.alertId}`,
    ]);
    expect(appended.map((x) => x.event.id === x.msgID)).toStrictEqual([true, true]);
    expect(appended[0]?.event.data).toMatchObject({ providerMessageId: 'C1/\ufffd1.1', destination: 'C\ufffdNOC', attempts: 1 });
    expect(appended[1]?.event.data).toMatchObject({
      error: 'slack delivery failed: bad_request (provider code msg_too_long)',
      fallback: null,
    });
    expect(appended.flatMap((x) => strings(x.event)).filter(isUnstorable)).toStrictEqual([]);
  });
});
