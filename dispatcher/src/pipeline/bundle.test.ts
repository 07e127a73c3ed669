import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '@oncall/shared';
import type { NotificationRequested } from '../domain/plan.js';
import { notificationRequested } from '@oncall/shared/render/testing';
import type { Outcome } from './attempt.js';
import { bundle } from './bundle.js';
import { attempt, recordingNext, sent } from './testing.js';

const page = (summary: string, priority: NotificationRequested['priority'] = 'high') => {
  const n = notificationRequested({ priority });
  return { ...n, alert: { ...n.alert, summary } };
};

describe('bundle (the per-destination rate limit)', () => {
  const setup = (stopping = new AbortController().signal) => {
    const clock = new ManualClock(0);
    const stage = bundle(
      clock,
      { perDestination: { slack: { capacity: 1, perMinute: 1 } }, bundleWindowMs: 10_000, retryBaseMs: 50 },
      stopping,
    );
    return { clock, stage };
  };

  it('a destination out of tokens collects for a window and gets one message for all of it', async () => {
    const { clock, stage } = setup();
    const next = recordingNext((a) => ({ ...(sent as Extract<Outcome, { kind: 'sent' }>), bundled: a.items.length }));
    expect(await stage(attempt({ notification: page('first') }), next)).toMatchObject({ bundled: 1 });
    const held = ['second', 'third'].map((s) => stage(attempt({ notification: page(s) }), next));
    clock.advance(9_999);
    await tick();
    expect(next.calls).toHaveLength(1);
    clock.advance(1);
    expect(await Promise.all(held)).toMatchObject([{ bundled: 2 }, { bundled: 2 }]);
    expect(next.calls.map((a) => a.items.map((n) => n.alert.summary))).toStrictEqual([['first'], ['second', 'third']]);
  });

  it.each<[string, Partial<Parameters<typeof attempt>[0]>, Partial<NotificationRequested>]>([
    ['critical pages', {}, { priority: 'critical' }],
    [
      'channels without a per-destination limit',
      { delivery: { channel: 'webhook', address: 'https://x', idempotencyKey: 'k', fallback: null } },
      {},
    ],
  ])('%s are never held', async (_, over, n) => {
    const { stage } = setup();
    const next = recordingNext();
    for (let i = 0; i < 3; i++) await stage(attempt(over, n), next);
    expect(next.calls).toHaveLength(3);
  });

  it('an attempt whose claim another process took over is left out of the bundle', async () => {
    const { clock, stage } = setup();
    const next = recordingNext();
    await stage(attempt({ notification: page('first') }), next);
    const lost = new AbortController();
    const gone = stage(attempt({ notification: page('gone'), signal: lost.signal }), next);
    const kept = stage(attempt({ notification: page('kept') }), next);
    lost.abort();
    clock.advance(10_000);
    expect(await gone).toStrictEqual({ kind: 'retry', inMs: 50 });
    expect(await kept).toBe(sent);
    expect(next.calls[1]?.items.map((n) => n.alert.summary)).toStrictEqual(['kept']);
  });

  it('what is collected is handed back when the process stops', async () => {
    const stop = new AbortController();
    const { stage } = setup(stop.signal);
    const next = recordingNext();
    await stage(attempt({ notification: page('first') }), next);
    const held = stage(attempt({ notification: page('second') }), next);
    stop.abort();
    expect(await held).toStrictEqual({ kind: 'retry', inMs: 50 });
    expect(await stage(attempt({ notification: page('late') }), next)).toStrictEqual({ kind: 'retry', inMs: 50 });
    expect(next.calls).toHaveLength(1);
  });

  it('an error of the bundled run reaches every attempt in it', async () => {
    const { clock, stage } = setup();
    await stage(attempt({ notification: page('first') }), recordingNext());
    const failing = recordingNext(() => Promise.reject(new TypeError('render bug')));
    const held = ['a', 'b'].map((s) => stage(attempt({ notification: page(s) }), failing));
    clock.advance(10_000);
    for (const h of held) await expect(h).rejects.toThrow('render bug');
  });
});
