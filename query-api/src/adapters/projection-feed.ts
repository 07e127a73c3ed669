import pg from 'pg';
import type { DatabasePool } from 'slonik';
import { PROJECTION_CHANNEL } from '@oncall/contracts';
import { withSearchPath, type Logger } from '@oncall/shared';
import { checkpoint } from '../read-model/alerts.js';

/**
 * A projection committed up to `seq`; `null` after the feed reconnected, when commits may have
 * been missed and every listener should read again.
 */
export type ProjectionListener = (projection: string | null, seq: number) => void;

/**
 * The projector's commits in one schema, from one LISTEN connection shared by every request:
 * read-your-writes waits and delivery-status streams subscribe here instead of each holding a
 * PostgreSQL connection. Each projection commit sends `NOTIFY oncall_projection '<schema>
 * <projection> <last_seq>'`. A lost connection is re-established with backoff; listeners then
 * get `null` (read again), since notifications sent meanwhile are gone.
 */
export class ProjectionFeed {
  private readonly listeners = new Set<ProjectionListener>();
  private client: pg.Client | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    private readonly databaseUrl: string,
    private readonly schema: string,
    private readonly pool: DatabasePool,
    private readonly log: Logger,
  ) {}

  /** Connects and listens; rejects if the first connection fails. */
  static async start(opts: { databaseUrl: string; schema: string; pool: DatabasePool; log: Logger }): Promise<ProjectionFeed> {
    const feed = new ProjectionFeed(opts.databaseUrl, opts.schema, opts.pool, opts.log);
    await feed.connect();
    return feed;
  }

  /** Calls `listener` on every commit until the returned function is called. */
  subscribe(listener: ProjectionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves once `projection` has applied stream sequence `seq`. Subscribes before reading the
   * checkpoint, so a commit between the two is not missed; rejects with the signal's reason.
   */
  waitFor(projection: string, seq: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        if (err === undefined) resolve();
        else reject(err);
      };
      const check = (): void => {
        checkpoint(this.pool, projection).then(
          (applied) => {
            if (applied >= seq) finish();
          },
          (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
        );
      };
      const onAbort = (): void => finish(signal.reason as Error);
      const unsubscribe = this.subscribe((p, s) => {
        if (p === null) check();
        else if (p === projection && s >= seq) finish();
      });
      signal.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: withSearchPath(this.databaseUrl, this.schema) });
    client.on('notification', (n) => {
      const [schema, projection, last] = (n.payload ?? '').split(' ');
      if (schema !== this.schema || !projection) return;
      this.emit(projection, Number(last));
    });
    const lost = (err?: Error): void => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.log.warn({ err }, 'projection feed lost its connection; reconnecting');
      this.reconnect(100);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${PROJECTION_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private reconnect(delayMs: number): void {
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          this.log.info('projection feed reconnected');
          this.emit(null, 0);
        },
        (err: unknown) => {
          this.log.warn({ err }, 'projection feed reconnect failed');
          if (!this.stopped) this.reconnect(Math.min(delayMs * 2, 5_000));
        },
      );
    }, delayMs);
  }

  private emit(projection: string | null, seq: number): void {
    for (const listener of [...this.listeners]) listener(projection, seq);
  }
}
