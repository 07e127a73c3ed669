import { describe, expect, it } from 'vitest';
import { ManualClock } from '@oncall/shared';
import { DeliveryError, type Notifiers } from '../notifiers/index.js';
import { send } from './send.js';
import { attempt } from './testing.js';

const message = { text: 'API down', blocks: [] };

function slack(answer: () => Promise<{ providerMessageId: string | null }>) {
  const calls: Array<{ destination: string; idempotencyKey: string }> = [];
  const notifiers: Notifiers = {
    slack: {
      channel: 'slack',
      notify: async (_m, destination, opts) => {
        calls.push({ destination, idempotencyKey: opts.idempotencyKey });
        return answer();
      },
    },
  };
  return { calls, notifiers };
}

describe('send', () => {
  const clock = new ManualClock(2_000_000);
  const opts = { retryBaseMs: 100 };

  it('one call of the notifier; the provider id and how many notifications the message stood for', async () => {
    const { calls, notifiers } = slack(async () => ({ providerMessageId: 'C1/1.1' }));
    const a = attempt({ message });
    const o = await send(notifiers, clock, opts)({ ...a, items: [a.notification, a.notification] });
    expect(o).toStrictEqual({ kind: 'sent', providerMessageId: 'C1/1.1', bundled: 2, recorded: false });
    expect(calls).toStrictEqual([{ destination: 'U0ADA', idempotencyKey: 'n-1:slack' }]);
  });

  it('a DeliveryError is the outcome', async () => {
    const error = new DeliveryError({ channel: 'slack', reason: 'rate_limited', retryable: true, retryAfterMs: 3000 });
    const { notifiers } = slack(() => Promise.reject(error));
    expect(await send(notifiers, clock, opts)(attempt({ message }))).toStrictEqual({
      kind: 'failed',
      reason: 'rate_limited',
      error,
      fallback: true,
      recordedAt: null,
    });
  });

  it('anything else a notifier throws is a bug and propagates (the message is parked)', async () => {
    const { notifiers } = slack(() => Promise.reject(new TypeError('undefined is not a function')));
    await expect(send(notifiers, clock, opts)(attempt({ message }))).rejects.toThrow(TypeError);
  });

  it('a channel without a notifier fails for good as channel_not_configured', async () => {
    expect(await send({}, clock, opts)(attempt({ message }))).toMatchObject({ kind: 'failed', reason: 'channel_not_configured' });
  });

  it('nothing is sent once the claim was taken over', async () => {
    const { calls, notifiers } = slack(async () => ({ providerMessageId: null }));
    const lost = new AbortController();
    lost.abort();
    expect(await send(notifiers, clock, opts)(attempt({ message, signal: lost.signal }))).toStrictEqual({ kind: 'retry', inMs: 100 });
    expect(calls).toHaveLength(0);
  });
});
