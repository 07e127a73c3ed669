import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { buildEvent, CONSUMERS, encodeEvent, stableUuid, STREAMS, subjects } from '@oncall/contracts';
import { createReadModelPool } from '@oncall/shared';
import { entryArgs } from '../infra/src/entry.js';
import { migrate } from '../infra/src/migrate.js';
import { alertsProjection, replayProjection, waitForProjection } from '@oncall/projector';
import { createTestDatabase, prepareTopology, startTestNats, streamLastSeq, tableRows, type TestNats } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ALERTS = 6000;
const AT = '2026-11-23T10:00:00.000Z';

function startProjectorProcess(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, entryArgs('projector/src/main.ts'), {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Appends ALERTS triggered alerts and resolves every third one, straight into the ALERTS stream. */
async function appendWorkload(nc: NatsConnection): Promise<number> {
  const js = jetstream(nc);
  const acks: Promise<unknown>[] = [];
  const meta = (id: string) => ({ id: stableUuid(id), occurredAt: AT, causationId: null, correlationId: 'crash-test' });
  for (let i = 0; i < ALERTS; i++) {
    const ref = { alertId: stableUuid(`alert-${i}`), serviceId: 'svc', fingerprint: `fp-${i}` };
    const triggered = buildEvent(
      'AlertTriggered',
      {
        ...ref,
        source: 'generic',
        summary: `alert ${i}`,
        details: '',
        severity: 'critical',
        labels: { n: String(i) },
        annotations: {},
        links: [],
        custom: {},
        startsAt: null,
        generatorUrl: null,
        seenAt: AT,
      },
      meta(`t-${i}`),
    );
    acks.push(js.publish(subjects.alert(0, ref.alertId), encodeEvent(triggered)));
    if (i % 3 === 0) {
      const resolved = buildEvent('AlertResolved', { ...ref, by: 'source', userId: null, note: '', endsAt: null }, meta(`r-${i}`));
      acks.push(js.publish(subjects.alert(0, ref.alertId), encodeEvent(resolved)));
    }
  }
  await Promise.all(acks);
  return acks.length;
}

describe('projector killed with SIGKILL mid-stream', () => {
  let nats: TestNats;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    await nats?.stop();
  });
  beforeAll(async () => {
    nats = await startTestNats();
  });

  it('resumes with no row lost or doubled', async () => {
    const nc = await nats.connect();
    await prepareTopology(nc);
    const db = await createTestDatabase();
    const total = await appendWorkload(nc);
    expect(await streamLastSeq(nc, STREAMS.alerts)).toBe(total);
    const env = { NATS_URL: nats.url, DATABASE_URL: db.url, READ_MODEL_SCHEMA: db.schema, METRICS_PORT: String(await getPort()) };

    child = startProjectorProcess(env);
    // The first commit: the projector is now somewhere in the middle of the stream.
    await waitForProjection(db.url, db.schema, CONSUMERS.projectorAlerts, 1, 30_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    const [checkpoint] = (await tableRows(db.url, db.schema, 'projection_checkpoints', 'projection')) as Array<{ last_seq: string }>;
    expect(Number(checkpoint?.last_seq)).toBeLessThan(total);

    child = startProjectorProcess(env);
    await waitForProjection(db.url, db.schema, CONSUMERS.projectorAlerts, total, 30_000);
    child.kill('SIGTERM');

    await migrate(db.url, 'fresh');
    const pool = await createReadModelPool(db.url, 'fresh');
    await replayProjection(nc, pool, alertsProjection);
    await pool.end();
    const live = await tableRows(db.url, db.schema, 'alerts', 'id');
    expect(live).toHaveLength(ALERTS);
    expect(live).toEqual(await tableRows(db.url, 'fresh', 'alerts', 'id'));
    expect(await tableRows(db.url, db.schema, 'alert_timeline', 'seq')).toEqual(await tableRows(db.url, 'fresh', 'alert_timeline', 'seq'));
  }, 60_000);
});
