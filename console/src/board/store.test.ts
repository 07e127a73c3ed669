import { describe, expect, it } from 'vitest';
import { effect } from '@preact/signals';
import type { BoardAlert } from '@oncall/contracts/console-api';
import { applyDeltas, applySnapshot, createStore } from './store';
import { boardAlert } from './testing';

const alert = (id: string, over: Partial<BoardAlert> = {}): BoardAlert => boardAlert(id, { step: 0, paged: ['alice'], ...over });

describe('the board store', () => {
  it('re-lays the list out only when membership or a sort/filter field changes', () => {
    const store = createStore();
    applySnapshot(store, { cursor: '1', alerts: [alert('a'), alert('b')] });
    expect(store.structure.value).toBe(1);
    const cases: [string, Partial<BoardAlert>, boolean][] = [
      ['acked by alice (same status? no: status moves)', { status: 'acknowledged', acknowledgedBy: 'alice' }, true],
      ['paged someone else', { status: 'acknowledged', acknowledgedBy: 'alice', paged: ['bob'], step: 1 }, false],
      ['severity raised', { status: 'acknowledged', acknowledgedBy: 'alice', severity: 'error' }, true],
      [
        'a label added',
        { status: 'acknowledged', acknowledgedBy: 'alice', severity: 'error', labels: { site: 'ams2', tier: 'gold' } },
        true,
      ],
      [
        'repeat count only',
        { status: 'acknowledged', acknowledgedBy: 'alice', severity: 'error', labels: { site: 'ams2', tier: 'gold' }, repeatCount: 3 },
        false,
      ],
    ];
    for (const [name, over, moves] of cases) {
      const before = store.structure.value;
      applyDeltas(store, [{ cursor: '2', upserts: [alert('a', over)], removed: [] }]);
      expect(store.structure.value - before, name).toBe(moves ? 1 : 0);
    }
    expect(store.rows.get('a')!.value.repeatCount).toBe(3);
  });

  it('re-renders only the changed row: no other row signal fires', () => {
    const store = createStore();
    applySnapshot(store, { cursor: '1', alerts: [alert('a'), alert('b')] });
    let bRuns = 0;
    const stop = effect(() => {
      void store.rows.get('b')!.value;
      bRuns++;
    });
    applyDeltas(store, [{ cursor: '2', upserts: [alert('a', { step: 2 })], removed: [] }]);
    expect(bRuns).toBe(1);
    stop();
  });

  it('adds new alerts, counts arrivals, removes resolved ones either way, and names every id', () => {
    const store = createStore();
    applySnapshot(store, { cursor: '1', alerts: [alert('a'), alert('b')] });
    const named = applyDeltas(store, [
      { cursor: '2', upserts: [alert('c'), alert('a', { status: 'resolved' })], removed: [] },
      { cursor: '3', upserts: [], removed: ['b', 'unknown'] },
    ]);
    expect([...store.rows.keys()]).toEqual(['c']);
    expect(store.arrived.value).toBe(1);
    expect([...named].sort()).toEqual(['a', 'b', 'c', 'unknown']);
  });

  it('a snapshot replaces everything (after a reset)', () => {
    const store = createStore();
    applySnapshot(store, { cursor: '1', alerts: [alert('a')] });
    applySnapshot(store, { cursor: '9', alerts: [alert('z')] });
    expect([...store.rows.keys()]).toEqual(['z']);
  });
});
