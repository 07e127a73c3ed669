import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import getPort from 'get-port';
import { sql } from 'slonik';
import { CONSUMERS, STREAMS, type DomainEvent, type EventOf } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { fileUserDirectory, ManualClock, TWILIO_PATHS } from '@oncall/shared';
import { startDispatcher } from '@oncall/dispatcher';
import { startEscalator } from '@oncall/escalator';
import { startIngest } from '@oncall/ingest';
import { waitForProjection } from '@oncall/projector';
import { twilioNotifiers } from '../dispatcher/src/notifiers/index.js';
import { startTwilioFake, type TwilioCall, type TwilioFake } from './fakes/index.js';
import { appendConfig, followStream, type FollowedStream } from './escalation-log.js';
import { streamLastSeq, testLog } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const MIN = 60_000;
const ALICE = '+15555550101';
const CAROL = '+15555550103';
const STRANGER = '+15555550199';
const USERS = fileUserDirectory([
  {
    id: 'alice',
    name: 'Alice',
    email: 'alice@example.com',
    timezone: 'UTC',
    // A call is the fallback of a failed SMS.
    contacts: [
      { channel: 'sms', address: ALICE },
      { channel: 'voice', address: ALICE },
    ],
  },
  { id: 'carol', name: 'Carol', email: 'carol@example.com', timezone: 'UTC', contacts: [{ channel: 'voice', address: CAROL }] },
]);

type Stop = { stop: () => Promise<void> };

/** Alice is on call (SMS); after 5 minutes the page goes on to Carol (voice). */
async function seedConfig(p: TestPipeline): Promise<void> {
  await appendConfig(p.admin, 'schedule', 'primary', 'ScheduleConfigured', {
    scheduleId: 'primary',
    name: 'Primary',
    timeZone: 'UTC',
    overrides: [],
    temporary: [],
    rotations: [
      { id: 'week', name: 'Weekly', type: 'weekly', shiftLength: 1, start: '2026-01-05T09:00:00Z', members: ['alice'], restrictions: [] },
    ],
  });
  await appendConfig(p.admin, 'policy', 'checkout', 'EscalationPolicyConfigured', {
    policyId: 'checkout',
    name: 'Checkout on-call',
    repeat: 0,
    steps: [
      { delaySeconds: 300, targets: [{ type: 'schedule', scheduleId: 'primary' }], untilAllAck: false },
      { delaySeconds: 600, targets: [{ type: 'user', userId: 'carol' }], untilAllAck: false },
    ],
  });
  await appendConfig(p.admin, 'routing', 'checkout', 'RoutingConfigured', {
    serviceId: 'checkout',
    escalationPolicyId: 'checkout',
    templateId: null,
    ackTimeoutSeconds: null,
    rules: [],
  });
}

const isFor = (alertId: string, type: string) => (e: DomainEvent) =>
  e.type === type && typeof e.data === 'object' && e.data !== null && 'alertId' in e.data && e.data.alertId === alertId;

describe('Twilio: answering pages by SMS and phone (smoke, controllable clock)', () => {
  let p: TestPipeline;
  let fake: TwilioFake;
  let clock: ManualClock;
  let escalations: FollowedStream;
  let alerts: FollowedStream;
  let deliveries: FollowedStream;
  const running: Stop[] = [];
  let smsUrl: string;
  let barriers = 0;

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 1 });
    await seedConfig(p);
    fake = await startTwilioFake();
    clock = new ManualClock(Date.now());
    const port = await getPort({ host: '127.0.0.1' });
    const publicUrl = `http://127.0.0.1:${port}`;
    smsUrl = publicUrl + TWILIO_PATHS.sms;
    escalations = await followStream(p.admin, STREAMS.escalations);
    alerts = await followStream(p.admin, STREAMS.alerts);
    deliveries = await followStream(p.admin, STREAMS.deliveries);
    // A second ingest, on a port known in advance: Twilio signs against the public URL.
    running.push(
      await startIngest({
        nc: await p.nats.connect('ingest-twilio'),
        partitions: p.partitions,
        port,
        host: '127.0.0.1',
        bodyLimitBytes: 1024 * 1024,
        rateLimitPerSecond: 0,
        publicUrl,
        twilioAuthToken: fake.authToken,
        log: testLog,
      }),
    );
    running.push(
      await startEscalator({
        nc: await p.nats.connect('escalator'),
        partitions: p.partitions,
        users: USERS,
        log: testLog,
        owner: 'test-escalator',
        clock,
      }),
    );
    const { sms, voice } = twilioNotifiers({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      from: fake.number,
      apiUrl: fake.baseUrl,
    });
    running.push(
      await startDispatcher({
        nc: await p.nats.connect('dispatcher'),
        notifiers: { sms, voice },
        log: testLog,
        options: { retryBaseMs: 100, retryMaxMs: 1000, publicUrl, perDestination: {} },
      }),
    );
  });

  afterAll(async () => {
    for (const r of running.reverse()) await r.stop();
    await Promise.all([escalations.close(), alerts.close(), deliveries.close()]);
    await fake.close();
    await p.stop();
  });

  const trigger = async (summary: string): Promise<string> => {
    const body = JSON.stringify({ summary, severity: 'critical', dedup_key: summary, labels: { site: 'fra1' } });
    expect((await p.post('/api/v1/webhook/generic', body)).status).toBe(202);
    const [routed] = await escalations.waitFor((e) => e.type === 'AlertRouted' && e.data.alert.summary === summary);
    return (routed as EventOf<'AlertRouted'>).data.alertId;
  };
  /** With one partition, an alert decided after the clock moved comes after every timer due before it. */
  const barrier = async (): Promise<void> => {
    barriers += 1;
    const id = await trigger(`Barrier ${barriers}`);
    await escalations.waitFor(isFor(id, 'NotificationRequested'));
  };
  const messageAbout = async (summary: string): Promise<TwilioCall> => {
    for (let n = 1; ; n++) {
      const calls = await fake.calls.waitFor(n, 10_000);
      const found = calls.find((c) => c.kind === 'message' && (c.params.Body ?? '').includes(summary));
      if (found) return found;
    }
  };
  const replyCode = (message: TwilioCall): number => {
    const m = /Reply (\d+)a to acknowledge, \1c to resolve, \1e to escalate\./.exec(message.params.Body ?? '');
    expect(m).not.toBeNull();
    return Number(m?.[1]);
  };
  const intakeSeq = () => streamLastSeq(p.admin, STREAMS.intake);

  it('an SMS page carries a reply code; "<n>a" from the paged number acknowledges; no further page as time moves on', async () => {
    const alertId = await trigger('Checkout 5xx above 5%');
    const page = await messageAbout('Checkout 5xx above 5%');
    expect(page.params).toMatchObject({ To: ALICE, From: fake.number });
    expect(page.params.StatusCallback).toMatch(/\/api\/v1\/twilio\/status\?n=/);
    const code = replyCode(page);

    const answer = await fake.sms(smsUrl, ALICE, `${code}a`);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^text\/xml/);
    expect(answer.body).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Acknowledged: Checkout 5xx above 5%</Message></Response>`,
    );

    const [acked] = await alerts.waitFor(isFor(alertId, 'AlertAcknowledged'));
    expect(acked?.data).toMatchObject({ userId: 'alice', via: 'sms', by: 'user' });
    await escalations.waitFor(
      (e) => isFor(alertId, 'EscalationStopped')(e) && (e as EventOf<'EscalationStopped'>).data.reason === 'acknowledged',
    );
    await p.alertsApplied(await streamLastSeq(p.admin, STREAMS.alerts));
    expect((await p.getAlert(alertId)).status).toBe(alertingV1.AlertStatus.ALERT_STATUS_ACKNOWLEDGED);

    // The same reply again (Twilio retries with the same MessageSid; a person re-sends with a new one).
    const again = await fake.sms(smsUrl, ALICE, `${code}A`);
    expect(again.body).toContain('Already acknowledged by alice (sms)');

    clock.advance(60 * MIN);
    await barrier();
    expect(escalations.events.filter(isFor(alertId, 'NotificationRequested'))).toHaveLength(1);
    expect(fake.calls.items.filter((c) => c.params.To === CAROL)).toHaveLength(0);
  });

  it('refuses a forged or missing signature with 403 and appends nothing', async () => {
    await trigger('Forged reply target');
    const code = replyCode(await messageAbout('Forged reply target'));
    const before = await intakeSeq();
    for (const signing of ['forged', 'none'] as const) {
      const answer = await fake.sms(smsUrl, ALICE, `${code}c`, signing);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'bad_twilio_signature' } });
    }
    // Signed, but for another URL than the one it was posted to.
    const moved = await fake.post(smsUrl + '?x=1', { From: ALICE, Body: `${code}c`, MessageSid: 'SMmoved' }, 'none');
    expect(moved.status).toBe(403);
    expect(await intakeSeq()).toBe(before);
  });

  it('answers a code from another number, or an unknown code, with help and changes nothing', async () => {
    await trigger('Wrong number target');
    const code = replyCode(await messageAbout('Wrong number target'));
    const before = await intakeSeq();
    const stranger = await fake.sms(smsUrl, STRANGER, `${code}a`);
    expect(stranger.status).toBe(200);
    expect(stranger.body).toContain(`Code ${code} is not a page sent to this number`);
    const unknown = await fake.sms(smsUrl, ALICE, '777a');
    expect(unknown.body).toContain('Code 777 is not a page sent to this number');
    const nonsense = await fake.sms(smsUrl, ALICE, 'on it');
    expect(nonsense.body).toContain('not a reply we understand');
    const help = await fake.sms(smsUrl, ALICE, 'HELP');
    expect(help.body).toContain('a to acknowledge, c to resolve, e to escalate');
    expect(await intakeSeq()).toBe(before);
  });

  it('"<n>e" escalates to the next step', async () => {
    const alertId = await trigger('Escalate by SMS');
    const code = replyCode(await messageAbout('Escalate by SMS'));
    expect((await fake.sms(smsUrl, ALICE, `${code} e`)).body).toContain('Escalated: Escalate by SMS');
    const [escalated] = await alerts.waitFor(isFor(alertId, 'AlertEscalated'));
    expect(escalated?.data).toMatchObject({ userId: 'alice', via: 'sms' });
    expect((await waitForCall(fake, CAROL, 'Escalate by SMS')).params.To).toBe(CAROL);
  });

  it('rejects a signed request without the fields it needs (400), or any when not configured (503), and appends nothing', async () => {
    const before = await intakeSeq();
    const answer = await fake.post(smsUrl, { Body: '1a', MessageSid: 'SMnofrom' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'invalid_payload', field: 'From' } });
    const base = smsUrl.replace(TWILIO_PATHS.sms, '');
    const noCode = await fake.post(base + TWILIO_PATHS.voice, { To: ALICE, CallSid: 'CAx', Digits: '1' });
    expect(noCode.status).toBe(400);
    expect(JSON.parse(noCode.body)).toMatchObject({ error: { code: 'invalid_payload', field: 'code' } });
    const noRef = await fake.post(base + TWILIO_PATHS.status, { MessageSid: 'SMx', MessageStatus: 'delivered' });
    expect(noRef.status).toBe(400);
    expect(JSON.parse(noRef.body)).toMatchObject({ error: { code: 'invalid_status_callback' } });
    // The pipeline's own ingest has no TWILIO_AUTH_TOKEN: it cannot check signatures, so it takes nothing.
    const unconfigured = await fake.post(p.ingestUrl + TWILIO_PATHS.sms, { From: ALICE, Body: '1a', MessageSid: 'SMx' });
    expect(unconfigured.status).toBe(503);
    expect(JSON.parse(unconfigured.body)).toMatchObject({ error: { code: 'twilio_not_configured' } });
    expect(await intakeSeq()).toBe(before);
  });

  it('a page call gathers a digit at our voice URL: 2 resolves', async () => {
    const alertId = await trigger('Payment provider timeout');
    await messageAbout('Payment provider timeout');
    clock.advance(5 * MIN);
    // Earlier alerts nobody answered escalate to Carol too: take the call about this one.
    const call = await waitForCall(fake, CAROL, 'Payment provider timeout');
    expect(call.params.Twiml).toContain('Press 1 to acknowledge, 2 to resolve, 3 to escalate.');
    expect(call.params.StatusCallbackEvent).toBeDefined();

    const wrong = await fake.press(call, '9');
    expect(wrong.body).toContain('<Gather');
    const answer = await fake.press(call, '2');
    expect(answer.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Resolved. Goodbye.</Say></Response>');
    const [resolved] = await alerts.waitFor(isFor(alertId, 'AlertResolved'));
    expect(resolved?.data).toMatchObject({ userId: 'carol', via: 'voice' });
    expect((await fake.press(call, '1', 'forged')).status).toBe(403);
  });

  it('records status callbacks once (Twilio retries) on the delivery and the timeline', async () => {
    const alertId = await trigger('Status callback target');
    const page = await messageAbout('Status callback target');
    await deliveries.waitFor(isFor(alertId, 'NotificationDelivered'));
    expect((await fake.report(page, 'queued')).status).toBe(204);
    expect((await fake.report(page, 'undelivered', { ErrorCode: '30003' })).status).toBe(204);
    const [reported] = await deliveries.waitFor(isFor(alertId, 'NotificationStatusReported'));
    expect(reported?.data).toMatchObject({
      channel: 'sms',
      status: 'undelivered',
      errorCode: '30003',
    });
    expect((reported?.data as { destination: string }).destination).toMatch(/0101$/);
    const seq = await streamLastSeq(p.admin, STREAMS.deliveries);
    expect((await fake.report(page, 'undelivered', { ErrorCode: '30003' })).status).toBe(204);
    expect(await streamLastSeq(p.admin, STREAMS.deliveries)).toBe(seq);

    await waitForProjection(p.db.url, p.db.schema, CONSUMERS.projectorDeliveries, seq);
    const row = (await p.pool.one(
      sql.unsafe`SELECT channels FROM notifications WHERE alert_id = ${alertId} AND channels ? 'sms' ORDER BY requested_at DESC LIMIT 1`,
    )) as { channels: Record<string, unknown> };
    expect(row.channels.sms).toMatchObject({
      status: 'delivered',
      provider: { status: 'undelivered', errorCode: '30003' },
    });
    const timeline = await p.pool.any(sql.unsafe`SELECT message FROM escalation_timeline WHERE alert_id = ${alertId}`);
    expect(timeline.map((r) => (r as { message: string }).message)).toContainEqual(
      expect.stringMatching(/^sms to .*0101: undelivered \(error 30003\)$/),
    );
  });

  it('STOP opts the number out: the next page sends no SMS (failed: opted_out) but calls; START opts it in again', async () => {
    const stop = await fake.sms(smsUrl, ALICE, 'stop');
    expect(stop.body).toContain('You will no longer receive on-call texts');
    const quiet = await trigger('Page while opted out');
    const [failed] = await deliveries.waitFor(isFor(quiet, 'NotificationFailed'));
    expect(failed?.data).toMatchObject({ channel: 'sms', reason: 'opted_out', retryable: false, fallback: 'voice' });
    expect(fake.calls.items.filter((c) => (c.params.Body ?? '').includes('Page while opted out'))).toHaveLength(0);
    // STOP is about texts: the page still reaches Alice, by phone, and she can answer there.
    const call = await waitForCall(fake, ALICE, 'Page while opted out');
    expect((await fake.press(call, '1')).body).toContain('Acknowledged. Goodbye.');
    await alerts.waitFor(isFor(quiet, 'AlertAcknowledged'));

    const start = await fake.sms(smsUrl, ALICE, 'START');
    expect(start.body).toContain('You will receive on-call texts at this number again');
    await trigger('Page after START');
    expect((await messageAbout('Page after START')).params.To).toBe(ALICE);
  });
});

async function waitForCall(fake: TwilioFake, to: string, about: string): Promise<TwilioCall> {
  for (let n = 1; ; n++) {
    const calls = await fake.calls.waitFor(n, 10_000);
    const call = calls.find((c) => c.kind === 'call' && c.params.To === to && (c.params.Twiml ?? '').includes(about));
    if (call) return call;
  }
}
