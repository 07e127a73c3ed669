import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '@oncall/shared';
import type { Outcome } from './attempt.js';
import { rateLimit } from './rate-limit.js';
import { attempt, recordingNext, sent } from './testing.js';

describe('rate limit (per provider)', () => {
  const setup = (stopping = new AbortController().signal) => {
    const clock = new ManualClock(0);
    const stage = rateLimit(clock, { perProvider: { slack: { capacity: 1, perMinute: 60 } }, retryBaseMs: 50 }, stopping);
    return { clock, stage };
  };

  it("waits for the provider's next token", async () => {
    const { clock, stage } = setup();
    const next = recordingNext();
    await stage(attempt(), next);
    let done: Outcome | undefined;
    void stage(attempt(), next).then((o) => (done = o));
    clock.advance(999);
    await tick();
    expect(done).toBeUndefined();
    clock.advance(1);
    await tick();
    expect(done).toBe(sent);
    expect(next.calls).toHaveLength(2);
  });

  it('a channel without a provider limit never waits', async () => {
    const { stage } = setup();
    const next = recordingNext();
    const email = attempt({ delivery: { channel: 'email', address: 'a@x', idempotencyKey: 'k', fallback: null } });
    for (let i = 0; i < 5; i++) await stage(email, next);
    expect(next.calls).toHaveLength(5);
  });

  it.each(['the process stops', 'the claim is taken over'])('a wait cut short because %s hands the attempt back', async (why) => {
    const stop = new AbortController();
    const lost = new AbortController();
    const { stage } = setup(stop.signal);
    const next = recordingNext();
    await stage(attempt(), next);
    const waiting = stage(attempt({ signal: lost.signal }), next);
    (why === 'the process stops' ? stop : lost).abort();
    expect(await waiting).toStrictEqual({ kind: 'retry', inMs: 50 });
    expect(next.calls).toHaveLength(1);
  });
});
