import { describe, expect, it } from 'vitest';
import type { JsMsg } from '@nats-io/jetstream';
import { createLogger } from './logger.js';
import { InOrderAcks, superviseLoop, type Tracked } from './consumer.js';

const msg = (seq: number, acked: number[]) => ({ seq, ack: () => acked.push(seq) }) as unknown as JsMsg;

describe('in-order acks for ack-all consumers', () => {
  it.each([
    { name: 'all done in order: one ack at the end', finish: [1, 2, 3, 4], acked: [4] },
    { name: 'out of order: one ack once the head is done', finish: [4, 3, 2, 1], acked: [4] },
    { name: 'a gap holds the floor back', finish: [1, 3, 4], acked: [] },
    { name: 'the gap filled: the run is acked at its end', finish: [2, 3, 1, 4], acked: [4] },
  ])('tracked together, $name', ({ finish, acked }) => {
    const out: number[] = [];
    const acks = new InOrderAcks(100);
    const tracked = new Map([1, 2, 3, 4].map((s) => [s, acks.track(msg(s, out))]));
    for (const s of finish) acks.done(tracked.get(s)!);
    expect(out).toEqual(acked);
  });

  it('in order as they arrive: each acked at once', () => {
    const out: number[] = [];
    const acks = new InOrderAcks(100);
    for (const s of [1, 2, 3]) acks.done(acks.track(msg(s, out)));
    expect(out).toEqual([1, 2, 3]);
  });

  it('coalescing: messages done as they arrive in one turn share one ack, sent at the end of the turn', async () => {
    const out: number[] = [];
    const acks = new InOrderAcks(100, true);
    for (const s of [1, 2, 3]) acks.done(acks.track(msg(s, out)));
    expect(out).toEqual([]);
    expect(acks.doneThrough).toBe(3);
    await new Promise(setImmediate);
    expect(out).toEqual([3]);
    acks.done(acks.track(msg(4, out)));
    await new Promise(setImmediate);
    expect(out).toEqual([3, 4]);
  });

  it('coalescing still acks every `every` messages at once during a burst', () => {
    const out: number[] = [];
    const acks = new InOrderAcks(2, true);
    for (const s of [1, 2, 3, 4]) acks.done(acks.track(msg(s, out)));
    expect(out).toEqual([2, 4]);
  });

  it('acks every `every` messages during a burst, and reports how far it is done', () => {
    const out: number[] = [];
    const acks = new InOrderAcks(3);
    const tracked = Array.from({ length: 8 }, (_, i) => acks.track(msg(i + 1, out)));
    for (const t of tracked.slice(0, 7)) acks.done(t);
    expect(out).toEqual([3, 6]);
    expect(acks.doneThrough).toBe(7);
    expect(acks.waiting).toBe(1);
    acks.done(tracked[7]!);
    expect(out).toEqual([3, 6, 8]);
  });

  it('lets done messages go once none waits (each holds its payload), and keeps the ones still waiting', () => {
    const out: number[] = [];
    const acks = new InOrderAcks(100);
    const held = () => (acks as unknown as { list: Tracked[] }).list.map((t) => t.m.seq);
    const tracked = [1, 2, 3].map((s) => acks.track(msg(s, out)));
    acks.done(tracked[0]!);
    acks.done(tracked[2]!);
    expect(held()).toEqual([1, 2, 3]);
    acks.done(tracked[1]!);
    expect(held()).toEqual([]);
    expect(out).toEqual([3]);
    acks.done(acks.track(msg(4, out)));
    expect(held()).toEqual([]);
    expect(out).toEqual([3, 4]);
  });

  it('flush acks a done run held back by a message still waiting, once', () => {
    const out: number[] = [];
    const acks = new InOrderAcks(100);
    const tracked = [1, 2, 3].map((s) => acks.track(msg(s, out)));
    acks.done(tracked[0]!);
    acks.done(tracked[1]!);
    expect(out).toEqual([]);
    acks.flush();
    acks.flush();
    expect(out).toEqual([2]);
    acks.done(tracked[2]!);
    expect(out).toEqual([2, 3]);
  });
});

describe('supervised loop', () => {
  const log = createLogger('test', 'silent');
  it('runs the body again after a failure, with a growing attempt count, until stopped', async () => {
    const stop = new AbortController();
    const attempts: number[] = [];
    await superviseLoop({ name: 't', log, stop: stop.signal, random: () => 0, backoff: { baseMs: 1, maxMs: 1 } }, async (attempt) => {
      attempts.push(attempt);
      if (attempts.length === 3) {
        stop.abort();
        return;
      }
      throw new Error('boom');
    });
    expect(attempts).toEqual([0, 1, 2]);
  });

  it('treats a body that returns without being stopped as a failure', async () => {
    const stop = new AbortController();
    let runs = 0;
    await superviseLoop({ name: 't', log, stop: stop.signal, random: () => 0, backoff: { baseMs: 1, maxMs: 1 } }, async () => {
      if (++runs === 2) stop.abort();
    });
    expect(runs).toBe(2);
  });

  it('gives up after `giveUpAfter` failures in a row and throws the last one', async () => {
    const stop = new AbortController();
    let runs = 0;
    const loop = superviseLoop(
      { name: 't', log, stop: stop.signal, random: () => 0, backoff: { baseMs: 1, maxMs: 1 }, giveUpAfter: 3 },
      async () => {
        throw new Error(`failure ${++runs}`);
      },
    );
    await expect(loop).rejects.toThrow('failure 3');
    expect(runs).toBe(3);
  });
});
