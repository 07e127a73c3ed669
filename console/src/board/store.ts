import { batch, signal, type Signal } from '@preact/signals';
import type { BoardAlert, BoardDelta, BoardSnapshot } from '@oncall/contracts/console-api';

/**
 * The board's alerts: one signal per alert, so a delta re-renders only the rows whose alert changed
 * (and only those on screen). `structure` moves when the set of alerts or a field the board sorts,
 * groups or filters by changed: only then is the list laid out again.
 */
export type BoardStore = Readonly<{
  rows: Map<string, Signal<BoardAlert>>;
  structure: Signal<number>;
  /** Alerts first seen after the snapshot (for the "new alerts" announcement). */
  arrived: Signal<number>;
}>;

export const createStore = (): BoardStore => ({ rows: new Map(), structure: signal(0), arrived: signal(0) });

export function applySnapshot(store: BoardStore, snapshot: BoardSnapshot): void {
  batch(() => {
    store.rows.clear();
    for (const a of snapshot.alerts) store.rows.set(a.id, signal(a));
    store.structure.value++;
  });
}

const sameLabels = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean => {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
};

/** Whether a change of `before` into `after` can move the alert in the list or in or out of a filter. */
const movesLayout = (before: BoardAlert, after: BoardAlert): boolean =>
  before.status !== after.status ||
  before.severity !== after.severity ||
  before.serviceId !== after.serviceId ||
  before.site !== after.site ||
  before.summary !== after.summary ||
  before.createdAt !== after.createdAt ||
  !sameLabels(before.labels, after.labels);

/**
 * Applies deltas (those queued since the last animation frame) in one batch; answers the ids they
 * named, for pages watching one alert. A resolved alert arrives in `removed`; an upsert that is no
 * longer open is removed too.
 */
export function applyDeltas(store: BoardStore, deltas: readonly BoardDelta[]): Set<string> {
  const named = new Set<string>();
  let moved = false;
  let arrived = 0;
  batch(() => {
    for (const d of deltas) {
      for (const a of d.upserts) {
        named.add(a.id);
        const row = store.rows.get(a.id);
        if (a.status === 'resolved') {
          if (row) {
            store.rows.delete(a.id);
            moved = true;
          }
        } else if (!row) {
          store.rows.set(a.id, signal(a));
          moved = true;
          arrived++;
        } else {
          if (movesLayout(row.peek(), a)) moved = true;
          row.value = a;
        }
      }
      for (const id of d.removed) {
        named.add(id);
        if (store.rows.delete(id)) moved = true;
      }
    }
    if (moved) store.structure.value++;
    if (arrived) store.arrived.value += arrived;
  });
  return named;
}
