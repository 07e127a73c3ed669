import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerQueue } from './timers.js';

describe('TimerQueue', () => {
  it('pops keys in due order, only those due, and forgets replaced and cleared due times', () => {
    const q = new TimerQueue();
    q.set('a', 30);
    q.set('b', 10);
    q.set('c', 20);
    q.set('a', 5);
    q.set('c', null);
    expect(q.peek()).toBe(5);
    expect(q.popDue(15)).toStrictEqual(['a', 'b']);
    expect(q.popDue(100)).toStrictEqual([]);
    expect(q.size).toBe(0);
  });

  it('agrees with a sorted list for any sequence of sets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.option(fc.integer({ min: 0, max: 1000 })))),
        fc.integer({ min: 0, max: 1000 }),
        (ops, now) => {
          const q = new TimerQueue();
          const model = new Map<string, number>();
          for (const [k, due] of ops) {
            q.set(String(k), due);
            if (due === null) model.delete(String(k));
            else model.set(String(k), due);
          }
          const expected = [...model.entries()]
            .filter(([, d]) => d <= now)
            .sort((x, y) => x[1] - y[1])
            .map(([k]) => k);
          const got = q.popDue(now);
          expect(got.map((k) => model.get(k))).toStrictEqual(expected.map((k) => model.get(k)));
          expect(new Set(got)).toStrictEqual(new Set(expected));
        },
      ),
    );
  });
});
