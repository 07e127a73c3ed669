import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, type DomainEvent, type EventOf } from '@oncall/contracts';
import { fileUserDirectory } from '@oncall/shared';
import { startEscalator } from '@oncall/escalator';
import { appendConfig, followStream } from './escalation-log.js';
import { startSlackFake, type SlackFake } from './fakes/index.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { testLog } from './harness.js';
import { entryArgs } from '../infra/src/entry.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The dispatcher as its own process (so it can be killed -9), ready once it logs that it runs. */
async function spawnDispatcher(p: TestPipeline, slack: SlackFake): Promise<ChildProcess> {
  const child = spawn(process.execPath, entryArgs('dispatcher/src/main.ts'), {
    cwd: ROOT,
    env: {
      ...process.env,
      NATS_URL: p.nats.url,
      SLACK_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      DISPATCHER_ACK_WAIT_MS: '2000',
      DISPATCHER_CLAIM_STALE_MS: '2000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('dispatcher running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`dispatcher exited with ${code}: ${out}`)));
  });
  return child;
}

describe('dispatcher killed mid-send', () => {
  let p: TestPipeline;
  let slack: SlackFake;
  let escalator: { stop: () => Promise<void> };
  let child: ChildProcess | undefined;
  let escalations: Awaited<ReturnType<typeof followStream>>;
  let deliveries: Awaited<ReturnType<typeof followStream>>;

  beforeAll(async () => {
    [p, slack] = await Promise.all([startTestPipeline({ partitions: 1 }), startSlackFake()]);
    await appendConfig(p.admin, 'policy', 'noc', 'EscalationPolicyConfigured', {
      policyId: 'noc',
      name: 'NOC',
      repeat: 0,
      steps: [{ delaySeconds: 600, targets: [{ type: 'slack', channel: 'C0NOC' }], untilAllAck: false }],
    });
    await appendConfig(p.admin, 'routing', 'checkout', 'RoutingConfigured', {
      serviceId: 'checkout',
      escalationPolicyId: 'noc',
      templateId: null,
      ackTimeoutSeconds: null,
      rules: [],
    });
    escalations = await followStream(p.admin, STREAMS.escalations);
    deliveries = await followStream(p.admin, STREAMS.deliveries);
    escalator = await startEscalator({
      nc: await p.nats.connect('escalator'),
      partitions: p.partitions,
      users: fileUserDirectory([]),
      log: testLog,
      owner: 'test',
    });
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await escalator.stop();
    await Promise.all([escalations.close(), deliveries.close()]);
    await Promise.all([slack.close(), p.stop()]);
  });

  const page = async (summary: string) => {
    expect((await p.post('/api/v1/webhook/generic', JSON.stringify({ summary, severity: 'critical', dedup_key: summary }))).status).toBe(
      202,
    );
  };
  const callsFor = (summary: string) => slack.calls.items.filter((c) => String(c.args.text).includes(summary)).length;
  const deliveredFor = (summary: string, events: DomainEvent[]) => {
    const ids = new Set(
      escalations.events
        .filter((e) => e.type === 'NotificationRequested' && e.data.alert.summary === summary)
        .map((e) => (e as EventOf<'NotificationRequested'>).data.notificationId),
    );
    return events.filter((e) => e.type === 'NotificationDelivered' && ids.has(e.data.notificationId)).length;
  };

  it('each notification is delivered once; the one cut mid-send is sent again after restart', async () => {
    child = await spawnDispatcher(p, slack);
    await page('alpha');
    await deliveries.waitFor((e) => e.type === 'NotificationDelivered', 1);

    // The provider takes the next request and never answers; the dispatcher dies while it waits.
    slack.failNext({ hang: true }, 1);
    await page('bravo');
    await slack.calls.waitFor(2, 15_000);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await page('charlie');
    await escalations.waitFor((e) => e.type === 'NotificationRequested', 3);

    child = await spawnDispatcher(p, slack);
    await deliveries.waitFor((e) => e.type === 'NotificationDelivered', 3, 20_000);
    expect(['alpha', 'bravo', 'charlie'].map((s) => deliveredFor(s, deliveries.events))).toStrictEqual([1, 1, 1]);
    // bravo's first request was never answered (the process died waiting), so it went out again;
    // everything answered went out once.
    expect(['alpha', 'bravo', 'charlie'].map(callsFor)).toStrictEqual([1, 2, 1]);
  }, 60_000);
});
