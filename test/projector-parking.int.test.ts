import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { buildEvent, CONSUMERS, encodeEvent, stableUuid, STREAMS, subjects } from '@oncall/contracts';
import { createReadModelPool } from '@oncall/shared';
import { alertsProjection, replayProjection, startProjector, waitForProjection } from '@oncall/projector';
import { createTestDatabase, prepareTopology, startTestNats, tableRows, testLog, type TestNats } from './harness.js';

const AT = '2026-11-23T10:00:00.000Z';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

function triggered(name: string, fingerprint: string, summary = `${name} is down`) {
  const ref = { alertId: stableUuid(`alert-${name}`), serviceId: 'svc', fingerprint };
  return buildEvent(
    'AlertTriggered',
    {
      ...ref,
      source: 'generic',
      summary,
      details: '',
      severity: 'critical',
      labels: { name },
      annotations: {},
      links: [],
      custom: {},
      startsAt: null,
      generatorUrl: null,
      seenAt: AT,
    },
    { id: stableUuid(`t-${name}`), occurredAt: AT, causationId: null, correlationId: 'parking-test' },
  );
}

function resolved(name: string, fingerprint: string) {
  const ref = { alertId: stableUuid(`alert-${name}`), serviceId: 'svc', fingerprint };
  return buildEvent(
    'AlertResolved',
    { ...ref, by: 'source', userId: null, note: '', endsAt: null },
    { id: stableUuid(`r-${name}`), occurredAt: AT, causationId: null, correlationId: 'parking-test' },
  );
}

type Parked = { consumer: string; stream: string; seq: string; reason: string; error: string; data: Buffer; retry_outcome: string | null };

describe('the projector parks what it cannot apply and goes on', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let db: { url: string; schema: string };
  let stopProjector: () => Promise<void>;
  const seqs: Record<string, number> = {};

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    await prepareTopology(nc, 1);
    db = await createTestDatabase();
    const pool = await createReadModelPool(db.url, db.schema);
    const projector = await startProjector({ nc: await nats.connect('projector'), pool, log: testLog });
    stopProjector = async () => {
      await projector.stop();
      await pool.end();
    };
  });
  afterAll(async () => {
    await stopProjector?.();
    await nats?.stop();
  });

  it('parks a NUL the database refuses, garbage bytes and a unique-index clash, and applies everything after them', async () => {
    const js = jetstream(nc);
    const put = async (name: string, subject: string, data: Uint8Array | string) => (seqs[name] = (await js.publish(subject, data)).seq);
    await put('first', subjects.alert(0, stableUuid('alert-first')), encodeEvent(triggered('first', 'fp-shared')));
    // Written past ingest (which would store U+FFFD): PostgreSQL refuses \u0000 in text and jsonb.
    await put('nul', subjects.alert(0, stableUuid('alert-nul')), encodeEvent(triggered('nul', 'fp-nul', 'bad \u0000 byte')));
    await put('garbage', subjects.alert(0, stableUuid('alert-garbage')), '{"truncated": ');
    // A second open alert of the same fingerprint: the read model's unique index refuses it.
    await put('clash', subjects.alert(0, stableUuid('alert-clash')), encodeEvent(triggered('clash', 'fp-shared')));
    await put('after', subjects.alert(0, stableUuid('alert-after')), encodeEvent(triggered('after', 'fp-after')));
    await waitForProjection(db.url, db.schema, CONSUMERS.projectorAlerts, seqs.after!);
    const alerts = (await tableRows(db.url, db.schema, 'alerts', 'fingerprint')) as Array<{ fingerprint: string }>;
    expect(alerts.map((a) => a.fingerprint)).toEqual(['fp-after', 'fp-shared']);

    await waitForProjection(db.url, db.schema, CONSUMERS.projectorParked, 3);
    const parked = (await tableRows(db.url, db.schema, 'parked_messages', 'seq')) as Parked[];
    expect(parked.map((p) => [p.consumer, p.stream, Number(p.seq), p.reason])).toEqual([
      [CONSUMERS.projectorAlerts, STREAMS.alerts, seqs.nul, 'rejected-by-database'],
      [CONSUMERS.projectorAlerts, STREAMS.alerts, seqs.garbage, 'undecodable'],
      [CONSUMERS.projectorAlerts, STREAMS.alerts, seqs.clash, 'rejected-by-database'],
    ]);
    expect(parked[1]!.data.toString()).toBe('{"truncated": ');
    expect(parked[0]!.error).toMatch(/\\u0000|0x00|unsupported Unicode/i);
  });

  it('retries a parked event on request: it fails while its cause stands, and applies once it is gone', async () => {
    const ask = async () =>
      JSON.parse(
        (
          await nc.request(subjects.parkedRetry(CONSUMERS.projectorAlerts), JSON.stringify({ stream: STREAMS.alerts, seq: seqs.clash }))
        ).string(),
      ) as { outcome: string; error: string | null };
    expect(await ask()).toMatchObject({ outcome: 'failed' });
    const js = jetstream(nc);
    const resolve = await js.publish(subjects.alert(0, stableUuid('alert-first')), encodeEvent(resolved('first', 'fp-shared')));
    await waitForProjection(db.url, db.schema, CONSUMERS.projectorAlerts, resolve.seq);
    expect(await ask()).toEqual({ outcome: 'applied', error: null });
    const alerts = (await tableRows(db.url, db.schema, 'alerts', 'fingerprint, status')) as Array<{ fingerprint: string; status: string }>;
    expect(alerts.map((a) => [a.fingerprint, a.status])).toEqual([
      ['fp-after', 'triggered'],
      ['fp-shared', 'resolved'],
      ['fp-shared', 'triggered'],
    ]);
    await waitForProjection(db.url, db.schema, CONSUMERS.projectorParked, 5);
    const parked = (await tableRows(db.url, db.schema, 'parked_messages', 'seq')) as Parked[];
    expect(parked.find((p) => Number(p.seq) === seqs.clash)).toMatchObject({ retry_outcome: 'applied' });
  });

  it('a replay skips the same events the live projector parked', async () => {
    const fresh = await createTestDatabase();
    const pool = await createReadModelPool(fresh.url, fresh.schema);
    const skipped: number[] = [];
    await replayProjection(nc, pool, alertsProjection, undefined, 1, (_p, r) => skipped.push(r.at.seq));
    await pool.end();
    expect(skipped.sort((a, b) => a - b)).toEqual([seqs.nul, seqs.garbage, seqs.clash]);
  });

  it('oncall parked lists what waits, and retry --all asks each consumer again', async () => {
    const oncall = (...args: string[]) =>
      run(process.execPath, ['bin/oncall.js', 'parked', ...args], {
        cwd: ROOT,
        env: { ...process.env, NATS_URL: nats.url, LOG_LEVEL: 'silent' },
      }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      );
    const waiting = await oncall('--json');
    expect(
      waiting.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    ).toEqual([seqs.nul, seqs.garbage]);
    expect((await oncall('--all', '--json')).stdout.trim().split('\n')).toHaveLength(3);
    const table = await oncall();
    expect(table.stdout).toContain(`${CONSUMERS.projectorAlerts}  ${STREAMS.alerts}#${seqs.garbage}  undecodable  waiting`);
    const retried = await oncall('retry', '--all');
    expect(retried.code).toBe(1);
    expect(retried.stdout).toContain(`${CONSUMERS.projectorAlerts} ${STREAMS.alerts}#${seqs.nul}: failed`);
  });
});
