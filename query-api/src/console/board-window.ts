import type { BoardAlert, BoardDelta } from '@oncall/contracts';
import { atOrAfter, formatCursor, type BoardCursor } from './cursor.js';

/** A board row with the sequences of its last change in each projection (escalations: 0 when not routed yet). */
export type SeqRow = Readonly<{ alert: BoardAlert; alertSeq: number; escalationSeq: number }>;

/** One read of the changed rows: every row changed after `from`, as of `to` (one snapshot). */
export type Batch = Readonly<{ from: BoardCursor; to: BoardCursor; rows: readonly SeqRow[] }>;

export type WindowLimits = Readonly<{ maxRows: number; maxAgeMs: number }>;

/**
 * The recent batches the board's stream can serve from: a connection at any cursor between
 * `start` and the newest batch's `to` gets the changes since its cursor without a query of its
 * own. Older cursors cannot be continued (the page fetches the snapshot again). Pure: the hub
 * holds one and replaces it.
 */
export type BoardWindow = Readonly<{
  start: BoardCursor;
  end: BoardCursor;
  batches: readonly (Batch & { at: number })[];
  rows: number;
}>;

export const emptyWindow = (at: BoardCursor): BoardWindow => ({ start: at, end: at, batches: [], rows: 0 });

/** The window with a new batch (which must start where the window ends), the oldest batches dropped past the limits. */
export function addBatch(w: BoardWindow, batch: Batch, now: number, limits: WindowLimits): BoardWindow {
  const batches = [...w.batches, { ...batch, at: now }];
  let rows = w.rows + batch.rows.length;
  let start = w.start;
  while (batches.length > 1 && (rows > limits.maxRows || now - batches[0]!.at > limits.maxAgeMs)) {
    const dropped = batches.shift()!;
    rows -= dropped.rows.length;
    start = dropped.to;
  }
  return { start, end: batch.to, batches, rows };
}

/** Whether a connection at `cursor` can be served from the window (else it gets a `reset`). */
export const resumable = (w: BoardWindow, cursor: BoardCursor): boolean => atOrAfter(cursor, w.start);

/**
 * What a connection at `cursor` has not seen, as of the window's end: the latest row of each
 * alert changed after the cursor (in either sequence); resolved alerts as `removed`. Null when
 * nothing changed. The newest batch holding an alert has its state as of the window's end (a
 * later change would be in a later batch), so batches are read newest first and the first row
 * of an alert wins; batches wholly at or before the cursor hold nothing new.
 */
export function changesSince(w: BoardWindow, cursor: BoardCursor): BoardDelta | null {
  const seen = new Set<string>();
  const upserts: BoardAlert[] = [];
  const removed: string[] = [];
  for (let i = w.batches.length - 1; i >= 0; i--) {
    const batch = w.batches[i]!;
    if (atOrAfter(cursor, batch.to)) break;
    for (const row of batch.rows) {
      const id = row.alert.id;
      if (seen.has(id)) continue;
      seen.add(id);
      if (row.alertSeq <= cursor.alerts && row.escalationSeq <= cursor.escalations) continue;
      if (row.alert.status === 'resolved') removed.push(id);
      else upserts.push(row.alert);
    }
  }
  if (upserts.length === 0 && removed.length === 0) return null;
  return { cursor: formatCursor(w.end), upserts, removed };
}
