import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
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
    const info = await this.store.info(name);
    const metaText = info && !info.deleted ? info.metadata?.meta : undefined;
    if (!metaText) return null;
    const meta = JSON.parse(metaText) as SnapshotMeta;
    if (meta.format !== format) return null;
    const bytes = await this.store.getBlob(name);
    if (!bytes) return null;
    const body = JSON.parse((await gunzipAsync(bytes)).toString('utf8')) as T;
    end();
    return { meta, body, bytes: bytes.length };
  }

  async delete(name: string): Promise<void> {
    await this.store.delete(name).catch(() => undefined);
  }
}
