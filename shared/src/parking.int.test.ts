import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeEvent, STREAMS, subjects, type ParkingEvent } from '@oncall/contracts';
import { prepareTopology, startTestNats, testLog, type TestNats } from '../../test/harness.js';
import { StreamAppender } from './append.js';
import { Parking, parkedDigest, serveParkedRetries } from './parking.js';
import { SnapshotStore } from './snapshots.js';

async function parkedEvents(nc: NatsConnection): Promise<ParkingEvent[]> {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(STREAMS.parked)).state.last_seq;
  const out: ParkingEvent[] = [];
  for (let seq = 1; seq <= last; seq++) {
    const m = await jsm.streams.getMessage(STREAMS.parked, { seq });
    if (m) out.push(decodeEvent(m.data) as ParkingEvent);
  }
  return out;
}

describe('parking and snapshots on a real nats-server', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let appender: StreamAppender;
  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    await prepareTopology(nc, 2);
    appender = new StreamAppender(nc);
  });
  afterAll(async () => {
    await appender?.close();
    await nats?.stop();
  });

  it('parks a message once (idempotent), and a retry request reaches the consumer that parked it', async () => {
    const bad = await jetstream(nc).publish(subjects.intake(0), 'not json at all');
    const parking = new Parking(appender, testLog);
    const msg = { stream: STREAMS.intake, seq: bad.seq, subject: subjects.intake(0), data: new TextEncoder().encode('not json at all') };
    await parking.park('decider-p0-v1', msg, 'undecodable', new Error('event is not JSON'));
    await parking.park('decider-p0-v1', msg, 'undecodable', new Error('event is not JSON'));
    const [parked, ...rest] = await parkedEvents(nc);
    expect(rest).toEqual([]);
    expect(parked).toMatchObject({
      type: 'MessageParked',
      data: {
        consumer: 'decider-p0-v1',
        stream: 'INTAKE',
        seq: bad.seq,
        reason: 'undecodable',
        error: 'Error: event is not JSON',
        truncated: false,
      },
    });
    expect(Buffer.from((parked!.data as { data: string }).data, 'base64').toString()).toBe('not json at all');

    let calls = 0;
    const seen: string[] = [];
    const sub = serveParkedRetries(nc, 'decider-p0-v1', appender, testLog, async (m) => {
      seen.push(Buffer.from(m.data).toString());
      if (++calls === 1) throw new Error('still broken');
    });
    const ask = async () =>
      JSON.parse(
        (await nc.request(subjects.parkedRetry('decider-p0-v1'), JSON.stringify({ stream: 'INTAKE', seq: bad.seq }))).string(),
      ) as unknown;
    expect(await ask()).toEqual({ outcome: 'failed', error: 'Error: still broken' });
    expect(await ask()).toEqual({ outcome: 'applied', error: null });
    // A request for the message the record kept, but the stream holds another at that sequence now.
    const stale = await nc.request(
      subjects.parkedRetry('decider-p0-v1'),
      JSON.stringify({ stream: 'INTAKE', seq: bad.seq, digest: parkedDigest(new TextEncoder().encode('some other message')) }),
    );
    expect(JSON.parse(stale.string())).toMatchObject({
      outcome: 'failed',
      error: expect.stringContaining('no longer the message') as unknown,
    });
    sub.unsubscribe();
    expect(seen).toEqual(['not json at all', 'not json at all']);
    await appender.drain();
    const retries = (await parkedEvents(nc)).filter((e) => e.type === 'ParkedMessageRetried').map((e) => e.data);
    expect(retries).toMatchObject([
      { outcome: 'failed', error: 'Error: still broken' },
      { outcome: 'applied', error: null },
      { outcome: 'failed' },
    ]);
  });

  it('saves and loads a snapshot larger than a message, and ignores another format', async () => {
    const store = await SnapshotStore.open(nc);
    const body = {
      alerts: Array.from({ length: 50_000 }, (_, i) => ({ id: `alert-${i}`, labels: { host: `h${i}`, text: 'x'.repeat(100) } })),
    };
    const meta = { format: 1, takenAt: new Date().toISOString(), covers: { intake: 10, alerts: 20 } };
    await store.save('decider-p0', meta, body);
    const loaded = await store.load<typeof body>('decider-p0', 1);
    expect(loaded?.meta).toEqual(meta);
    expect(loaded?.body.alerts).toHaveLength(50_000);
    expect(loaded?.body.alerts[49_999]).toEqual(body.alerts[49_999]);
    expect(await store.load('decider-p0', 2)).toBeNull();
    expect(await store.load('nothing-here', 1)).toBeNull();
  });
});
