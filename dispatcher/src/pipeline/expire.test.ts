import { describe, expect, it } from 'vitest';
import { ManualClock } from '@oncall/shared';
import { expire } from './expire.js';
import { attempt, recordingNext } from './testing.js';

describe('expire', () => {
  const HOUR = 3600_000;
  it.each<[string, { requestedAt: number; mayExpire: boolean }, string]>([
    ['a fresh page is sent', { requestedAt: 10 * HOUR - 1000, mayExpire: true }, 'sent'],
    ['exactly the limit is still sent', { requestedAt: 9 * HOUR, mayExpire: true }, 'sent'],
    ['a page first tried an hour late fails as expired', { requestedAt: 9 * HOUR - 1, mayExpire: true }, 'failed'],
    ['a fallback or a retry by hand never expires', { requestedAt: 0, mayExpire: false }, 'sent'],
  ])('%s', async (_, over, kind) => {
    const next = recordingNext();
    const o = await expire(new ManualClock(10 * HOUR), { staleAfterMs: HOUR })(attempt(over), next);
    expect(o.kind).toBe(kind);
    if (o.kind === 'failed') expect(o).toMatchObject({ reason: 'expired', fallback: false, recordedAt: null });
    expect(next.calls).toHaveLength(kind === 'sent' ? 1 : 0);
  });
});
