import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { prepareTopology, startTestNats, type TestNats } from '../../test/harness.js';
import { SnapshotStore } from './snapshots.js';

describe('snapshots saved record by record', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    await prepareTopology(nc, 1);
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('streams many records in and out (larger than a message, in order), replaces the one before, and ignores another format', async () => {
    const store = await SnapshotStore.open(nc);
    const record = (i: number) => ({ id: `escalation-${i}`, labels: { host: `h${i}`, text: 'x'.repeat(200) }, at: i });
    const meta = { format: 3, takenAt: new Date().toISOString(), covers: { alerts: 120, escalations: 340 } };
    await store.saveRecords('records', { ...meta, covers: { alerts: 1, escalations: 1 } }, [record(-1)]);
    const bytes = await store.saveRecords(
      'records',
      meta,
      Array.from({ length: 30_000 }, (_, i) => record(i)),
    );
    expect(bytes).toBeGreaterThan(0);

    const loaded = await store.loadRecords<ReturnType<typeof record>>('records', 3);
    expect(loaded?.meta).toEqual(meta);
    const read: Array<ReturnType<typeof record>> = [];
    for await (const r of loaded!.records) read.push(r);
    expect(read).toHaveLength(30_000);
    expect(read[0]).toEqual(record(0));
    expect(read[29_999]).toEqual(record(29_999));
    expect(await store.loadRecords('records', 4)).toBeNull();
    expect(await store.loadRecords('nothing-here', 3)).toBeNull();
  });
});
