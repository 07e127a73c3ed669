import { signal } from '@preact/signals';
import type { BoardDelta, BoardSnapshot } from '@oncall/contracts/console-api';
import { api, ApiError } from '../api';
import { applyDeltas, applySnapshot, createStore } from './store';

/** The one board store of the page, fed by GET /api/board and the live stream. */
export const board = createStore();

export type LiveState = 'idle' | 'loading' | 'live' | 'reconnecting' | 'failed';
export const liveState = signal<LiveState>('idle');
export const liveError = signal<string | null>(null);

let source: EventSource | null = null;
let cursor = '';
let pending: BoardDelta[] = [];
let frame = 0;
let fallback = 0;
let retry = 0;
/** Reconnections since the last delta: after a few, start over from a snapshot. */
let failures = 0;
const watchers = new Set<(ids: ReadonlySet<string>) => void>();

/**
 * Applies what arrived since the last frame in one go: a storm of deltas costs one layout and one
 * render per frame at most. The timer covers a hidden tab, where animation frames stop.
 */
function flush(): void {
  cancelAnimationFrame(frame);
  clearTimeout(fallback);
  frame = fallback = 0;
  const deltas = pending;
  pending = [];
  if (!deltas.length) return;
  const named = applyDeltas(board, deltas);
  for (const w of watchers) w(named);
}

function queue(delta: BoardDelta): void {
  pending.push(delta);
  if (!frame) frame = requestAnimationFrame(flush);
  if (!fallback) fallback = window.setTimeout(flush, 1000);
}

async function loadSnapshot(): Promise<void> {
  const snapshot = await api<BoardSnapshot>('GET', '/api/board');
  pending = [];
  cursor = snapshot.cursor;
  applySnapshot(board, snapshot);
}

function open(): void {
  source?.close();
  const es = new EventSource(`/api/board/events?cursor=${encodeURIComponent(cursor)}`);
  source = es;
  es.addEventListener('open', () => {
    liveState.value = 'live';
    failures = 0;
    liveError.value = null;
  });
  es.addEventListener('delta', (e: MessageEvent<string>) => {
    try {
      const delta = JSON.parse(e.data) as BoardDelta;
      cursor = delta.cursor;
      queue(delta);
    } catch {
      liveError.value = 'the server sent a delta the page could not read; reloading the board';
      void restart();
    }
  });
  // The server lost track of our cursor: start over from a fresh snapshot.
  es.addEventListener('reset', () => void restart());
  es.addEventListener('error', () => {
    if (source !== es) return;
    // Reconnect ourselves, with the newest cursor in the URL: the browser's own retry would repeat
    // the first URL's `?cursor=`. A stream that fails for good (e.g. the session ended) goes through
    // restart(), whose GET /api/board meets the 401 and sends the page to /login.
    liveState.value = 'reconnecting';
    es.close();
    source = null;
    clearTimeout(retry);
    retry = window.setTimeout(() => (failures++ < 3 ? open() : void restart()), 2000);
  });
}

async function restart(): Promise<void> {
  source?.close();
  source = null;
  try {
    await loadSnapshot();
    open();
  } catch (err) {
    // Signed out: the page is on its way to /login, which starts the feed again after signing in.
    if (err instanceof ApiError && err.status === 401) return stopLive();
    liveState.value = 'failed';
    liveError.value = err instanceof Error ? err.message : String(err);
    clearTimeout(retry);
    retry = window.setTimeout(() => void restart(), 5000);
  }
}

/** Starts the board's feed once (the board and the alert page both use it). */
export function startLive(): void {
  if (liveState.peek() !== 'idle') return;
  liveState.value = 'loading';
  void restart();
}

/** Stops the feed (signed out). */
export function stopLive(): void {
  source?.close();
  source = null;
  clearTimeout(retry);
  liveState.value = 'idle';
}

/** Calls `fn` with the ids each applied batch of deltas named; answers the unsubscribe. */
export function watchDeltas(fn: (ids: ReadonlySet<string>) => void): () => void {
  watchers.add(fn);
  return () => watchers.delete(fn);
}
