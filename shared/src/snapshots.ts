import { createInterface } from 'node:readline';
import { Readable, Transform } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, createGzip, gunzip, gzip } from 'node:zlib';
import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { Histogram } from 'prom-client';
import { registry } from './metrics.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** JetStream object store of the stateful parts' snapshots (invariant 10: bounded restarts). */
export const SNAPSHOT_BUCKET = 'oncall-snapshots';

const snapshotSeconds = new Histogram({
  name: 'oncall_snapshot_seconds',
  help: 'Time to save or load a snapshot, by name and operation',
  labelNames: ['name', 'op'],
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
  registers: [registry],
});

/**
 * What a snapshot covers: `format` (a snapshot of another format is ignored, and the owner
 * rebuilds from the log), when it was taken, and the stream positions its state is exact at
 * (e.g. `{ intake: 1200, alerts: 5400 }`): the owner starts from it and folds only the log after.
 */
export type SnapshotMeta = Readonly<{ format: number; takenAt: string; covers: Readonly<Record<string, number>> }>;
export type Snapshot<T> = Readonly<{ meta: SnapshotMeta; body: T; bytes: number }>;
/** A snapshot read record by record (see SnapshotStore.saveRecords). */
export type SnapshotRecords<T> = Readonly<{ meta: SnapshotMeta; records: AsyncIterable<T> }>;

/** Records encoded per turn of the event loop while a snapshot is written, so its owner keeps working. */
const RECORDS_PER_TURN = 1000;

/**
 * Snapshots of in-memory state (the decider's open alerts, the escalator's escalations), kept as
 * gzipped JSON objects in a JetStream object store (chunked, so a state larger than a message
 * fits), each replaced by the next. Losing one only costs a longer rebuild from the log.
 */
export class SnapshotStore {
  private constructor(private readonly store: ObjectStore) {}

  static async open(nc: NatsConnection, replicas = 1): Promise<SnapshotStore> {
    return new SnapshotStore(await new Objm(nc).create(SNAPSHOT_BUCKET, { replicas }));
  }

  /** Saves `body` as JSON under `name`, replacing the one before; returns the stored size. */
  async save(name: string, meta: SnapshotMeta, body: unknown): Promise<number> {
    const end = snapshotSeconds.startTimer({ name, op: 'save' });
    const bytes = await gzipAsync(Buffer.from(JSON.stringify(body), 'utf8'), { level: 1 });
    await this.store.putBlob({ name, metadata: { meta: JSON.stringify(meta) } }, bytes);
    end();
    return bytes.length;
  }

  /** The latest snapshot of `name` in `format`, or null (none, another format, or unreadable). */
  async load<T>(name: string, format: number): Promise<Snapshot<T> | null> {
    const end = snapshotSeconds.startTimer({ name, op: 'load' });
    const meta = await this.metaOf(name, format);
    if (!meta) return null;
    const bytes = await this.store.getBlob(name);
    if (!bytes) return null;
    const body = JSON.parse((await gunzipAsync(bytes)).toString('utf8')) as T;
    end();
    return { meta, body, bytes: bytes.length };
  }

  /**
   * Saves `records` as gzipped JSON lines, streamed: a large state is never one string in
   * memory, and its owner keeps working while it is encoded (a slice of records per turn of the
   * event loop; the records must not change meanwhile: pass immutable values). Replaces the one
   * before; returns the stored size.
   */
  async saveRecords(name: string, meta: SnapshotMeta, records: Iterable<unknown>): Promise<number> {
    const end = snapshotSeconds.startTimer({ name, op: 'save' });
    let bytes = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const gzipped = Readable.from(jsonLines(records))
      .pipe(createGzip({ level: 1 }))
      .pipe(counted);
    await this.store.put({ name, metadata: { meta: JSON.stringify(meta) } }, Readable.toWeb(gzipped) as ReadableStream<Uint8Array>);
    end();
    return bytes;
  }

  /**
   * The latest snapshot of `name` in `format` saved with saveRecords, or null (none, another
   * format). Its records are fetched as they are iterated (once).
   */
  async loadRecords<T>(name: string, format: number): Promise<SnapshotRecords<T> | null> {
    const meta = await this.metaOf(name, format);
    if (!meta) return null;
    const store = this.store;
    async function* records(): AsyncGenerator<T> {
      const end = snapshotSeconds.startTimer({ name, op: 'load' });
      const result = await store.get(name);
      if (!result) throw new Error(`snapshot ${name} is gone`);
      const lines = createInterface({
        input: Readable.fromWeb(result.data).pipe(createGunzip()),
        crlfDelay: Infinity,
      });
      for await (const line of lines) if (line) yield JSON.parse(line) as T;
      const failed = await result.error;
      if (failed) throw failed;
      end();
    }
    return { meta, records: records() };
  }

  private async metaOf(name: string, format: number): Promise<SnapshotMeta | null> {
    const info = await this.store.info(name);
    const metaText = info && !info.deleted ? info.metadata?.meta : undefined;
    if (!metaText) return null;
    const meta = JSON.parse(metaText) as SnapshotMeta;
    return meta.format === format ? meta : null;
  }

  async delete(name: string): Promise<void> {
    await this.store.delete(name).catch(() => undefined);
  }
}

/** Records as JSON lines, a slice per turn of the event loop. */
async function* jsonLines(records: Iterable<unknown>): AsyncGenerator<string> {
  let lines: string[] = [];
  for (const record of records) {
    lines.push(JSON.stringify(record));
    if (lines.length < RECORDS_PER_TURN) continue;
    yield `${lines.join('\n')}\n`;
    lines = [];
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
}
