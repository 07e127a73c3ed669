import { describe, expect, it } from 'vitest';
import { makeEvent } from '@oncall/contracts';
import type { Projection } from '../projections/types.js';
import { applyInBatches } from './pipeline.js';
import type { DecodedMessage } from './apply.js';

const message = (seq: number): DecodedMessage => ({
  data: new Uint8Array(),
  event: makeEvent(
    'HeartbeatReceived',
    { monitorId: 'm', serviceId: 'svc', receivedAt: '2026-01-01T00:00:00Z' },
    {
      id: '22222222-2222-4222-8222-222222222222',
      occurredAt: '2026-01-01T00:00:00Z',
      causationId: null,
      correlationId: 'c',
    },
  ),
  at: { seq, subject: 'heartbeats.m' },
  pending: 0,
});

/** A source the test feeds by hand; `end` finishes it, `fail` makes it throw. */
function feed() {
  const waiting: DecodedMessage[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: Error | undefined;
  const source: AsyncIterable<DecodedMessage> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (waiting.length) yield waiting.shift()!;
        else if (failure) throw failure;
        else if (ended) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  return {
    source,
    push: (...seqs: number[]) => {
      waiting.push(...seqs.map(message));
      poke();
    },
    end: () => ((ended = true), poke()),
    fail: (err: Error) => ((failure = err), poke()),
  };
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

/** A projection whose prepare records what it was given. */
function recording() {
  const prepared: number[][] = [];
  const projection: Projection = {
    name: 'test',
    stream: 'TEST',
    filterSubject: 'test.>',
    applyMany: async () => undefined,
    prepare: (events) => {
      prepared.push(events.map((e) => e.at.seq));
      return async () => undefined;
    },
  };
  return { projection, prepared };
}

/** An apply whose transactions the test completes by hand, recording overlap. */
function manualApply() {
  const applied: number[][] = [];
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  let running = 0;
  let overlapped = false;
  const apply = (batch: readonly DecodedMessage[]) => {
    running++;
    if (running > 1) overlapped = true;
    applied.push(batch.map((m) => m.at.seq));
    return new Promise<void>((resolve, reject) => pending.push({ resolve, reject })).finally(() => running--);
  };
  return {
    apply,
    applied,
    overlapped: () => overlapped,
    commit: async () => {
      pending.shift()!.resolve();
      await tick();
    },
    fail: async (err: Error) => {
      pending.shift()!.reject(err);
      await tick();
    },
  };
}

describe('applyInBatches', () => {
  it('given a quiet stream, a batch is what arrived while the one before was applied', async () => {
    const f = feed();
    const { projection } = recording();
    const tx = manualApply();
    const done = applyInBatches(f.source, 10, projection, tx.apply);
    f.push(1);
    await tick();
    f.push(2, 3);
    await tick();
    expect(tx.applied).toEqual([[1]]);
    await tx.commit();
    expect(tx.applied).toEqual([[1], [2, 3]]);
    f.push(4);
    await tx.commit();
    f.end();
    await tx.commit();
    await done;
    expect(tx.applied).toEqual([[1], [2, 3], [4]]);
    expect(tx.overlapped()).toBe(false);
  });

  it('given a backlog, prepares the next full batch while the one before is applied, and never overlaps transactions', async () => {
    const f = feed();
    const { projection, prepared } = recording();
    const tx = manualApply();
    const done = applyInBatches(f.source, 3, projection, tx.apply);
    // the first message finds nothing in flight: a batch of its own, as with shared `batches`
    f.push(1, 2, 3, 4, 5, 6, 7, 8);
    await tick();
    expect(tx.applied).toEqual([[1]]);
    expect(prepared).toEqual([[1], [2, 3, 4]]);
    await tx.commit();
    expect(tx.applied).toEqual([[1], [2, 3, 4]]);
    expect(prepared).toEqual([[1], [2, 3, 4], [5, 6, 7]]);
    await tx.commit();
    // 8 alone is not a full batch: it waits for the commit
    expect(prepared).toHaveLength(3);
    await tx.commit();
    expect(tx.applied).toEqual([[1], [2, 3, 4], [5, 6, 7], [8]]);
    f.end();
    await tx.commit();
    await done;
    expect(prepared).toEqual(tx.applied);
    expect(tx.overlapped()).toBe(false);
  });

  it('stops after the batch whose last message is the last one wanted', async () => {
    const f = feed();
    const { projection } = recording();
    const tx = manualApply();
    const done = applyInBatches(f.source, 2, projection, tx.apply, (m) => m.at.seq >= 3);
    f.push(1, 2, 3, 4, 5);
    await tick();
    await tx.commit();
    await tx.commit();
    await done;
    expect(tx.applied).toEqual([[1], [2, 3]]);
  });

  it('throws the failure of a transaction once it has settled, applying nothing after it', async () => {
    const f = feed();
    const { projection, prepared } = recording();
    const tx = manualApply();
    const done = applyInBatches(f.source, 2, projection, tx.apply);
    const failed = expect(done).rejects.toThrow('serialization failure');
    f.push(1, 2, 3, 4);
    await tick();
    expect(prepared).toEqual([[1], [2, 3]]);
    await tx.fail(new Error('serialization failure'));
    await failed;
    expect(tx.applied).toEqual([[1]]);
  });

  it('a transaction that fails while the stream is quiet ends the wait', async () => {
    const f = feed();
    const { projection } = recording();
    const tx = manualApply();
    const done = applyInBatches(f.source, 2, projection, tx.apply);
    const failed = expect(done).rejects.toThrow('connection lost');
    f.push(1);
    await tick();
    await tx.fail(new Error('connection lost'));
    await failed;
  });

  it('applies what the source delivered before it failed, then throws its failure', async () => {
    const f = feed();
    const { projection } = recording();
    const tx = manualApply();
    const done = applyInBatches(f.source, 10, projection, tx.apply);
    const failed = expect(done).rejects.toThrow('consumer deleted');
    f.push(1, 2);
    f.fail(new Error('consumer deleted'));
    await tick();
    await tx.commit();
    await tx.commit();
    await failed;
    expect(tx.applied).toEqual([[1], [2]]);
  });
});
