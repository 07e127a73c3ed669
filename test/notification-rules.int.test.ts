import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMERS, STREAMS } from '@oncall/contracts';
import { fileUserDirectory, ManualClock } from '@oncall/shared';
import { startEscalator } from '@oncall/escalator';
import { startUsersService, type RunningUsersService } from '../infra/src/users-service.js';
import { waitForProjection } from '@oncall/projector';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { followStream, type FollowedStream } from './escalation-log.js';
import { channels, command, isNotice, noticesOf, seed, trigger, type Notice } from './rules-setup.js';
import { streamLastSeq, tableRows, testLog } from './harness.js';
import { entryArgs } from '../infra/src/entry.js';

const SEC = 1000;
const MIN = 60 * SEC;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('notification rules on a real nats-server (controllable clock)', () => {
  let p: TestPipeline;
  let clock: ManualClock;
  let log: FollowedStream;
  let escalator: { stop: () => Promise<void> };

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 1 });
    await seed(p, [
      ['slack', 0],
      ['sms', 60],
      ['voice', 300],
    ]);
    clock = new ManualClock(Date.now());
    log = await followStream(p.admin, STREAMS.escalations);
    const users = fileUserDirectory([
      {
        id: 'alice',
        name: 'Alice',
        email: 'alice@example.com',
        timezone: 'UTC',
        contacts: [
          { channel: 'slack', address: 'U0ALICE' },
          { channel: 'sms', address: '+15555550101', verified: false },
          { channel: 'voice', address: '+15555550101' },
        ],
      },
    ]);
    escalator = await startEscalator({
      nc: await p.nats.connect('escalator'),
      partitions: p.partitions,
      users,
      log: testLog,
      owner: 'test-escalator',
      clock,
      requireVerified: true,
    });
  });

  afterAll(async () => {
    await escalator?.stop();
    await log?.close();
    await p?.stop();
  });

  it('pages slack at once, records the unverified sms as skipped at 1 min, calls at 5 min; the timeline shows the skip', async () => {
    const alert = await trigger(p, log, 'Checkout 5xx');
    const [page] = await log.waitFor(isNotice(alert.alertId));
    expect(channels(page as Notice)).toBe('slack');
    expect((page as Notice).data.rules?.later.map((l) => l.channel)).toStrictEqual(['sms', 'voice']);

    clock.advance(1 * MIN);
    const [, sms] = (await log.waitFor(isNotice(alert.alertId), 2)) as Notice[];
    expect(channels(sms!)).toBe('∅');
    expect(sms!.data.skipped).toStrictEqual([{ channel: 'sms', address: '+15555550101', reason: 'unverified' }]);

    clock.advance(4 * MIN);
    const [, , voice] = (await log.waitFor(isNotice(alert.alertId), 3)) as Notice[];
    expect(channels(voice!)).toBe('voice');

    await waitForProjection(p.db.url, p.db.schema, CONSUMERS.projectorEscalations, await streamLastSeq(p.admin, STREAMS.escalations));
    const rows = (await tableRows(p.db.url, p.db.schema, 'escalation_timeline', 'seq')) as Array<{ alert_id: string; message: string }>;
    const messages = rows.filter((r) => r.alert_id === alert.alertId).map((r) => r.message);
    expect(messages).toContain('critical page requested for user:alice (direct) (rule 2); skipped sms (unverified)');
  });

  it('an acknowledgement at 0:30 cancels the sms due at 1 min and the call at 5 min', async () => {
    const alert = await trigger(p, log, 'Checkout latency');
    await log.waitFor(isNotice(alert.alertId));
    clock.advance(30 * SEC);
    await command(p, alert, 'acknowledge');
    await log.waitFor((e) => e.type === 'EscalationStopped' && e.data.alertId === alert.alertId);
    clock.advance(10 * MIN);
    // A barrier: with one partition, a later alert is decided after every timer due before it.
    const barrier = await trigger(p, log, 'Barrier');
    await log.waitFor(isNotice(barrier.alertId));
    expect(noticesOf(log, alert.alertId).map(channels)).toStrictEqual(['slack']);
  });
});

describe('notification rules survive kill -9 of the escalator (real time)', () => {
  let p: TestPipeline;
  let log: FollowedStream;
  let users: RunningUsersService;
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 1 });
    await seed(p, [
      ['slack', 0],
      ['sms', 2],
      ['voice', 4],
    ]);
    dir = await mkdtemp(join(tmpdir(), 'oncall-rules-'));
    const file = join(dir, 'users.yaml');
    await writeFile(file, 'users:\n  - { id: alice, name: Alice, email: alice@example.com, phone: "+15555550101", slackId: U0ALICE }\n');
    users = await startUsersService({ file, port: 0, log: testLog });
    log = await followStream(p.admin, STREAMS.escalations);
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await log?.close();
    await users?.close();
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async () =>
    spawn(process.execPath, entryArgs('escalator/src/main.ts'), {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: 'error',
        NATS_URL: p.nats.url,
        ONCALL_PARTITIONS: String(p.partitions),
        USER_SERVICE_URL: `127.0.0.1:${users.port}`,
        // The same id: the restarted process takes its own lease at once.
        ESCALATOR_ID: 'rules-test',
        METRICS_PORT: String(await getPort()),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });

  it('the rules recorded before the kill fire once after the restart, each at or after its due time', async () => {
    child = await start();
    const alert = await trigger(p, log, 'Checkout down');
    const [page] = (await log.waitFor(isNotice(alert.alertId))) as Notice[];
    const [, sms] = (await log.waitFor(isNotice(alert.alertId), 2)) as Notice[];
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));

    child = await start();
    const [, , voice] = (await log.waitFor(isNotice(alert.alertId), 3, 30_000)) as Notice[];
    const barrier = await trigger(p, log, 'Barrier after restart');
    await log.waitFor(isNotice(barrier.alertId));

    const notices = noticesOf(log, alert.alertId);
    expect(notices.map(channels)).toStrictEqual(['slack', 'sms', 'voice']);
    expect(notices.map((n) => n.data.rules?.indexes)).toStrictEqual([[0], [1], [2]]);
    expect(new Set(notices.map((n) => n.data.notificationId)).size).toBe(3);
    const pagedAt = Date.parse(page!.occurredAt);
    expect(Date.parse(sms!.occurredAt) - pagedAt).toBeGreaterThanOrEqual(2 * SEC);
    expect(Date.parse(voice!.occurredAt) - pagedAt).toBeGreaterThanOrEqual(4 * SEC);
  }, 60_000);
});
