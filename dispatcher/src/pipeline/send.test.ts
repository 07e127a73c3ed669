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

  it.each([
    { name: 'found: recorded as sent with its id, not sent again', found: { providerMessageId: 'C1/9.9' }, calls: 0, kind: 'sent' },
    { name: 'not found: sent', found: null, calls: 1, kind: 'sent' },
  ])('taken over from a process that stopped mid-send, the provider is asked first — $name', async ({ found, calls: sent, kind }) => {
    const { calls, notifiers } = slack(async () => ({ providerMessageId: 'C1/1.1' }));
    const asked: Array<[string, string, number]> = [];
    notifiers.slack!.find = async (destination, key, since) => {
      asked.push([destination, key, since]);
      return found;
    };
    const a = attempt({ message, takenOver: true });
    const o = await send(notifiers, clock, opts)(a);
    expect(o).toMatchObject({ kind, providerMessageId: found?.providerMessageId ?? 'C1/1.1' });
    expect(asked).toStrictEqual([['U0ADA', 'n-1:slack', a.requestedAt - 1000]]);
    expect(calls).toHaveLength(sent);
  });

  it('a delivery claimed afresh is not looked up', async () => {
    const { notifiers } = slack(async () => ({ providerMessageId: 'C1/1.1' }));
    notifiers.slack!.find = () => Promise.reject(new Error('must not be asked'));
    expect(await send(notifiers, clock, opts)(attempt({ message }))).toMatchObject({ kind: 'sent' });
  });

  it('nothing is sent once the claim was taken over', async () => {
    const { calls, notifiers } = slack(async () => ({ providerMessageId: null }));
    const lost = new AbortController();
    lost.abort();
    expect(await send(notifiers, clock, opts)(attempt({ message, signal: lost.signal }))).toStrictEqual({ kind: 'retry', inMs: 100 });
    expect(calls).toHaveLength(0);
  });
});
