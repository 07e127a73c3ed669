import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { buildEvent, encodeEvent, partitionOf, STREAMS, subjects, type SlackAlertTarget } from '@oncall/contracts';
import { AlertCommandPath, fileUserDirectory } from '@oncall/shared';
import { startEscalator } from '@oncall/escalator';
import { startDispatcher, slackMessageEditor } from '@oncall/dispatcher';
import { startIngest } from '@oncall/ingest';
import { slackNotifierFor } from './dispatcher-setup.js';
import { appendConfig, followStream, type FollowedStream } from './escalation-log.js';
import { startSlackFake, type SlackCall, type SlackFake } from './fakes/index.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { testLog } from './harness.js';
import { pressForm, send, signedPost, SIGNING_SECRET } from './slack-setup.js';

const USERS = fileUserDirectory([
  { id: 'alice', name: 'Alice', email: 'a@example.com', timezone: 'UTC', contacts: [{ channel: 'slack', address: 'U0ALICE' }] },
  { id: 'bob', name: 'Bob', email: 'b@example.com', timezone: 'UTC', contacts: [{ channel: 'slack', address: 'U0BOB' }] },
]);

type Block = { type: string; text?: { text: string }; elements?: Array<{ action_id?: string; text?: string }> };
const actionIds = (c: SlackCall) =>
  ((c.args.blocks ?? []) as Block[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements!.map((e) => e.action_id));
const contextLine = (c: SlackCall) => ((c.args.blocks ?? []) as Block[]).find((b) => b.type === 'context')?.elements?.[0]?.text ?? '';

describe('Slack messages follow the alert, whoever changes it', () => {
  let p: TestPipeline;
  let slack: SlackFake;
  let deliveries: FollowedStream;
  let alerts: FollowedStream;
  let ingestUrl: string;
  let commands: AlertCommandPath;
  let stops: Array<() => Promise<void>> = [];
  let stopDispatcher: () => Promise<void>;
  let n = 0;

  const dispatcher = async () =>
    startDispatcher({
      nc: await p.nats.connect(`dispatcher-${(n += 1)}`),
      notifiers: { slack: slackNotifierFor(slack) },
      log: testLog,
      options: { retryBaseMs: 100, retryMaxMs: 1000, publicUrl: 'https://oncall.example.com' },
      slackUpdates: { editor: slackMessageEditor({ token: slack.token, apiUrl: slack.apiUrl, timeoutMs: 5000 }), users: USERS },
    });

  /** An alert paged to Alice on Slack: its target and the message's channel and ts. */
  async function pagedAlert(summary: string): Promise<{ target: SlackAlertTarget; channel: string; ts: string }> {
    const res = await p.post('/api/v1/webhook/generic', JSON.stringify({ summary, severity: 'critical', dedup_key: summary }));
    expect(res.status).toBe(202);
    const [t] = await alerts.waitFor((e) => e.type === 'AlertTriggered' && (e.data as { summary: string }).summary === summary);
    const d = t!.data as { alertId: string; serviceId: string; fingerprint: string };
    const [delivered] = await deliveries.waitFor(
      (e) => e.type === 'NotificationDelivered' && (e.data as { alertId: string }).alertId === d.alertId,
      1,
      15_000,
    );
    const [channel, ts] = (delivered!.data as { providerMessageId: string }).providerMessageId.split('/');
    return { target: { alertId: d.alertId, serviceId: d.serviceId, fingerprint: d.fingerprint }, channel: channel!, ts: ts! };
  }

  /** The first chat.update of this message that `match` accepts. */
  async function updated(channel: string, ts: string, match: (c: SlackCall) => boolean): Promise<SlackCall> {
    for (let count = 1; ; count++) {
      const hit = (await slack.calls.waitFor(count, 15_000)).find(
        (c) => c.method === 'chat.update' && c.args.channel === channel && c.args.ts === ts && match(c),
      );
      if (hit) return hit;
    }
  }

  beforeAll(async () => {
    [p, slack] = await Promise.all([startTestPipeline({ partitions: 2 }), startSlackFake()]);
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
    alerts = await followStream(p.admin, STREAMS.alerts);
    deliveries = await followStream(p.admin, STREAMS.deliveries);
    const escalator = await startEscalator({
      nc: await p.nats.connect('escalator'),
      partitions: p.partitions,
      users: USERS,
      log: testLog,
      owner: 'test',
    });
    stopDispatcher = (await dispatcher()).stop;
    const ingest = await startIngest({
      nc: await p.nats.connect('ingest-slack'),
      partitions: p.partitions,
      port: 0,
      host: '127.0.0.1',
      bodyLimitBytes: 1024 * 1024,
      rateLimitPerSecond: 0,
      slack: { signingSecret: SIGNING_SECRET, directory: USERS, pool: null },
      log: testLog,
    });
    ingestUrl = ingest.url;
    commands = new AlertCommandPath(p.ingestNc, { partitions: p.partitions });
    stops = [ingest.stop, escalator.stop];
  });

  afterAll(async () => {
    await stopDispatcher();
    for (const stop of stops) await stop();
    await Promise.all([alerts.close(), deliveries.close()]);
    await Promise.all([slack.close(), p.stop()]);
  });

  it('a press in Slack: the message shows who acknowledged and how; resolved by the source: no more buttons', async () => {
    const { target, channel, ts } = await pagedAlert('db down');
    const form = pressForm('ack', target, 'U0ALICE', { triggerId: 'u-ack', responseUrl: slack.responseUrl('u-ack') });
    expect((await send(signedPost(`${ingestUrl}/api/v1/slack/interactions`, form))).status).toBe(200);
    const acked = await updated(channel, ts, (c) => contextLine(c).startsWith('Acknowledged'));
    expect(contextLine(acked)).toMatch(/^Acknowledged by Alice via slack · <!date\^/);
    expect(actionIds(acked)).toStrictEqual(['resolve', 'escalate', 'snooze', 'open']);
    expect(slack.message(channel, ts)?.text).toBe('[ACKNOWLEDGED] Checkout: db down');

    const res = await p.post('/api/v1/webhook/generic', JSON.stringify({ summary: 'db down', dedup_key: 'db down', action: 'close' }));
    expect(res.status).toBe(202);
    const resolved = await updated(channel, ts, (c) => contextLine(c).startsWith('Resolved'));
    expect(contextLine(resolved)).toMatch(/^Resolved by the source · /);
    expect(actionIds(resolved)).toStrictEqual(['open']);
    expect((resolved.args.blocks as Block[])[0]?.text?.text).toBe('✅ Resolved: db down');
  });

  it('the first page of an incident says how many alerts joined it (IncidentUpdated on its escalation subject)', async () => {
    const { target, channel, ts } = await pagedAlert('rack r7 down');
    const event = buildEvent(
      'IncidentUpdated',
      { alertId: target.alertId, serviceId: target.serviceId, incidentId: randomUUID(), alerts: 38 },
      { id: randomUUID(), occurredAt: new Date().toISOString(), causationId: null, correlationId: target.alertId },
    );
    const partition = partitionOf(target.serviceId, target.fingerprint, p.partitions);
    await jetstream(p.ingestNc).publish(subjects.escalation(partition, target.alertId), encodeEvent(event));
    const grown = await updated(channel, ts, (c) => contextLine(c).includes('more alerts'));
    expect(contextLine(grown)).toBe('*+37 more alerts* joined this incident (not paged separately)');
    expect(actionIds(grown)).toStrictEqual(['ack', 'resolve', 'escalate', 'snooze', 'open']);
  });

  it('acknowledged by SMS (another surface on the command path): the Slack message says so', async () => {
    const { target, channel, ts } = await pagedAlert('queue stuck');
    const answer = await commands.submit({ target, command: 'acknowledge', userId: 'bob', via: 'sms' }, AbortSignal.timeout(10_000));
    expect(answer.outcome).toBe('changed');
    const acked = await updated(channel, ts, (c) => contextLine(c).startsWith('Acknowledged'));
    expect(contextLine(acked)).toMatch(/^Acknowledged by Bob via sms · /);
  });

  it('a change while the dispatcher is down is shown once it is back (durable consumer)', async () => {
    const { target, channel, ts } = await pagedAlert('cache cold');
    await stopDispatcher();
    const answer = await commands.submit({ target, command: 'resolve', userId: 'alice', via: 'api' }, AbortSignal.timeout(10_000));
    expect(answer.outcome).toBe('changed');
    stopDispatcher = (await dispatcher()).stop;
    const resolved = await updated(channel, ts, (c) => contextLine(c).startsWith('Resolved'));
    expect(contextLine(resolved)).toMatch(/^Resolved by Alice via api · /);
    expect(actionIds(resolved)).toStrictEqual(['open']);
  });
});
