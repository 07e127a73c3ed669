import { describe, expect, it } from 'vitest';
import type { Outcome } from './attempt.js';
import { retry } from './retry.js';
import { attempt, failed, recordingNext, sent, silent } from './testing.js';

describe('retry', () => {
  const opts = { maxAttempts: 3, retryBaseMs: 1000, retryMaxMs: 60_000 };
  const recordedFailure: Outcome = { ...(failed('provider_unavailable', true) as Extract<Outcome, { kind: 'failed' }>), recordedAt: 1 };
  it.each<[string, Outcome, number, object]>([
    ['a send goes through', sent, 1, { kind: 'sent' }],
    ['a permanent failure is final', failed('invalid_destination', false), 1, { kind: 'failed' }],
    ['a retryable failure on attempt 1 waits 1 s, with jitter', failed('provider_unavailable', true), 1, { kind: 'retry', inMs: 1000 }],
    ['on attempt 2 it waits twice as long', failed('provider_unavailable', true), 2, { kind: 'retry', inMs: 2000 }],
    ["the provider's Retry-After wins when longer", failed('rate_limited', true, 30_000), 1, { kind: 'retry', inMs: 30_000 }],
    ['the last attempt is final', failed('provider_unavailable', true), 3, { kind: 'failed' }],
    ['a failure an earlier try recorded is not tried again', recordedFailure, 1, { kind: 'failed' }],
  ])('%s', async (_, outcome, delivery, expected) => {
    const stage = retry(opts, silent, () => 0.999_999);
    expect(await stage(attempt({ try: { delivery, base: 1 } }), recordingNext(outcome))).toMatchObject(expected);
  });

  it('counts attempts from where the delivery began (a fallback)', async () => {
    const stage = retry(opts, silent, () => 0.999_999);
    const o = await stage(attempt({ try: { delivery: 5, base: 4 } }), recordingNext(failed('provider_unavailable', true)));
    expect(o).toMatchObject({ kind: 'retry', inMs: 2000 });
  });
});
