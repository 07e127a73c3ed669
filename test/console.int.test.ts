import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, type EventOf } from '@oncall/contracts';
import { fileUserDirectory } from '@oncall/shared';
import { startDispatcher } from '@oncall/dispatcher';
import { startEscalator } from '@oncall/escalator';
import { appendConfig, followStream, type FollowedStream } from './escalation-log.js';
import { streamLastSeq, testLog } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const SECRET = 'console-test-secret-0123456789abcdef';
const USERS = fileUserDirectory([
  {
    id: 'alice',
    name: 'Alice',
    email: 'alice@example.com',
    timezone: 'UTC',
    contacts: [{ channel: 'email', address: 'alice@example.com' }],
  },
]);

/** Resolves with the first printed block that contains `text`. */
function printedBlocks() {
  const blocks: string[] = [];
  let wake: (() => void) | null = null;
  return {
    write: (text: string) => {
      blocks.push(text);
      wake?.();
    },
    waitFor: async (text: string): Promise<string> => {
      for (;;) {
        const found = blocks.find((b) => b.includes(text));
        if (found) return found;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

describe('console channel end to end: no provider configured, the page is printed with a working action link', () => {
  let p: TestPipeline;
  let deliveries: FollowedStream;
  const printed = printedBlocks();
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 2, actionSecrets: [SECRET] });
    await appendConfig(p.admin, 'policy', 'checkout', 'EscalationPolicyConfigured', {
      policyId: 'checkout',
      name: 'Checkout',
      repeat: 0,
      steps: [{ delaySeconds: 600, targets: [{ type: 'user', userId: 'alice' }], untilAllAck: false }],
    });
    await appendConfig(p.admin, 'routing', 'checkout', 'RoutingConfigured', {
      serviceId: 'checkout',
      escalationPolicyId: 'checkout',
      templateId: null,
      ackTimeoutSeconds: null,
      rules: [],
    });
    deliveries = await followStream(p.admin, STREAMS.deliveries);
    const escalator = await startEscalator({
      nc: await p.nats.connect('escalator'),
      partitions: p.partitions,
      users: USERS,
      log: testLog,
      owner: 'test',
    });
    const dispatcher = await startDispatcher({
      nc: await p.nats.connect('dispatcher'),
      notifiers: {},
      log: testLog,
      options: { consoleChannel: true, publicUrl: p.ingestUrl, actionSecret: SECRET },
      consoleWrite: printed.write,
    });
    stops.push(dispatcher.stop, escalator.stop);
  });

  afterAll(async () => {
    for (const stop of stops) await stop();
    await deliveries?.close();
    await p?.stop();
  });

  it('prints who, the alert and the link; the link acknowledges as the paged user', async () => {
    const body = JSON.stringify({ summary: 'Checkout latency high', severity: 'critical', dedup_key: 'console-1' });
    expect((await p.post('/api/v1/webhook/generic', body)).status).toBe(202);
    const block = await printed.waitFor('Checkout latency high');
    expect(block).toContain('│ to:      Alice (alice) by email alice@example.com');
    const url = /│ act: +(\S+)/.exec(block)?.[1] ?? '';
    expect(url.startsWith(`${p.ingestUrl}/a/`)).toBe(true);

    const [delivered] = (await deliveries.waitFor((e) => e.type === 'NotificationDelivered')) as EventOf<'NotificationDelivered'>[];
    expect(delivered!.data.channel).toBe('email');

    const pageHtml = await (await fetch(url)).text();
    expect(pageHtml).toContain('Checkout latency high');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'command=acknowledge',
    });
    expect(await res.text()).toContain('>Acknowledged</p>');
    await p.alertsApplied(await streamLastSeq(p.admin, STREAMS.alerts));
    const [alert] = await p.listAlerts({ labelSelector: {} });
    expect(alert?.acknowledgedByUserId).toBe('alice');
  });
});
