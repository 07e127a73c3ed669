import { CONSUMERS } from '@oncall/contracts';
import type { Logger } from '@oncall/shared';
import type { ProjectionFeed } from '../adapters/projection-feed.js';
import type { BoardRead } from './board-read.js';
import { addBatch, changesSince, emptyWindow, resumable, type BoardWindow, type WindowLimits } from './board-window.js';
import { atOrAfter, formatCursor, sameCursor, type BoardCursor } from './cursor.js';
import { boardReads, deltasSent, sseConnections } from './metrics.js';
import { nextSendAt, SSE_HEARTBEAT, sseEvent } from './sse.js';

/** One browser's stream, as the hub sees it: where it stands and how to write to it. */
export type BoardClient = Readonly<{
  /** Writes a frame; false when the socket's buffer is full (the next delta waits for `drained`). */
  write: (frame: string) => boolean;
  end: () => void;
}>;

type Connection = {
  client: BoardClient;
  cursor: BoardCursor;
  lastSentAt: number | null;
  timer: NodeJS.Timeout | undefined;
  blocked: boolean;
};

/** The hub's reads (board-read.ts, on query-api's list pool). */
export type BoardReads = Readonly<{
  cursor: () => Promise<BoardCursor>;
  changes: (after: BoardCursor) => Promise<BoardRead>;
}>;

export type BoardHubOptions = Readonly<{
  reads: BoardReads;
  feed: Pick<ProjectionFeed, 'subscribe'>;
  log: Logger;
  now?: () => number;
  /** At most one delta per connection per interval (default 250 ms). */
  intervalMs?: number;
  heartbeatMs?: number;
  limits?: WindowLimits;
}>;

const DEFAULT_LIMITS: WindowLimits = { maxRows: 50_000, maxAgeMs: 5 * 60_000 };
const RETRY_MS = 1000;

/**
 * The board's live stream for every connection (docs/console.md): after each commit of the alerts
 * or escalations projection, ONE read of the rows changed since the hub's cursor, kept in a
 * window of recent batches; each connection gets what it has not seen, merged, at most once per
 * interval. A connection whose cursor the window no longer covers, or every connection when the
 * feed reconnected (commits may have been missed), gets `reset` and its stream ends.
 */
export class BoardHub {
  private window: BoardWindow | null = null;
  private readonly connections = new Set<Connection>();
  private reading: Promise<void> | null = null;
  private dirty = false;
  /** Commits came while no browser was connected: the window ends before them. */
  private behind = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly limits: WindowLimits;
  /** The JSON of a delta by the cursor it starts from, for the current window (connections at one cursor share it). */
  private frames = new Map<string, string | null>();
  private closed = false;

  constructor(private readonly opts: BoardHubOptions) {
    this.now = opts.now ?? Date.now;
    this.intervalMs = opts.intervalMs ?? 250;
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    this.unsubscribe = opts.feed.subscribe((projection, seq) => {
      if (projection === null) {
        this.opts.log.info('projection feed reconnected: board streams reset');
        this.resetAll();
        return;
      }
      const w = this.window;
      if (!w) return;
      if (
        (projection === CONSUMERS.projectorAlerts && seq > w.end.alerts) ||
        (projection === CONSUMERS.projectorEscalations && seq > w.end.escalations)
      ) {
        // Nobody watching: no read per commit (in a storm that was half of PostgreSQL's
        // statement time, bench:ack); the next connection catches the window up first.
        if (this.connections.size === 0) this.behind = true;
        else this.refresh();
      }
    });
    this.heartbeat = setInterval(() => {
      for (const c of this.connections) c.client.write(SSE_HEARTBEAT);
    }, opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    this.init();
  }

  get size(): number {
    return this.connections.size;
  }

  /**
   * Adds a browser at `cursor` (null: from now on). Resolves false, after writing `reset` and
   * ending it, when the cursor cannot be continued.
   */
  async connect(client: BoardClient, cursor: BoardCursor | null): Promise<boolean> {
    let w = await this.ready();
    if (this.behind || (cursor !== null && !atOrAfter(w.end, cursor))) {
      // Commits nobody watched, or a snapshot read after the hub's last read: read as far first.
      this.refresh();
      await this.reading;
      w = await this.ready();
    }
    const at = cursor ?? w.end;
    if (this.closed || !resumable(w, at) || !atOrAfter(w.end, at)) {
      this.reset(client);
      return false;
    }
    const conn: Connection = { client, cursor: at, lastSentAt: null, timer: undefined, blocked: false };
    this.connections.add(conn);
    sseConnections.set(this.connections.size);
    this.schedule(conn);
    return true;
  }

  /** The browser went away. */
  disconnect(client: BoardClient): void {
    for (const c of this.connections) {
      if (c.client !== client) continue;
      clearTimeout(c.timer);
      this.connections.delete(c);
    }
    sseConnections.set(this.connections.size);
  }

  /** The socket drained after a full buffer: send what waited. */
  drained(client: BoardClient): void {
    for (const c of this.connections) {
      if (c.client !== client) continue;
      c.blocked = false;
      this.schedule(c);
    }
  }

  /** Ends every stream (shutdown): the HTTP server can then close. */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    for (const c of this.connections) {
      clearTimeout(c.timer);
      c.client.end();
    }
    this.connections.clear();
    sseConnections.set(0);
  }

  /**
   * The window, once the hub knows where it starts. A snapshot is read after this resolves, so
   * its cursor is one the window can continue.
   */
  async ready(): Promise<BoardWindow> {
    while (!this.window) {
      const cursor = await this.opts.reads.cursor();
      this.window ??= emptyWindow(cursor);
    }
    return this.window;
  }

  private init(): void {
    this.ready().catch((err: unknown) =>
      this.opts.log.warn({ err }, 'board stream could not read its cursor; it tries again on the next connection'),
    );
  }

  private refresh(): void {
    if (this.reading) {
      this.dirty = true;
      return;
    }
    this.reading = this.readLoop().finally(() => {
      this.reading = null;
    });
  }

  private async readLoop(): Promise<void> {
    do {
      this.dirty = false;
      this.behind = false;
      const w = this.window;
      if (!w || this.closed) return;
      let read;
      try {
        read = await this.opts.reads.changes(w.end);
        boardReads.inc();
      } catch (err) {
        this.opts.log.warn({ err }, 'board read failed; retrying');
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.refresh(), RETRY_MS);
        this.retry.unref();
        return;
      }
      if (this.window !== w) continue; // reset meanwhile
      if (!atOrAfter(read.cursor, w.end)) {
        // A checkpoint went back: the read model was rebuilt under us.
        this.opts.log.warn({ was: formatCursor(w.end), now: formatCursor(read.cursor) }, 'board cursor went back: streams reset');
        this.resetAll();
        return;
      }
      if (sameCursor(read.cursor, w.end)) continue;
      this.window = addBatch(w, { from: w.end, to: read.cursor, rows: read.rows }, this.now(), this.limits);
      this.frames = new Map();
      for (const c of this.connections) this.schedule(c);
    } while (this.dirty);
  }

  private schedule(c: Connection): void {
    if (c.timer !== undefined || c.blocked) return;
    const now = this.now();
    const at = nextSendAt(c.lastSentAt, now, this.intervalMs);
    if (at <= now) this.send(c);
    else {
      c.timer = setTimeout(() => {
        c.timer = undefined;
        this.send(c);
      }, at - now);
      c.timer.unref();
    }
  }

  private send(c: Connection): void {
    const w = this.window;
    if (!w || !this.connections.has(c) || c.blocked) return;
    if (sameCursor(c.cursor, w.end)) return;
    if (!resumable(w, c.cursor)) {
      this.disconnect(c.client);
      this.reset(c.client);
      return;
    }
    const from = formatCursor(c.cursor);
    let frame = this.frames.get(from);
    if (frame === undefined) {
      const delta = changesSince(w, c.cursor);
      frame = delta === null ? null : sseEvent('delta', delta.cursor, JSON.stringify(delta));
      this.frames.set(from, frame);
    }
    c.cursor = w.end;
    if (frame === null) return;
    c.lastSentAt = this.now();
    deltasSent.inc({ kind: 'delta' });
    if (!c.client.write(frame)) c.blocked = true;
  }

  private reset(client: BoardClient): void {
    deltasSent.inc({ kind: 'reset' });
    client.write(sseEvent('reset', null, null));
    client.end();
  }

  private resetAll(): void {
    this.window = null;
    this.frames = new Map();
    for (const c of [...this.connections]) {
      this.disconnect(c.client);
      this.reset(c.client);
    }
    if (!this.closed) this.init();
  }
}
