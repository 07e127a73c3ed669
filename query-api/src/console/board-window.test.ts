import { describe, expect, it } from 'vitest';
import type { AlertStatusWord, BoardAlert } from '@oncall/contracts';
import { addBatch, changesSince, emptyWindow, resumable, type BoardWindow, type SeqRow } from './board-window.js';
import { boardAlert } from './testing.js';

const alert = (id: string, status: AlertStatusWord = 'triggered', acknowledgedBy: string | null = null): BoardAlert =>
  boardAlert(id, { status, acknowledgedBy });
const row = (a: BoardAlert, alertSeq: number, escalationSeq = 0): SeqRow => ({ alert: a, alertSeq, escalationSeq });
const c = (alerts: number, escalations: number) => ({ alerts, escalations });
const LIMITS = { maxRows: 100, maxAgeMs: 60_000 };

/** A window of consecutive batches from (0,0). */
function windowOf(...batches: Array<[to: [number, number], rows: SeqRow[]]>): BoardWindow {
  let w = emptyWindow(c(0, 0));
  for (const [to, rows] of batches) w = addBatch(w, { from: w.end, to: c(...to), rows }, 0, LIMITS);
  return w;
}

describe('the board window', () => {
  const w = windowOf(
    [
      [2, 0],
      [row(alert('a'), 1), row(alert('b'), 2)],
    ],
    [
      [3, 1],
      [row(alert('a', 'acknowledged', 'alice'), 3), row(alert('b'), 2, 1)],
    ],
    [[4, 1], [row(alert('b', 'resolved'), 4, 1)]],
  );

  it('gives a connection at the start every alert, latest row first, resolved ones removed', () => {
    expect(changesSince(w, c(0, 0))).toStrictEqual({ cursor: '4.1', upserts: [alert('a', 'acknowledged', 'alice')], removed: ['b'] });
  });

  it('gives a connection in the middle only what changed after its cursor', () => {
    expect(changesSince(w, c(3, 1))).toStrictEqual({ cursor: '4.1', upserts: [], removed: ['b'] });
    expect(changesSince(w, c(2, 0))).toStrictEqual({ cursor: '4.1', upserts: [alert('a', 'acknowledged', 'alice')], removed: ['b'] });
  });

  it('counts a change in either projection', () => {
    // At (3,0) the escalation change of b (seq 1) is unseen; b's latest row is its resolution.
    expect(changesSince(w, c(3, 0))?.removed).toStrictEqual(['b']);
    const esc = windowOf([[1, 1], [row(alert('x'), 1, 1)]], [[1, 2], [row(alert('x', 'triggered'), 1, 2)]]);
    expect(changesSince(esc, c(1, 1))?.upserts.map((a) => a.id)).toStrictEqual(['x']);
  });

  it('has nothing for a connection at the end', () => {
    expect(changesSince(w, c(4, 1))).toBeNull();
  });

  it('skips rows at or before a cursor ahead of a batch (a snapshot read after it)', () => {
    const ahead = windowOf([
      [5, 0],
      [row(alert('a'), 5), row(alert('b'), 4)],
    ]);
    expect(changesSince(ahead, c(4, 0))?.upserts.map((a) => a.id)).toStrictEqual(['a']);
  });

  it('drops the oldest batches past the limits and no longer continues their cursors', () => {
    let small = emptyWindow(c(10, 10));
    small = addBatch(small, { from: c(10, 10), to: c(12, 10), rows: [row(alert('a'), 11), row(alert('b'), 12)] }, 0, {
      maxRows: 3,
      maxAgeMs: 1000,
    });
    small = addBatch(small, { from: c(12, 10), to: c(14, 10), rows: [row(alert('c'), 13), row(alert('d'), 14)] }, 10, {
      maxRows: 3,
      maxAgeMs: 1000,
    });
    expect(small.start).toStrictEqual(c(12, 10));
    expect(small.batches).toHaveLength(1);
    expect(resumable(small, c(11, 10))).toBe(false);
    expect(resumable(small, c(12, 10))).toBe(true);
    const aged = addBatch(small, { from: c(14, 10), to: c(15, 10), rows: [] }, 5000, { maxRows: 100, maxAgeMs: 1000 });
    expect(aged.start).toStrictEqual(c(14, 10));
    expect(aged.rows).toBe(0);
  });

  it('keeps the newest batch whatever its size', () => {
    const big = addBatch(
      emptyWindow(c(0, 0)),
      { from: c(0, 0), to: c(3, 0), rows: [row(alert('a'), 1), row(alert('b'), 2), row(alert('c'), 3)] },
      0,
      {
        maxRows: 1,
        maxAgeMs: 1000,
      },
    );
    expect(big.batches).toHaveLength(1);
    expect(resumable(big, c(0, 0))).toBe(true);
  });
});
