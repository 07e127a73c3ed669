import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { CONSUMERS, encodeEvent, STREAMS, type DomainEvent, type EventOf } from '@oncall/contracts';
import { fileUserDirectory } from '@oncall/shared';
import { startEscalator } from '@oncall/escalator';
import { DELIVERY_BUCKET } from '../dispatcher/src/adapters/records.js';
import { recordKey } from '../dispatcher/src/domain/keys.js';
import { formatRecord } from '../dispatcher/src/domain/record.js';
import { escalation, eventFactory, user } from './projection-events.js';
import { emailNotifierFor, slackNotifierFor, startDispatcherForTest } from './dispatcher-setup.js';
import { appendConfig, followStream } from './escalation-log.js';
import { startSlackFake, startSmtpFake, type SlackFake, type SmtpFake } from './fakes/index.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { testLog } from './harness.js';

const USERS = fileUserDirectory([
  {
    id: 'alice',
    name: 'Alice',
    email: 'alice@example.com',
    timezone: 'Europe/Berlin',
    contacts: [
      { channel: 'email', address: 'alice@example.com' },
      { channel: 'slack', address: 'U0ALICE' },
    ],
  },
]);

type Delivered = EventOf<'NotificationDelivered'>;

/** Until the dispatcher's consumer has acked every message up to `seq` (handled, not in flight). */
async function ackedThrough(p: TestPipeline, seq: number): Promise<void> {
  const jsm = await jetstreamManager(p.admin);
  for (let i = 0; i < 200; i++) {
    const info = await jsm.consumers.info(STREAMS.escalations, CONSUMERS.dispatcher);
    if (info.ack_floor.stream_seq >= seq) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`dispatcher never acked through ${seq}`);
}
const generic = (summary: string, key: string, labels: Record<string, string> = {}) =>
  JSON.stringify({ summary, severity: 'critical', dedup_key: key, labels });

describe('dispatcher end to end: webhook in, Slack and e-mail out, each once', () => {
  let p: TestPipeline;
  let slack: SlackFake;
  let smtp: SmtpFake;
  let escalations: Awaited<ReturnType<typeof followStream>>;
  let deliveries: Awaited<ReturnType<typeof followStream>>;
  let stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    [p, slack, smtp] = await Promise.all([startTestPipeline({ partitions: 2 }), startSlackFake(), startSmtpFake()]);
    await appendConfig(p.admin, 'policy', 'checkout', 'EscalationPolicyConfigured', {
      policyId: 'checkout',
      name: 'Checkout',
      repeat: 0,
      steps: [{ delaySeconds: 600, targets: [{ type: 'user', userId: 'alice' }], untilAllAck: false }],
    });
    await appendConfig(p.admin, 'routing', 'checkout', 'RoutingConfigured', {
      serviceId: 'checkout',
      escalationPolicyId: 'checkout',
      templateId: 'page',
      ackTimeoutSeconds: null,
      rules: [],
    });
    await appendConfig(p.admin, 'template', 'page', 'TemplateVersionPublished', {
      templateId: 'page',
      version: 1,
      name: 'Page',
      description: '',
      createdBy: 'test',
      variables: { required: [], optional: [] },
      channels: {
        slack: null,
        teams: null,
        emailSubject: '[{{ alert.severity | upcase }}] {{ alert.summary }}',
        emailHtml: null,
        emailText: null,
        sms: null,
        voice: null,
        webhook: null,
      },
    });
    escalations = await followStream(p.admin, STREAMS.escalations);
    deliveries = await followStream(p.admin, STREAMS.deliveries);
    const escalator = await startEscalator({
      nc: await p.nats.connect('escalator'),
      partitions: p.partitions,
      users: USERS,
      log: testLog,
      owner: 'test',
    });
    const dispatcher = await startDispatcherForTest(p, { slack: slackNotifierFor(slack), email: emailNotifierFor(smtp) });
    stops = [dispatcher.stop, escalator.stop];
  });

  afterAll(async () => {
    for (const stop of stops) await stop();
    await Promise.all([escalations.close(), deliveries.close()]);
    await Promise.all([slack.close(), smtp.close(), p.stop()]);
  });

  it('renders the page once per channel: Slack blocks with Acknowledge/Resolve buttons, and the e-mail with the template subject', async () => {
    const hostile = 'db "primary" <script>alert(1)</script>\\ down';
    expect((await p.post('/api/v1/webhook/generic', generic(hostile, 'db-down', { site: 'fra1' }))).status).toBe(202);
    const [call] = await slack.calls.waitFor(1, 15_000);
    expect(call!.args.channel).toBe('U0ALICE');
    const blocks = call!.args.blocks as Array<{ type: string; elements?: Array<{ action_id?: string }> }>;
    expect(blocks[0]).toMatchObject({ type: 'header', text: { text: `🚨 ${hostile}` } });
    expect(blocks.find((b) => b.type === 'actions')?.elements?.map((e) => e.action_id)).toStrictEqual([
      'ack',
      'resolve',
      'escalate',
      'snooze',
    ]);
    const [mail] = await smtp.messages.waitFor(1, 15_000);
    expect(mail!.envelope.to).toStrictEqual(['alice@example.com']);
    expect(mail!.parsed.subject).toBe(`[CRITICAL] ${hostile}`);
    expect(mail!.parsed.html || '').not.toContain('<script>');
    const delivered = (await deliveries.waitFor((e) => e.type === 'NotificationDelivered', 2)) as Delivered[];
    expect(delivered.map((d) => d.data.channel).sort()).toStrictEqual(['email', 'slack']);
    expect(delivered.every((d) => d.data.templateId === 'page' && d.data.templateVersion === 1)).toBe(true);
    expect(delivered.find((d) => d.data.channel === 'email')?.data.destination).toBe('a•••@example.com');
  });

  it('a redelivered NotificationRequested (crash before ack) is not sent again', async () => {
    const [request] = await escalations.waitFor((e) => e.type === 'NotificationRequested');
    const before = { slack: slack.calls.items.length, mail: smtp.messages.items.length };
    // The same event again, as JetStream would redeliver it after a crash between send and ack.
    const copy = await jetstream(p.admin).publish(
      `escalations.0.${(request as DomainEvent & { data: { alertId: string } }).data.alertId}`,
      encodeEvent(request!),
    );
    await ackedThrough(p, copy.seq);
    expect((await p.post('/api/v1/webhook/generic', generic('cache cold', 'cache-cold'))).status).toBe(202);
    await slack.calls.waitFor(before.slack + 1, 15_000);
    await smtp.messages.waitFor(before.mail + 1, 15_000);
    await deliveries.waitFor((e) => e.type === 'NotificationDelivered', 4);
    expect(slack.calls.items).toHaveLength(before.slack + 1);
    expect(smtp.messages.items).toHaveLength(before.mail + 1);
  });

  it('a delivery recorded before a crash cut off its event gets the event, and a failed SMS goes on to its voice fallback', async () => {
    const e = escalation(eventFactory(Date.now()), 'resume');
    const slackPage = e.requested('slack', { type: 'slack', channel: '#noc' });
    const smsPage = e.requested('sms', user('bob'), { channels: ['sms', 'voice'] });
    // What a dispatcher killed between writing the record and writing the event leaves behind.
    const kv = await new Kvm(p.admin).open(DELIVERY_BUCKET);
    await kv.put(
      recordKey(`${slackPage.data.notificationId}:slack`),
      formatRecord({ state: 'sent', providerMessageId: 'C0NOC/1763900000.000100' }),
    );
    await kv.put(
      recordKey(`${smsPage.data.notificationId}:sms`),
      formatRecord({ state: 'failed', delivery: 1, reason: 'provider_unavailable' }),
    );
    const slackCalls = slack.calls.items.length;
    for (const event of [slackPage, smsPage]) await jetstream(p.admin).publish(`escalations.0.${event.data.alertId}`, encodeEvent(event));
    const mine = (ev: DomainEvent) =>
      'notificationId' in ev.data && [slackPage.data.notificationId, smsPage.data.notificationId].includes(ev.data.notificationId);
    const recorded = await deliveries.waitFor(mine, 3);
    expect(recorded.map((ev) => [ev.type, (ev.data as { channel: string }).channel]).sort()).toStrictEqual([
      ['NotificationDelivered', 'slack'],
      ['NotificationFailed', 'sms'],
      ['NotificationFailed', 'voice'],
    ]);
    expect(recorded.find((ev) => ev.type === 'NotificationDelivered')?.data).toMatchObject({
      providerMessageId: 'C0NOC/1763900000.000100',
    });
    expect(recorded.find((ev) => ev.type === 'NotificationFailed' && ev.data.channel === 'sms')?.data).toMatchObject({
      reason: 'provider_unavailable',
      fallback: 'voice',
    });
    // The fallback was tried: this dispatcher has no voice channel.
    expect(recorded.find((ev) => ev.type === 'NotificationFailed' && ev.data.channel === 'voice')?.data).toMatchObject({
      reason: 'channel_not_configured',
    });
    expect(slack.calls.items).toHaveLength(slackCalls);
  });

  it('a send that fails with a retryable error is retried after a backoff and recorded once, with its attempts', async () => {
    const e = escalation(eventFactory(Date.now()), 'retried');
    const page = e.requested('slack', { type: 'slack', channel: '#retries' });
    const calls = slack.calls.items.length;
    slack.failNext({ status: 503 }, 1);
    await jetstream(p.admin).publish(`escalations.1.${page.data.alertId}`, encodeEvent(page));
    const [delivered] = await deliveries.waitFor(
      (ev) => ev.type === 'NotificationDelivered' && ev.data.notificationId === page.data.notificationId,
    );
    expect(delivered!.data).toMatchObject({ channel: 'slack', attempts: 2 });
    expect(slack.calls.items.slice(calls).map((c) => c.args.channel)).toStrictEqual(['#retries', '#retries']);
    const failed = deliveries.events.filter(
      (ev) => ev.type === 'NotificationFailed' && ev.data.notificationId === page.data.notificationId,
    );
    expect(failed).toHaveLength(0);
  });
});
