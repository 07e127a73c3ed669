import { inspect } from 'node:util';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphFake, type GraphFake } from '../../../test/fakes/graph.js';
import { startSlackFake, type SlackFake } from '../../../test/fakes/slack.js';
import { startSmtpFake, type SmtpFailure, type SmtpFake } from '../../../test/fakes/smtp.js';
import { startTwilioFake, type TwilioFake } from '../../../test/fakes/twilio.js';
import { startWebhookFake, type WebhookFake } from '../../../test/fakes/webhook.js';
import { emailNotifier } from './email.js';
import { DeliveryError, type DeliveryReason } from './errors.js';
import { slackNotifier } from './slack.js';
import { teamsNotifier } from './teams.js';
import { twilioNotifiers } from './twilio.js';
import type { Notifier, NotifyResult } from './types.js';
import { standardWebhookSignature, webhookNotifier } from './webhook.js';

/** One notifier wired to its fake, seen through what the shared suite needs. */
interface Harness {
  notifier: Notifier<unknown>;
  message: unknown;
  destination: string;
  /** Strings that must never show up in an error (tokens, passwords, their encodings). */
  secrets: string[];
  /** Requests (SMTP: sessions) the fake has seen. */
  requestCount(): number;
  /** The next request fails like a provider answering this HTTP status (SMTP: a reply of that class). */
  failWithStatus(status: number, retryAfter?: string): void;
  /** The next request gets no answer. */
  hangNext(): void;
  /** The status a DeliveryError carries for an injected status (SMTP replies have none). */
  errorStatus(status: number): number | undefined;
  expectDelivered(result: NotifyResult, idempotencyKey: string): void;
  /** Stops the fake (idempotent). */
  closeFake(): Promise<void>;
  /** Releases whatever else the harness holds. */
  dispose(): Promise<void>;
}

interface Row {
  name: string;
  /** SMTP has no Retry-After. */
  retryAfter: boolean;
  start(): Promise<Harness>;
}

const SLACK_TOKEN = 'xoxb-1111-2222-conformance-secret-token';
const GRAPH_TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.graph-conformance-secret';
const TWILIO_SID = `AC${'c0ffee'.repeat(5)}ab`;
const TWILIO_TOKEN = 'twilio-conformance-secret-auth-token';
const SMTP_USER = 'alerts@example.com';
const SMTP_PASS = 'smtp-conformance-secret-password';
const WEBHOOK_SECRET = `whsec_${Buffer.from('webhook-conformance-signing-secret').toString('base64')}`;

const slackRow: Row = {
  name: 'slack',
  retryAfter: true,
  async start() {
    const fake: SlackFake = await startSlackFake({ token: SLACK_TOKEN });
    const notifier = slackNotifier({ token: SLACK_TOKEN, apiUrl: fake.apiUrl, timeoutMs: 5_000 });
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*DiskFull* on db-1' } }];
    return {
      notifier,
      message: { text: 'DiskFull on db-1', blocks },
      destination: 'C0123ALERTS',
      secrets: [SLACK_TOKEN],
      requestCount: () => fake.calls.items.length,
      failWithStatus: (status, retryAfter) =>
        fake.failNext({ status, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } }),
      hangNext: () => fake.failNext({ hang: true }),
      errorStatus: (status) => status,
      expectDelivered(result) {
        const call = fake.calls.items.at(-1);
        expect(call?.method).toBe('chat.postMessage');
        expect(call?.token).toBe(SLACK_TOKEN);
        expect(call?.args).toMatchObject({ channel: 'C0123ALERTS', text: 'DiskFull on db-1', blocks });
        expect(result.providerMessageId).toMatch(/^C0123ALERTS\/\d+\.\d+$/);
      },
      closeFake: () => fake.close(),
      dispose: () => fake.close(),
    };
  },
};

const teamsRow: Row = {
  name: 'teams',
  retryAfter: true,
  async start() {
    const fake: GraphFake = await startGraphFake({ token: GRAPH_TOKEN });
    const dispatcher: Agent = fake.trustingDispatcher();
    const notifier = teamsNotifier({ token: GRAPH_TOKEN, baseUrl: fake.baseUrl, timeoutMs: 5_000, fetchOptions: { dispatcher } });
    const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'DiskFull on db-1' }] };
    return {
      notifier,
      message: { card },
      destination: '19:alerts-chat@thread.v2',
      secrets: [GRAPH_TOKEN],
      requestCount: () => fake.calls.items.length,
      failWithStatus: (status, retryAfter) =>
        fake.failNext({ status, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } }),
      hangNext: () => fake.failNext({ hang: true }),
      errorStatus: (status) => status,
      expectDelivered(result) {
        const call = fake.calls.items.at(-1);
        expect(call).toMatchObject({ kind: 'chat', chatId: '19:alerts-chat@thread.v2', token: GRAPH_TOKEN });
        const body = call?.body as { body: { content: string }; attachments: { id: string; contentType: string; content: string }[] };
        expect(body.attachments).toHaveLength(1);
        expect(body.attachments[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
        expect(JSON.parse(body.attachments[0]?.content ?? 'null')).toEqual(card);
        expect(body.body.content).toBe(`<attachment id="${body.attachments[0]?.id}"></attachment>`);
        expect(result.providerMessageId).toMatch(/^\d+$/);
      },
      closeFake: () => fake.close(),
      dispose: async () => {
        await fake.close();
        await dispatcher.close();
      },
    };
  },
};

function twilioRow(channel: 'sms' | 'voice'): Row {
  return {
    name: channel,
    retryAfter: true,
    async start() {
      const fake: TwilioFake = await startTwilioFake({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN });
      const notifiers = twilioNotifiers({
        accountSid: TWILIO_SID,
        authToken: TWILIO_TOKEN,
        from: '+15550000001',
        apiUrl: fake.baseUrl,
        timeoutMs: 5_000,
      });
      const twiml = '<Response><Say>DiskFull on db-1. Press 1 to acknowledge.</Say></Response>';
      return {
        notifier: channel === 'sms' ? notifiers.sms : notifiers.voice,
        message: channel === 'sms' ? { body: 'DiskFull on db-1' } : { twiml },
        destination: '+15551234567',
        secrets: [TWILIO_TOKEN, Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')],
        requestCount: () => fake.calls.items.length,
        failWithStatus: (status, retryAfter) =>
          fake.failNext({ status, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } }),
        hangNext: () => fake.failNext({ hang: true }),
        errorStatus: (status) => status,
        expectDelivered(result) {
          const call = fake.calls.items.at(-1);
          expect(call?.auth).toEqual({ user: TWILIO_SID, password: TWILIO_TOKEN });
          expect(call?.accountSid).toBe(TWILIO_SID);
          if (channel === 'sms') {
            expect(call).toMatchObject({ kind: 'message', params: { To: '+15551234567', From: '+15550000001', Body: 'DiskFull on db-1' } });
            expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
          } else {
            expect(call).toMatchObject({ kind: 'call', params: { To: '+15551234567', From: '+15550000001', Twiml: twiml } });
            expect(result.providerMessageId).toMatch(/^CA[0-9a-f]{32}$/);
          }
        },
        closeFake: () => fake.close(),
        dispose: () => fake.close(),
      };
    },
  };
}

/** The SMTP reply standing for each HTTP status of the shared cases, and where it is given. */
const SMTP_FOR_STATUS: Record<number, SmtpFailure> = {
  500: { stage: 'rcpt', code: 451, message: '4.3.0 local error in processing' },
  503: { stage: 'mail', code: 421, message: '4.3.2 service not available' },
  400: { stage: 'data', code: 554, message: '5.6.0 message content rejected' },
  401: { stage: 'auth', code: 535, message: '5.7.8 authentication failed' },
  404: { stage: 'rcpt', code: 550, message: '5.1.1 mailbox unavailable' },
};

const emailRow: Row = {
  name: 'email',
  retryAfter: false,
  async start() {
    const fake: SmtpFake = await startSmtpFake({ auth: { user: SMTP_USER, pass: SMTP_PASS } });
    const notifier = emailNotifier({
      host: fake.host,
      port: fake.port,
      secure: false,
      auth: { user: SMTP_USER, pass: SMTP_PASS },
      from: 'On-call <oncall@alerts.example.com>',
      timeoutMs: 5_000,
    });
    return {
      notifier,
      message: { subject: '[CRITICAL] DiskFull on db-1', html: '<p><b>DiskFull</b> on db-1</p>', text: 'DiskFull on db-1' },
      destination: 'ops@example.com',
      secrets: [
        SMTP_PASS,
        Buffer.from(`\u0000${SMTP_USER}\u0000${SMTP_PASS}`).toString('base64'),
        Buffer.from(SMTP_PASS).toString('base64'),
      ],
      requestCount: () => fake.sessions,
      failWithStatus: (status) => {
        const failure = SMTP_FOR_STATUS[status];
        if (failure === undefined) throw new Error(`no SMTP reply stands for HTTP ${status}`);
        fake.failNext(failure);
      },
      hangNext: () => fake.failNext({ stage: 'data', hang: true }),
      errorStatus: () => undefined,
      expectDelivered(result, idempotencyKey) {
        const message = fake.messages.items.at(-1);
        expect(message?.user).toBe(SMTP_USER);
        expect(message?.envelope).toEqual({ from: 'oncall@alerts.example.com', to: ['ops@example.com'] });
        expect(message?.parsed.subject).toBe('[CRITICAL] DiskFull on db-1');
        expect(message?.parsed.text?.trim()).toBe('DiskFull on db-1');
        expect(message?.parsed.html).toContain('<b>DiskFull</b> on db-1');
        expect(message?.parsed.messageId).toBe(`<${idempotencyKey}@alerts.example.com>`);
        expect(message?.parsed.headers.get('x-idempotency-key')).toBe(idempotencyKey);
        expect(result.providerMessageId).toBe(`<${idempotencyKey}@alerts.example.com>`);
      },
      closeFake: () => fake.close(),
      dispose: () => fake.close(),
    };
  },
};

const webhookRow: Row = {
  name: 'webhook',
  retryAfter: true,
  async start() {
    const fake: WebhookFake = await startWebhookFake();
    const notifier = webhookNotifier({ signingSecret: WEBHOOK_SECRET, timeoutMs: 5_000 });
    const body = JSON.stringify({ alert: 'DiskFull', host: 'db-1' });
    return {
      notifier,
      message: { body, headers: { 'content-type': 'application/json', 'x-oncall-event': 'alert.triggered' } },
      destination: `${fake.url}/hooks/team-a`,
      secrets: [WEBHOOK_SECRET, WEBHOOK_SECRET.slice('whsec_'.length)],
      requestCount: () => fake.requests.items.length,
      failWithStatus: (status, retryAfter) =>
        fake.failNext({ status, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } }),
      hangNext: () => fake.failNext({ hang: true }),
      errorStatus: (status) => status,
      expectDelivered(result, idempotencyKey) {
        const request = fake.requests.items.at(-1);
        expect(request).toMatchObject({ method: 'POST', path: '/hooks/team-a', body });
        expect(request?.headers).toMatchObject({
          'content-type': 'application/json',
          'x-oncall-event': 'alert.triggered',
          'idempotency-key': idempotencyKey,
          'webhook-id': idempotencyKey,
        });
        const timestamp = Number(request?.headers['webhook-timestamp']);
        expect(request?.headers['webhook-signature']).toBe(standardWebhookSignature(WEBHOOK_SECRET, idempotencyKey, timestamp, body));
        expect(result.providerMessageId).toMatch(/^req-\d+$/);
      },
      closeFake: () => fake.close(),
      dispose: () => fake.close(),
    };
  },
};

const rows: Row[] = [slackRow, teamsRow, twilioRow('sms'), twilioRow('voice'), emailRow, webhookRow];

async function deliveryFailure(work: Promise<unknown>): Promise<DeliveryError> {
  const err: unknown = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

function expectNoSecrets(err: DeliveryError, secrets: readonly string[]): void {
  const views = [String(err), err.message, JSON.stringify(err), err.stack ?? '', inspect(err, { depth: 10 })];
  for (const view of views) for (const secret of secrets) expect(view).not.toContain(secret);
}

const STATUS_CASES: { status: number; reason: DeliveryReason; retryable: boolean }[] = [
  { status: 500, reason: 'provider_unavailable', retryable: true },
  { status: 503, reason: 'provider_unavailable', retryable: true },
  { status: 400, reason: 'bad_request', retryable: false },
  { status: 401, reason: 'unauthorized', retryable: false },
  { status: 404, reason: 'invalid_destination', retryable: false },
];

let keySeq = 0;
const nextKey = (): string => `notif-${++keySeq}.page-0`;

describe.each(rows)('$name notifier conformance', (row) => {
  let h: Harness;
  beforeAll(async () => {
    h = await row.start();
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('delivers: the fake receives the SDK request with credentials, destination and content', async () => {
    const key = nextKey();
    const result = await h.notifier.notify(h.message, h.destination, { idempotencyKey: key });
    h.expectDelivered(result, key);
  });

  it.each(STATUS_CASES)('HTTP $status → $reason, retryable $retryable, sent once (no SDK retry)', async ({ status, reason, retryable }) => {
    const before = h.requestCount();
    h.failWithStatus(status);
    const err = await deliveryFailure(h.notifier.notify(h.message, h.destination, { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ channel: h.notifier.channel, reason, retryable, retryAfterMs: null });
    expect(err.status).toBe(h.errorStatus(status));
    expect(h.requestCount()).toBe(before + 1);
    expectNoSecrets(err, h.secrets);
  });

  // SMTP has no Retry-After; its temporary failures are covered by the SMTP cases below.
  if (row.retryAfter) {
    it('429 with Retry-After → rate_limited, retryable, retryAfterMs honoured, sent once', async () => {
      const before = h.requestCount();
      h.failWithStatus(429, '7');
      const err = await deliveryFailure(h.notifier.notify(h.message, h.destination, { idempotencyKey: nextKey() }));
      expect(err).toMatchObject({ reason: 'rate_limited', retryable: true, retryAfterMs: 7_000, status: 429 });
      expect(h.requestCount()).toBe(before + 1);
      expectNoSecrets(err, h.secrets);
    });
  }

  it('an aborted call ends promptly as a retryable timeout', async () => {
    h.hangNext();
    const started = performance.now();
    const err = await deliveryFailure(
      h.notifier.notify(h.message, h.destination, { idempotencyKey: nextKey(), signal: AbortSignal.timeout(300) }),
    );
    expect(err).toMatchObject({ reason: 'timeout', retryable: true });
    expect(performance.now() - started).toBeLessThan(3_000);
    expectNoSecrets(err, h.secrets);
  });

  it('concurrent calls keep their own signals: aborting one leaves the others alone', async () => {
    const controller = new AbortController();
    const calls = [0, 1, 2, 3, 4].map((i) =>
      h.notifier.notify(h.message, h.destination, { idempotencyKey: nextKey(), ...(i === 2 ? { signal: controller.signal } : {}) }),
    );
    controller.abort();
    const results = await Promise.allSettled(calls);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ reason: 'timeout', retryable: true });
  });

  it('delivers again after failures', async () => {
    const key = nextKey();
    h.expectDelivered(await h.notifier.notify(h.message, h.destination, { idempotencyKey: key }), key);
  });

  it('provider unreachable (fake closed) → network, retryable, no secrets', async () => {
    await h.closeFake();
    const err = await deliveryFailure(h.notifier.notify(h.message, h.destination, { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ channel: h.notifier.channel, reason: 'network', retryable: true, retryAfterMs: null });
    expect(err.status).toBeUndefined();
    expect(err.cause).toBeInstanceOf(Error);
    expectNoSecrets(err, h.secrets);
  });
});

describe('slack specifics', () => {
  let fake: SlackFake;
  let notifier: Notifier<{ text: string; blocks: unknown[] }>;
  beforeAll(async () => {
    fake = await startSlackFake({ token: SLACK_TOKEN, channels: ['C0123ALERTS', 'U024BE7LH'] });
    notifier = slackNotifier({ token: SLACK_TOKEN, apiUrl: fake.apiUrl.replace(/\/$/, '') });
  });
  afterAll(() => fake.close());
  const message = { text: 'DiskFull on db-1', blocks: [] };

  it.each([
    ['channel_not_found', 'invalid_destination', false],
    ['not_in_channel', 'invalid_destination', false],
    ['is_archived', 'invalid_destination', false],
    ['invalid_auth', 'unauthorized', false],
    ['missing_scope', 'unauthorized', false],
    ['ratelimited', 'rate_limited', true],
    ['msg_too_long', 'bad_request', false],
    ['invalid_blocks', 'bad_request', false],
    ['internal_error', 'provider_unavailable', true],
    ['fatal_error', 'provider_unavailable', true],
    ['request_timeout', 'timeout', true],
    ['some_future_error', 'unknown', false],
  ] as const)('platform error %s → %s (retryable %s)', async (code, reason, retryable) => {
    fake.failNext({ platformError: code });
    const err = await deliveryFailure(notifier.notify(message, 'C0123ALERTS', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason, retryable, providerCode: code });
    expect(err.status).toBeUndefined();
  });

  it('a wrong token gets invalid_auth from the fake → unauthorized, without the token in the error', async () => {
    const wrongToken = 'xoxb-9999-wrong-secret-token';
    const wrong = slackNotifier({ token: wrongToken, apiUrl: fake.apiUrl });
    const err = await deliveryFailure(wrong.notify(message, 'C0123ALERTS', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason: 'unauthorized', retryable: false, providerCode: 'invalid_auth' });
    expect(fake.calls.items.at(-1)?.token).toBe(wrongToken);
    expectNoSecrets(err, [wrongToken]);
  });

  it('an unknown channel is channel_not_found → invalid_destination', async () => {
    const err = await deliveryFailure(notifier.notify(message, 'C9NOSUCH', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason: 'invalid_destination', providerCode: 'channel_not_found' });
  });

  it('a user id is a DM: the provider message id names the DM channel; empty blocks are not sent', async () => {
    const result = await notifier.notify(message, 'U024BE7LH', { idempotencyKey: nextKey() });
    expect(result.providerMessageId).toMatch(/^D024BE7LH\/\d+\.\d+$/);
    expect(fake.calls.items.at(-1)?.args).not.toHaveProperty('blocks');
  });

  it('429 with Retry-After as an HTTP date is honoured', async () => {
    fake.failNext({ status: 429, headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() } });
    const err = await deliveryFailure(notifier.notify(message, 'C0123ALERTS', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason: 'rate_limited', retryable: true, status: 429 });
    expect(err.retryAfterMs).toBeGreaterThan(27_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(30_000);
  });
});

describe('teams specifics', () => {
  let fake: GraphFake;
  let dispatcher: Agent;
  let notifier: Notifier<{ card: object }>;
  beforeAll(async () => {
    fake = await startGraphFake({ token: GRAPH_TOKEN });
    dispatcher = fake.trustingDispatcher();
    notifier = teamsNotifier({ token: async () => GRAPH_TOKEN, baseUrl: `${fake.baseUrl}/`, fetchOptions: { dispatcher } });
  });
  afterAll(async () => {
    await fake.close();
    await dispatcher.close();
  });
  const message = { card: { type: 'AdaptiveCard', version: '1.5', body: [] } };

  it('posts to a channel for team:<id>/channel:<id>, with a token from a provider function', async () => {
    const result = await notifier.notify(message, 'team:team-1/channel:19:general@thread.tacv2', { idempotencyKey: nextKey() });
    expect(fake.calls.items.at(-1)).toMatchObject({
      kind: 'channel',
      teamId: 'team-1',
      channelId: '19:general@thread.tacv2',
      token: GRAPH_TOKEN,
    });
    expect(result.providerMessageId).not.toBeNull();
  });

  it('the same idempotency key gives the same attachment id', async () => {
    await notifier.notify(message, '19:a@thread.v2', { idempotencyKey: 'same-key' });
    await notifier.notify(message, '19:a@thread.v2', { idempotencyKey: 'same-key' });
    const ids = fake.calls.items.slice(-2).map((c) => (c.body as { attachments: { id: string }[] }).attachments[0]?.id);
    expect(ids[0]).toBe(ids[1]);
  });

  it('a malformed destination is invalid_destination without a request', async () => {
    const before = fake.calls.items.length;
    const err = await deliveryFailure(notifier.notify(message, 'team:only-a-team', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason: 'invalid_destination', retryable: false });
    expect(fake.calls.items.length).toBe(before);
  });

  it('a wrong token is the fake’s 401 InvalidAuthenticationToken → unauthorized', async () => {
    const wrongToken = 'wrong-graph-secret-token';
    const wrong = teamsNotifier({ token: wrongToken, baseUrl: fake.baseUrl, fetchOptions: { dispatcher } });
    const err = await deliveryFailure(wrong.notify(message, '19:a@thread.v2', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason: 'unauthorized', status: 401, providerCode: 'InvalidAuthenticationToken' });
    expectNoSecrets(err, [wrongToken]);
  });

  it('503 with Retry-After is retryable with the advice kept', async () => {
    fake.failNext({ status: 503, headers: { 'retry-after': '12' } });
    const err = await deliveryFailure(notifier.notify(message, '19:a@thread.v2', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({
      reason: 'provider_unavailable',
      retryable: true,
      retryAfterMs: 12_000,
      providerCode: 'ServiceNotAvailable',
    });
  });
});

describe('twilio specifics', () => {
  let fake: TwilioFake;
  beforeAll(async () => {
    fake = await startTwilioFake({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN });
  });
  afterAll(() => fake.close());
  const config = (): Parameters<typeof twilioNotifiers>[0] => ({
    accountSid: TWILIO_SID,
    authToken: TWILIO_TOKEN,
    from: '+15550000001',
    apiUrl: fake.baseUrl,
  });

  it('an invalid number is the fake’s 21211 → invalid_destination', async () => {
    const err = await deliveryFailure(twilioNotifiers(config()).sms.notify({ body: 'x' }, '555-1234', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason: 'invalid_destination', retryable: false, status: 400, providerCode: '21211' });
  });

  it('a wrong auth token is the fake’s 20003 → unauthorized, without the token in the error', async () => {
    const wrongToken = 'wrong-twilio-secret-token';
    const { voice } = twilioNotifiers({ ...config(), authToken: wrongToken });
    const err = await deliveryFailure(voice.notify({ twiml: '<Response/>' }, '+15551234567', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason: 'unauthorized', status: 401, providerCode: '20003' });
    expectNoSecrets(err, [wrongToken, Buffer.from(`${TWILIO_SID}:${wrongToken}`).toString('base64')]);
  });

  it('sends SMS through a Messaging Service when configured', async () => {
    const { sms } = twilioNotifiers({ ...config(), messagingServiceSid: 'MG0123' });
    await sms.notify({ body: 'DiskFull' }, '+15551234567', { idempotencyKey: nextKey() });
    expect(fake.calls.items.at(-1)?.params).toMatchObject({ MessagingServiceSid: 'MG0123', Body: 'DiskFull' });
    expect(fake.calls.items.at(-1)?.params).not.toHaveProperty('From');
  });

  it('429 with Retry-After as an HTTP date is honoured (RestException keeps no headers)', async () => {
    fake.failNext({ status: 429, code: 20429, headers: { 'retry-after': new Date(Date.now() + 60_000).toUTCString() } });
    const err = await deliveryFailure(twilioNotifiers(config()).sms.notify({ body: 'x' }, '+15551234567', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason: 'rate_limited', retryable: true, providerCode: '20429' });
    expect(err.retryAfterMs).toBeGreaterThan(57_000);
  });
});

describe('email specifics', () => {
  let fake: SmtpFake;
  let notifier: Notifier<{ subject: string; html: string; text: string }>;
  beforeAll(async () => {
    fake = await startSmtpFake({ auth: { user: SMTP_USER, pass: SMTP_PASS } });
    notifier = emailNotifier({
      host: fake.host,
      port: fake.port,
      secure: false,
      auth: { user: SMTP_USER, pass: SMTP_PASS },
      from: 'oncall@alerts.example.com',
    });
  });
  afterAll(() => fake.close());
  const message = { subject: 's', html: '<p>h</p>', text: 't' };

  it.each([
    [{ stage: 'rcpt', code: 550 }, 'invalid_destination', false],
    [{ stage: 'rcpt', code: 553 }, 'invalid_destination', false],
    [{ stage: 'rcpt', code: 451 }, 'provider_unavailable', true],
    [{ stage: 'rcpt', code: 452 }, 'provider_unavailable', true],
    [{ stage: 'mail', code: 421 }, 'provider_unavailable', true],
    [{ stage: 'data', code: 554 }, 'bad_request', false],
    [{ stage: 'data', code: 552 }, 'bad_request', false],
    [{ stage: 'data', code: 451 }, 'provider_unavailable', true],
  ] as const)('SMTP %o → %s (retryable %s)', async (failure, reason, retryable) => {
    fake.failNext({ ...failure, message: 'injected' });
    const err = await deliveryFailure(notifier.notify(message, 'ops@example.com', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason, retryable, providerCode: String(failure.code) });
  });

  it('a wrong password is the fake’s 535 → unauthorized, without the password in any form', async () => {
    const wrongPass = 'wrong-smtp-secret-password';
    const wrong = emailNotifier({
      host: fake.host,
      port: fake.port,
      secure: false,
      auth: { user: SMTP_USER, pass: wrongPass },
      from: 'oncall@alerts.example.com',
    });
    const err = await deliveryFailure(wrong.notify(message, 'ops@example.com', { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason: 'unauthorized', retryable: false, providerCode: '535' });
    expectNoSecrets(err, [
      wrongPass,
      Buffer.from(`\u0000${SMTP_USER}\u0000${wrongPass}`).toString('base64'),
      Buffer.from(wrongPass).toString('base64'),
    ]);
  });

  it('a key that is no valid msg-id still reaches the header; the Message-ID is its hash', async () => {
    await notifier.notify(message, 'ops@example.com', { idempotencyKey: 'alert 7:<page 0>' });
    const parsed = fake.messages.items.at(-1)?.parsed;
    expect(parsed?.headers.get('x-idempotency-key')).toBe('alert 7:<page 0>');
    expect(parsed?.messageId).toMatch(/^<[0-9a-f]{40}@alerts\.example\.com>$/);
  });

  it('sends without AUTH to a relay that offers none', async () => {
    const open = await startSmtpFake();
    try {
      const plain = emailNotifier({ host: open.host, port: open.port, secure: false, from: 'oncall@alerts.example.com' });
      await plain.notify(message, 'ops@example.com', { idempotencyKey: nextKey() });
      expect(open.messages.items[0]?.user).toBeNull();
    } finally {
      await open.close();
    }
  });
});

describe('webhook specifics', () => {
  let fake: WebhookFake;
  beforeAll(async () => {
    fake = await startWebhookFake();
  });
  afterAll(() => fake.close());
  const message = { body: '{"a":1}', headers: {} };

  it('without a signing secret: Idempotency-Key and a JSON content type, no signature headers', async () => {
    await webhookNotifier().notify(message, `${fake.url}/plain`, { idempotencyKey: 'k-1' });
    const headers = fake.requests.items.at(-1)?.headers;
    expect(headers).toMatchObject({ 'idempotency-key': 'k-1', 'content-type': 'application/json' });
    expect(headers).not.toHaveProperty('webhook-signature');
  });

  it('does not follow redirects: a 3xx is a non-retryable failure after one request', async () => {
    const before = fake.requests.items.length;
    fake.failNext({ status: 302, headers: { location: `${fake.url}/elsewhere` }, body: '' });
    const err = await deliveryFailure(webhookNotifier().notify(message, `${fake.url}/moved`, { idempotencyKey: nextKey() }));
    expect(err).toMatchObject({ reason: 'unknown', retryable: false, status: 302 });
    expect(fake.requests.items.length).toBe(before + 1);
  });

  it.each(['not a url', 'ftp://files.example.com/x', 'mailto:ops@example.com'])(
    '%j is invalid_destination without a request',
    async (destination) => {
      const before = fake.requests.items.length;
      const err = await deliveryFailure(webhookNotifier().notify(message, destination, { idempotencyKey: nextKey() }));
      expect(err).toMatchObject({ reason: 'invalid_destination', retryable: false });
      expect(fake.requests.items.length).toBe(before);
    },
  );

  it('never puts the destination URL (which may embed a secret) into the error', async () => {
    const destination = `${fake.url}/hooks/T000/B000/path-secret-xyz?token=query-secret-abc`;
    await fake.close();
    const err = await deliveryFailure(webhookNotifier().notify(message, destination, { idempotencyKey: nextKey() }));
    expect(err.reason).toBe('network');
    expectNoSecrets(err, ['path-secret-xyz', 'query-secret-abc']);
  });
});
