import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '@oncall/shared';
import type { DeliveryRecord } from '../domain/record.js';
import type { DeliveryAttempt, Outcome } from './attempt.js';
import { claim, ClaimLost, type Claim, type Records } from './claim.js';
import { attempt, recordingNext, sent, silent } from './testing.js';

/** Records in memory, for the stage's own logic (adapters/records.int.test.ts runs the KV ones). */
class MemoryRecords implements Records {
  readonly held = new Map<string, DeliveryRecord>();
  readonly log: string[] = [];
  refreshFails: Error | null = null;

  async claim(key: string): Promise<{ claimed: Claim } | { found: DeliveryRecord }> {
    const found = this.held.get(key);
    if (found) return { found };
    this.held.set(key, { state: 'sending', since: 0 });
    this.log.push(`claim ${key}`);
    return { claimed: { key, revision: 1 } };
  }
  async refresh(c: Claim): Promise<void> {
    this.log.push(`refresh ${c.key}`);
    if (this.refreshFails) throw this.refreshFails;
  }
  async settle(c: Claim, record: DeliveryRecord): Promise<void> {
    this.held.set(c.key, record);
    this.log.push(`settle ${c.key} ${record.state}`);
  }
  async release(c: Claim): Promise<void> {
    this.held.delete(c.key);
    this.log.push(`release ${c.key}`);
  }
}

function deferred() {
  let resolve!: (o: Outcome) => void;
  const promise = new Promise<Outcome>((r) => (resolve = r));
  return { promise, resolve };
}

describe('claim', () => {
  const setup = () => {
    const records = new MemoryRecords();
    const clock = new ManualClock(0);
    return { records, clock, stage: claim(records, clock, { claimStaleMs: 3000 }, silent) };
  };

  it('claims the delivery and hands the claim on; the record stage settles it', async () => {
    const { records, stage } = setup();
    const next = recordingNext(async (a) => {
      await a.claim?.settle({ state: 'sent', providerMessageId: null });
      return sent;
    });
    expect(await stage(attempt(), next)).toBe(sent);
    expect(next.calls[0]).toMatchObject({ earlier: null });
    expect(next.calls[0]?.claim).not.toBeNull();
    expect(records.log).toStrictEqual(['claim n-1:slack', 'settle n-1:slack sent']);
  });

  it('what an earlier try left goes on as `earlier`, without a claim', async () => {
    const { records, stage } = setup();
    records.held.set('n-1:slack', { state: 'failed', delivery: 2, reason: 'bad_request' });
    const next = recordingNext();
    await stage(attempt(), next);
    expect(next.calls[0]).toMatchObject({ earlier: { state: 'failed', delivery: 2 }, claim: null });
    expect(records.log).toStrictEqual([]);
  });

  it.each<[string, () => Promise<Outcome>]>([
    ['a retry', async () => ({ kind: 'retry', inMs: 10 })],
    [
      'an error',
      async () => {
        throw new TypeError('a bug');
      },
    ],
  ])('a claim that ends in %s is released, so the next try can claim it', async (_, answer) => {
    const { records, stage } = setup();
    await stage(attempt(), recordingNext(answer)).catch(() => undefined);
    expect(records.log).toStrictEqual(['claim n-1:slack', 'release n-1:slack']);
    expect(records.held.size).toBe(0);
  });

  it('a copy of a delivery in hand joins it instead of claiming again', async () => {
    const { records, stage } = setup();
    const d = deferred();
    const next = recordingNext(() => d.promise);
    const first = stage(attempt(), next);
    const copy = stage(attempt(), next);
    d.resolve(sent);
    expect(await Promise.all([first, copy])).toStrictEqual([sent, sent]);
    expect(next.calls).toHaveLength(1);
    expect(records.log).toStrictEqual(['claim n-1:slack']);
  });

  it('keeps the claim fresh while the rest of the pipeline waits, and stops when it ends', async () => {
    const { records, clock, stage } = setup();
    const d = deferred();
    const run = stage(
      attempt(),
      recordingNext(() => d.promise),
    );
    await tick();
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      await tick();
    }
    expect(records.log.filter((l) => l.startsWith('refresh'))).toHaveLength(4);
    d.resolve({ kind: 'retry', inMs: 1 });
    await run;
    clock.advance(10_000);
    await tick();
    expect(records.log.filter((l) => l.startsWith('refresh'))).toHaveLength(4);
  });

  it.each<[string, Error, number]>([
    ['taken over by another process', new ClaimLost('taken'), 1000],
    ['not refreshed for a whole claim lifetime', new Error('NATS away'), 3000],
  ])('a claim %s aborts the attempt, so nothing is sent', async (_, failure, lostAfterMs) => {
    const { records, clock, stage } = setup();
    const d = deferred();
    let seen: DeliveryAttempt | undefined;
    const run = stage(
      attempt(),
      recordingNext((a) => {
        seen = a;
        return d.promise;
      }),
    );
    await tick();
    records.refreshFails = failure;
    for (let t = 1000; t < lostAfterMs; t += 1000) {
      clock.advance(1000);
      await tick();
      expect(seen?.signal.aborted).toBe(false);
    }
    clock.advance(1000);
    await tick();
    expect(seen?.signal.aborted).toBe(true);
    d.resolve({ kind: 'retry', inMs: 1 });
    await run;
  });
});
