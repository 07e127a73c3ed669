import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CONSUMERS, type BoardAlert, type BoardDelta } from '@oncall/contracts';
import { createLogger } from '@oncall/shared';
import type { ProjectionListener } from '../adapters/projection-feed.js';
import type { BoardRead } from './board-read.js';
import type { SeqRow } from './board-window.js';
import type { BoardCursor } from './cursor.js';
import { BoardHub, type BoardClient } from './hub.js';
import { boardAlert } from './testing.js';

const log = createLogger('test', 'silent');

const alert = (id: string, acknowledgedBy: string | null = null): BoardAlert =>
  boardAlert(id, { status: acknowledgedBy ? 'acknowledged' : 'triggered', acknowledgedBy });

/** The alerts projection as the hub reads it: rows by id with their last sequence, a checkpoint, a NOTIFY per commit. */
class Projection {
  rows = new Map<string, SeqRow>();
  seq = 0;
  reads = 0;
  private readonly listeners = new Set<ProjectionListener>();
  readonly feed = {
    subscribe: (l: ProjectionListener) => {
      this.listeners.add(l);
      return () => void this.listeners.delete(l);
    },
  };
  readonly hubReads = {
    cursor: async (): Promise<BoardCursor> => ({ alerts: this.seq, escalations: 0 }),
    changes: async (after: BoardCursor): Promise<BoardRead> => {
      this.reads++;
      await Promise.resolve();
      return { cursor: { alerts: this.seq, escalations: 0 }, rows: [...this.rows.values()].filter((r) => r.alertSeq > after.alerts) };
    },
  };

  commit(a: BoardAlert): void {
    this.seq++;
    this.rows.set(a.id, { alert: a, alertSeq: this.seq, escalationSeq: 0 });
    for (const l of this.listeners) l(CONSUMERS.projectorAlerts, this.seq);
  }

  reconnected(): void {
    for (const l of this.listeners) l(null, 0);
  }
}

class Client implements BoardClient {
  frames: string[] = [];
  ended = false;
  write = (frame: string): boolean => {
    this.frames.push(frame);
    return true;
  };
  end = (): void => {
    this.ended = true;
  };
  deltas(): BoardDelta[] {
    return this.frames.filter((f) => f.startsWith('event: delta')).map((f) => JSON.parse(f.split('\ndata: ')[1]!) as BoardDelta);
  }
}

describe('the board hub', () => {
  let p: Projection;
  let hub: BoardHub;
  beforeEach(() => {
    vi.useFakeTimers();
    p = new Projection();
    hub = new BoardHub({ reads: p.hubReads, feed: p.feed, log, intervalMs: 250, heartbeatMs: 15_000 });
  });
  afterEach(() => {
    hub.close();
    vi.useRealTimers();
  });

  it('sends the first change at once, then at most one delta per 250 ms with the changes merged', async () => {
    const c = new Client();
    expect(await hub.connect(c, { alerts: 0, escalations: 0 })).toBe(true);
    p.commit(alert('a'));
    await vi.advanceTimersByTimeAsync(0);
    expect(c.deltas()).toStrictEqual([{ cursor: '1.0', upserts: [alert('a')], removed: [] }]);
    p.commit(alert('b'));
    await vi.advanceTimersByTimeAsync(50);
    p.commit(alert('a', 'alice'));
    await vi.advanceTimersByTimeAsync(100);
    expect(c.deltas()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(c.deltas()).toHaveLength(2);
    const merged = c.deltas()[1]!;
    expect(merged.cursor).toBe('3.0');
    expect(merged.upserts.map((x) => [x.id, x.acknowledgedBy]).sort()).toStrictEqual([
      ['a', 'alice'],
      ['b', null],
    ]);
    expect(c.frames.at(-1)).toMatch(/^event: delta\nid: 3\.0\n/);
  });

  it('reads once per burst of commits for every connection', async () => {
    const clients = Array.from({ length: 50 }, () => new Client());
    for (const c of clients) await hub.connect(c, null);
    for (let i = 0; i < 20; i++) p.commit(alert(`x${i}`));
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.reads).toBeLessThanOrEqual(2);
    for (const c of clients)
      expect(
        c
          .deltas()
          .flatMap((d) => d.upserts.map((u) => u.id))
          .sort(),
      ).toHaveLength(20);
  });

  it('continues a cursor from the window, and resets one it no longer holds', async () => {
    const small = new BoardHub({ reads: p.hubReads, feed: p.feed, log, limits: { maxRows: 2, maxAgeMs: 60_000 } });
    try {
      await small.connect(new Client(), null); // someone watching: the window keeps each commit's batch
      for (const id of ['a', 'b', 'c']) {
        p.commit(alert(id));
        await vi.advanceTimersByTimeAsync(0);
      }
      const recent = new Client();
      expect(await small.connect(recent, { alerts: 2, escalations: 0 })).toBe(true);
      expect(recent.deltas()).toStrictEqual([{ cursor: '3.0', upserts: [alert('c')], removed: [] }]);
      const old = new Client();
      expect(await small.connect(old, { alerts: 0, escalations: 0 })).toBe(false);
      expect(old.frames).toStrictEqual(['event: reset\ndata: \n\n']);
      expect(old.ended).toBe(true);
    } finally {
      small.close();
    }
  });

  it('reads nothing while nobody is connected, and catches up before the next connection is served', async () => {
    await hub.ready();
    for (let i = 0; i < 20; i++) {
      p.commit(alert(`x${i}`));
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(p.reads).toBe(0);
    const c = new Client();
    expect(await hub.connect(c, { alerts: 15, escalations: 0 })).toBe(true);
    expect(p.reads).toBe(1);
    expect(c.deltas().map((d) => d.upserts.map((u) => u.id).sort())).toStrictEqual([['x15', 'x16', 'x17', 'x18', 'x19']]);
    p.commit(alert('y'));
    await vi.advanceTimersByTimeAsync(250);
    expect(p.reads).toBe(2);
    expect(
      c
        .deltas()
        .at(-1)
        ?.upserts.map((u) => u.id),
    ).toStrictEqual(['y']);
    hub.disconnect(c);
    p.commit(alert('z'));
    await vi.advanceTimersByTimeAsync(250);
    expect(p.reads).toBe(2);
  });

  it('resets every connection when the feed reconnected, and serves new ones after', async () => {
    const c = new Client();
    await hub.connect(c, null);
    p.reconnected();
    expect(c.frames).toStrictEqual(['event: reset\ndata: \n\n']);
    expect(c.ended).toBe(true);
    expect(hub.size).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    const next = new Client();
    expect(await hub.connect(next, { alerts: p.seq, escalations: 0 })).toBe(true);
    p.commit(alert('z'));
    await vi.advanceTimersByTimeAsync(0);
    expect(next.deltas().map((d) => d.upserts.map((u) => u.id))).toStrictEqual([['z']]);
  });

  it('waits for a cursor ahead of its reads, and resets one the read model never reached', async () => {
    p.seq = 5; // committed before the hub heard of it
    const c = new Client();
    expect(await hub.connect(c, { alerts: 5, escalations: 0 })).toBe(true);
    const bogus = new Client();
    expect(await hub.connect(bogus, { alerts: 99, escalations: 0 })).toBe(false);
    expect(bogus.frames).toStrictEqual(['event: reset\ndata: \n\n']);
  });

  it('sends heartbeats and ends every stream on close', async () => {
    const c = new Client();
    await hub.connect(c, null);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(c.frames).toContain(': heartbeat\n\n');
    hub.close();
    expect(c.ended).toBe(true);
  });
});
