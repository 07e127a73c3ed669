import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  decodeEvent,
  encodeEvent,
  makeEvent,
  partitionOf,
  STREAMS,
  subjects,
  type AlertEvent,
  type DomainEvent,
  type EventData,
  type EventType,
  type TicketProvider,
  TicketTestReply,
} from '@oncall/contracts';
import { AlertCommandPath, registry, standardWebhookHeaders, StreamAppender } from '@oncall/shared';
import { startDecider } from '@oncall/ingest';
import {
  webhookProvider,
  type TicketProvider as ProviderImpl,
  startTicketBridge,
  startWebhookStandIn,
  TICKET_BUCKET,
  TICKET_TEST_SUBJECT,
  type TicketBridge,
  type WebhookStandIn,
} from '@oncall/ticket-bridge';
import { IntakePublisher } from '../ingest/src/adapters/intake-publisher.js';
import { prepareTopology, startTestNats, streamLastSeq, testLog, type TestNats } from './harness.js';

const PARTITIONS = 4;
const SIGNING = 'sign-secret-0001';
const INBOUND = 'inbound-secret-0001';
process.env.TEST_TICKET_SIGNING = SIGNING;
process.env.TEST_TICKET_INBOUND = INBOUND;
process.env.TEST_TICKET_WRONG = 'not-the-receivers-secret';

const SYNC: TicketProvider['sync'] = {
  onAcknowledge: { transition: 'in_progress', comment: true },
  onResolve: { transition: 'resolved', comment: false },
  onReopen: { transition: 'open', comment: false },
  resolveAlertOn: ['resolved', 'closed'],
  mirrorComments: false,
  pollSeconds: null,
};

const providerConfig = (providerId: string, url: string, signingEnv: string): TicketProvider => ({
  providerId,
  type: 'webhook',
  name: `Webhook ${providerId}`,
  settings: {
    url: `${url}/tickets`,
    lookupUrl: `${url}/tickets`,
    signingSecret: { env: signingEnv },
    bodyTemplate: '{"title": {{ fields.title | json }}, "severity": {{ alert.severity | json }}}',
  },
  auth: { kind: 'none' },
  fields: { title: '"[" + service.name + "] " + alert.summary' },
  sync: SYNC,
  inboundSecret: { env: 'TEST_TICKET_INBOUND' },
});

/** Ticket events as they are appended (a core subscription on tickets.>), awaitable. */
function watchTickets(nc: NatsConnection) {
  const seen: DomainEvent[] = [];
  const waiters: Array<() => void> = [];
  const sub = nc.subscribe(subjects.ticketsAll, {
    callback: (err, m) => {
      if (err) return;
      seen.push(decodeEvent(m.data));
      for (const w of waiters.splice(0)) w();
    },
  });
  const of = <T extends EventType>(type: T, alertId: string) =>
    seen.filter((e): e is Extract<DomainEvent, { type: T }> => e.type === type && (e.data as { alertId: string }).alertId === alertId);
  return {
    of,
    count: (type: EventType) => seen.filter((e) => e.type === type).length,
    /** Resolves with the first event of `type` for the alert that passes `test`. */
    until: async <T extends EventType>(type: T, alertId: string, test: (e: Extract<DomainEvent, { type: T }>) => boolean = () => true) => {
      for (;;) {
        const hit = of(type, alertId).find(test);
        if (hit) return hit;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    stop: () => sub.unsubscribe(),
  };
}

describe('ticket bridge with the generic webhook stand-in', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let standIn: WebhookStandIn;
  let bridge: TicketBridge;
  let second: TicketBridge;
  let decider: { stop: () => Promise<void> };
  let silent: Server;
  let publisher: IntakePublisher;
  let appender: StreamAppender;
  let tickets: ReturnType<typeof watchTickets>;
  const alertWaiters = new Map<string, (e: AlertEvent) => void>();
  const alertEvents: AlertEvent[] = [];

  const append = async (subject: string, type: EventType, data: unknown, id = randomUUID()) => {
    const event = makeEvent(type, data as EventData<typeof type>, {
      id,
      occurredAt: new Date().toISOString(),
      causationId: null,
      correlationId: id,
    });
    await appender.append(subject, encodeEvent(event), { msgID: id });
    return event;
  };

  /** Fires a new alert through the decider; resolves with its id once AlertTriggered is in the log. */
  const trigger = async (fingerprint: string) => {
    const triggered = new Promise<AlertEvent>((resolve) => alertWaiters.set(`AlertTriggered:${fingerprint}`, resolve));
    await publisher.append(
      {
        serviceId: 'checkout',
        source: 'generic',
        requestId: `req-${fingerprint}`,
        dedupe: true,
        context: {},
        signals: [
          {
            fingerprint,
            status: 'firing',
            summary: `${fingerprint} is down`,
            details: 'details',
            severity: 'critical',
            labels: { alertname: fingerprint },
            annotations: {},
            startsAt: null,
            endsAt: null,
            generatorUrl: null,
            links: [],
            custom: {},
          },
        ],
      },
      new Date(),
    );
    const e = await triggered;
    return { alertId: e.data.alertId, fingerprint, partition: partitionOf('checkout', fingerprint, PARTITIONS) };
  };
  const alertEvent = (type: string, alertId: string) =>
    new Promise<AlertEvent>((resolve) => {
      const had = alertEvents.find((e) => e.type === type && e.data.alertId === alertId);
      if (had) resolve(had);
      else alertWaiters.set(`${type}:${alertId}`, resolve);
    });

  const seenTypes = (type: EventType) => tickets.count(type);

  const request = (a: { alertId: string; partition: number }, providerId = 'hooks', requestId = randomUUID()) =>
    append(subjects.ticket(a.partition, a.alertId), 'TicketRequested', {
      alertId: a.alertId,
      serviceId: 'checkout',
      providerId,
      requestedBy: 'api',
      userId: 'alice',
      requestId,
    });

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect('test');
    await prepareTopology(nc, PARTITIONS);
    appender = new StreamAppender(nc);
    publisher = new IntakePublisher(appender, PARTITIONS);
    standIn = await startWebhookStandIn({ signingSecret: SIGNING });
    await append(subjects.config('service', 'checkout'), 'ServiceConfigured', {
      serviceId: 'checkout',
      name: 'Checkout',
      description: '',
      integrationKeys: [],
    });
    await append(
      subjects.config('ticket-provider', 'hooks'),
      'TicketProviderConfigured',
      providerConfig('hooks', standIn.url, 'TEST_TICKET_SIGNING'),
    );
    // Signs with a secret the receiver does not know: every call is refused (401), for good.
    await append(
      subjects.config('ticket-provider', 'broken'),
      'TicketProviderConfigured',
      providerConfig('broken', standIn.url, 'TEST_TICKET_WRONG'),
    );
    // A second provider at the same receiver: goes on while `hooks` is paused.
    await append(
      subjects.config('ticket-provider', 'spare'),
      'TicketProviderConfigured',
      providerConfig('spare', standIn.url, 'TEST_TICKET_SIGNING'),
    );
    // A provider that accepts connections and never answers.
    silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    await append(
      subjects.config('ticket-provider', 'slow'),
      'TicketProviderConfigured',
      providerConfig('slow', `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, 'TEST_TICKET_SIGNING'),
    );
    await append(subjects.config('ticket-provider', 'unset'), 'TicketProviderConfigured', {
      ...providerConfig('unset', standIn.url, 'TEST_TICKET_SIGNING'),
      inboundSecret: { env: 'TEST_TICKET_NOT_SET' },
    });
    nc.subscribe(subjects.alertsAll, {
      callback: (err, m) => {
        if (err) return;
        const e = decodeEvent(m.data) as AlertEvent;
        alertEvents.push(e);
        const key = e.type === 'AlertTriggered' ? `${e.type}:${e.data.fingerprint}` : `${e.type}:${e.data.alertId}`;
        alertWaiters.get(key)?.(e);
      },
    });
    tickets = watchTickets(nc);
    decider = await startDecider({ nc: await nats.connect('decider'), partitions: PARTITIONS, log: testLog });
    const opts = { partitions: PARTITIONS, port: 0, log: testLog, ackWaitMs: 2000, retry: { baseMs: 50, maxMs: 5000, maxAttempts: 5 } };
    bridge = await startTicketBridge({ ...opts, nc: await nats.connect('bridge-1'), owner: 'bridge-1' });
    second = await startTicketBridge({ ...opts, nc: await nats.connect('bridge-2'), owner: 'bridge-2' });
  });

  afterAll(async () => {
    // The hanging calls end now (a refused connection), not at their timeout.
    silent.closeAllConnections();
    silent.close();
    tickets.stop();
    await bridge.stop();
    await second.stop();
    await decider.stop();
    await appender.close();
    await standIn.stop();
    await nats.stop();
  });

  it('a routing rule asking for a ticket opens one, signed, with the mapped fields', async () => {
    const a = await trigger('routed');
    const routedId = randomUUID();
    await append(
      subjects.escalation(a.partition, a.alertId),
      'AlertRouted',
      {
        alertId: a.alertId,
        serviceId: 'checkout',
        alert: {
          alertId: a.alertId,
          serviceId: 'checkout',
          serviceName: 'Checkout',
          fingerprint: a.fingerprint,
          status: 'triggered',
          summary: 'routed is down',
          details: '',
          severity: 'critical',
          labels: {},
          annotations: {},
          links: [],
          source: 'generic',
          triggeredAt: new Date().toISOString(),
        },
        rules: ['tickets'],
        policyId: null,
        templateId: null,
        templateVersion: null,
        severity: 'critical',
        ticket: 'hooks',
        ackTimeoutSeconds: null,
        suppressed: null,
        maintenance: [],
        alertSeq: 1,
      },
      routedId,
    );
    const requested = await tickets.until('TicketRequested', a.alertId);
    expect(requested.data).toMatchObject({ requestedBy: 'rule', requestId: routedId, providerId: 'hooks' });
    const created = await tickets.until('TicketCreated', a.alertId);
    const stored = standIn.tickets.get(`oncall-${a.alertId}`);
    expect(stored?.key).toBe(created.data.ticketKey);
    expect(created.data).toMatchObject({ providerId: 'hooks', found: false, url: `${standIn.url}/browse/${stored?.key}` });
    expect(stored?.body).toEqual({ title: '[Checkout] routed is down', severity: 'critical' });
  });

  it('one ticket per alert however often it is asked, with two bridges racing', async () => {
    const alerts = await Promise.all(Array.from({ length: 8 }, (_, i) => trigger(`race-${i}`)));
    const before = standIn.created;
    // Three requests each (a rule and two API calls), all at once: both replicas take some.
    await Promise.all(alerts.flatMap((a) => [request(a), request(a), request(a)]));
    const created = await Promise.all(alerts.map((a) => tickets.until('TicketCreated', a.alertId)));
    expect(standIn.created - before).toBe(8);
    for (const [i, a] of alerts.entries()) {
      expect(standIn.tickets.get(`oncall-${a.alertId}`)?.key).toBe(created[i]!.data.ticketKey);
      // Every TicketCreated of the alert is one and the same event (one id).
      expect(new Set(tickets.of('TicketCreated', a.alertId).map((e) => e.id)).size).toBe(1);
    }
  });

  it('a claim left by a process killed mid-create is taken over and the lookup finds its ticket', async () => {
    const a = await trigger('killed');
    // The dead process got as far as the provider: the ticket exists there, its claim is stale.
    const body = JSON.stringify({ title: 'made before the crash' });
    const res = await fetch(`${standIn.url}/tickets`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': `oncall-${a.alertId}`,
        ...standardWebhookHeaders(SIGNING, 'x', Math.floor(Date.now() / 1000), body),
      },
      body,
    });
    expect(res.status).toBe(201);
    const kv = await new Kvm(nc).open(TICKET_BUCKET);
    await kv.put(`t.hooks.${a.alertId}`, JSON.stringify({ state: 'claimed', owner: 'dead', since: Date.now() - 600_000, attempts: 1 }));
    const before = standIn.created;
    await request(a);
    const created = await tickets.until('TicketCreated', a.alertId);
    expect(created.data.found).toBe(true);
    expect(created.data.ticketKey).toBe(standIn.tickets.get(`oncall-${a.alertId}`)?.key);
    expect(standIn.created).toBe(before);
  });

  it('a 429 pauses the provider until its Retry-After and is no failed attempt of the ticket', async () => {
    const a = await trigger('throttled');
    standIn.failNext(1, 429, 1);
    const from = standIn.requests.length;
    await request(a);
    const created = await tickets.until('TicketCreated', a.alertId);
    expect(created.data.found).toBe(false);
    // A rate limit says nothing about the ticket: no TicketSyncFailed, and the retry asks no lookup (attempt 1 again).
    expect(tickets.of('TicketSyncFailed', a.alertId)).toEqual([]);
    const mine = standIn.requests.slice(from);
    const throttled = mine.find((r) => r.status === 429)!;
    const next = mine.find((r) => r.at > throttled.at && r.status !== 429)!;
    expect(next.at - throttled.at).toBeGreaterThanOrEqual(950);
    expect(next.method).toBe('POST');
  });

  it('a paused lane holds its requests in hand: each ticket once, none handed back again, and another provider goes on', async () => {
    const deferred = async (provider: string, why: string) =>
      (await registry.getSingleMetric('oncall_ticket_bridge_deferred_total')!.get()).values.find(
        (v) => v.labels.provider === provider && v.labels.why === why,
      )?.value ?? 0;
    const first = await trigger('paused-0');
    const rest = await Promise.all(Array.from({ length: 20 }, (_, i) => trigger(`paused-${i + 1}`)));
    const spare = await trigger('paused-spare');
    const before = {
      created: standIn.created,
      rateLimited: await deferred('hooks', 'rate-limited'),
      full: await deferred('hooks', 'lane-full'),
    };
    standIn.failNext(1, 429, 3);
    await request(first);
    // The bridge that got the 429 hands that one request back (until the pause ends) and pauses its lane for 3 s.
    await expect.poll(() => deferred('hooks', 'rate-limited')).toBe(before.rateLimited + 1);
    const pausedAt = Date.now();
    await Promise.all(rest.map((a) => request(a)));
    await request(spare, 'spare');
    await tickets.until('TicketCreated', spare.alertId);
    expect(Date.now() - pausedAt).toBeLessThan(3000);
    await Promise.all([first, ...rest].map((a) => tickets.until('TicketCreated', a.alertId)));
    expect(standIn.created - before.created).toBe(22);
    for (const a of [first, ...rest, spare]) {
      expect(new Set(tickets.of('TicketCreated', a.alertId).map((e) => e.id)).size).toBe(1);
      expect(tickets.of('TicketSyncFailed', a.alertId)).toEqual([]);
    }
    // Requests that met the paused lane waited in it (in hand), none was handed back to come again.
    expect(await deferred('hooks', 'rate-limited')).toBe(before.rateLimited + 1);
    expect(await deferred('hooks', 'lane-full')).toBe(before.full);
  });

  it('a provider that refuses the credentials fails for good, and other alerts are still ticketed', async () => {
    const bad = await trigger('refused');
    const good = await trigger('fine');
    await request(bad, 'broken');
    await request(good, 'hooks');
    const failed = await tickets.until('TicketSyncFailed', bad.alertId);
    expect(failed.data).toMatchObject({ permanent: true, httpStatus: 401, retryAt: null, providerId: 'broken' });
    expect(failed.data.error).toContain('check the credentials');
    await tickets.until('TicketCreated', good.alertId);
    expect(tickets.of('TicketCreated', bad.alertId)).toHaveLength(0);
  });

  it('a provider that hangs holds only its own lane: other providers go on', async () => {
    const slow = await Promise.all(Array.from({ length: 12 }, (_, i) => trigger(`slow-${i}`)));
    await Promise.all(slow.map((a) => request(a, 'slow')));
    const fast = await trigger('fast');
    await request(fast, 'hooks');
    await tickets.until('TicketCreated', fast.alertId);
    // Every call to the slow provider is still hanging (its timeout is 10 s): nothing of it is recorded yet.
    for (const a of slow) expect([...tickets.of('TicketCreated', a.alertId), ...tickets.of('TicketSyncFailed', a.alertId)]).toEqual([]);
  });

  it('a provider whose secret is not set is unusable, said clearly, and its requests wait for a retry', async () => {
    const a = await trigger('no-secret');
    await request(a, 'unset');
    const failed = await tickets.until('TicketSyncFailed', a.alertId);
    expect(failed.data).toMatchObject({ permanent: false, providerId: 'unset', httpStatus: null });
    expect(failed.data.error).toContain('TEST_TICKET_NOT_SET is not set');
    const reply = await nc.request(TICKET_TEST_SUBJECT, JSON.stringify({ providerId: 'unset', alertId: null }), { timeout: 5000 });
    expect(reply.json()).toEqual({
      ok: false,
      error: 'secret environment variable TEST_TICKET_NOT_SET is not set',
      fields: null,
      latencyMs: null,
    });
  });

  it('a ticket closed at the provider resolves its alert through the command path', async () => {
    const a = await trigger('closed-there');
    await request(a);
    const created = await tickets.until('TicketCreated', a.alertId);
    const status = await standIn.sendChange(bridge.url, 'hooks', INBOUND, {
      ticket: created.data.ticketKey,
      status: 'closed',
      actor: 'carol',
    });
    expect(status).toBe(200);
    const resolved = await alertEvent('AlertResolved', a.alertId);
    expect(resolved.data).toMatchObject({ by: 'user', via: 'ticket', userId: null });
    expect((resolved.data as { note: string }).note).toContain('by carol');
    const changed = await tickets.until('TicketStatusChanged', a.alertId);
    expect(changed.data).toMatchObject({ state: 'closed', echo: false, actor: 'carol' });
  });

  it('a change the bridge made echoes back without a loop', async () => {
    const a = await trigger('resolved-here');
    await request(a);
    const created = await tickets.until('TicketCreated', a.alertId);
    const commands = new AlertCommandPath(nc, { partitions: PARTITIONS });
    await commands.submit(
      {
        target: { alertId: a.alertId, serviceId: 'checkout', fingerprint: a.fingerprint },
        command: 'resolve',
        userId: 'alice',
        via: 'api',
      },
      AbortSignal.timeout(10_000),
    );
    const updated = await tickets.until('TicketUpdated', a.alertId);
    expect(updated.data).toMatchObject({ change: 'resolved', state: 'resolved', ticketKey: created.data.ticketKey });
    // The receiver tells us about the change we made.
    const intakeBefore = await streamLastSeq(nc, STREAMS.intake);
    expect(
      await standIn.sendChange(bridge.url, 'hooks', INBOUND, { ticket: created.data.ticketKey, status: 'resolved', actor: 'oncall' }),
    ).toBe(200);
    const echo = await tickets.until('TicketStatusChanged', a.alertId);
    expect(echo.data).toMatchObject({ state: 'resolved', echo: true });
    expect(await streamLastSeq(nc, STREAMS.intake)).toBe(intakeBefore);
    expect(tickets.of('TicketUpdated', a.alertId)).toHaveLength(1);
    expect(standIn.tickets.get(`oncall-${a.alertId}`)?.updates).toHaveLength(1);
  });

  it('an acknowledgement moves the ticket in progress, with a comment', async () => {
    const a = await trigger('acked');
    await request(a);
    await tickets.until('TicketCreated', a.alertId);
    await new AlertCommandPath(nc, { partitions: PARTITIONS }).submit(
      {
        target: { alertId: a.alertId, serviceId: 'checkout', fingerprint: a.fingerprint },
        command: 'acknowledge',
        userId: 'bob',
        via: 'slack',
      },
      AbortSignal.timeout(10_000),
    );
    const updated = await tickets.until('TicketUpdated', a.alertId);
    expect(updated.data).toMatchObject({ change: 'acknowledged', state: 'in_progress' });
    expect(standIn.tickets.get(`oncall-${a.alertId}`)?.updates).toEqual([
      expect.objectContaining({ transition: 'in_progress', comment: 'Alert acknowledged by bob (via slack)' }),
    ]);
  });

  it('a failing update is tried again; its attempts are the failed calls, and the last one is given up for good', async () => {
    const acknowledge = (a: { alertId: string; fingerprint: string }) =>
      new AlertCommandPath(nc, { partitions: PARTITIONS }).submit(
        {
          target: { alertId: a.alertId, serviceId: 'checkout', fingerprint: a.fingerprint },
          command: 'acknowledge',
          userId: 'bob',
          via: 'slack',
        },
        AbortSignal.timeout(10_000),
      );
    const a = await trigger('update-flaky');
    await request(a);
    await tickets.until('TicketCreated', a.alertId);
    // A rate limit first: it hands the message back (a delivery) but is no failed attempt.
    standIn.failNext(1, 429, 1);
    standIn.failNext(2, 503);
    await acknowledge(a);
    await tickets.until('TicketUpdated', a.alertId);
    expect(tickets.of('TicketSyncFailed', a.alertId).map((e) => [e.data.operation, e.data.attempt, e.data.permanent])).toEqual([
      ['update', 1, false],
      ['update', 2, false],
    ]);

    const b = await trigger('update-down');
    await request(b);
    await tickets.until('TicketCreated', b.alertId);
    standIn.failNext(5, 503); // the bridge here tries 5 times
    await acknowledge(b);
    await tickets.until('TicketSyncFailed', b.alertId, (e) => e.data.permanent);
    expect(tickets.of('TicketSyncFailed', b.alertId).map((e) => e.data.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(tickets.of('TicketUpdated', b.alertId)).toEqual([]);
  });

  it('an alert acknowledged before its ticket exists gets a ticket in progress', async () => {
    const a = await trigger('acked-early');
    await new AlertCommandPath(nc, { partitions: PARTITIONS }).submit(
      {
        target: { alertId: a.alertId, serviceId: 'checkout', fingerprint: a.fingerprint },
        command: 'acknowledge',
        userId: 'dave',
        via: 'api',
      },
      AbortSignal.timeout(10_000),
    );
    const acked = await alertEvent('AlertAcknowledged', a.alertId);
    await request(a);
    await tickets.until('TicketCreated', a.alertId);
    const updated = await tickets.until('TicketUpdated', a.alertId);
    expect(updated.data).toMatchObject({ change: 'acknowledged', state: 'in_progress', cause: acked.id });
    expect(standIn.tickets.get(`oncall-${a.alertId}`)?.status).toBe('in_progress');
  });

  it('a provider that polls finds a ticket closed at the provider and resolves the alert', async () => {
    // The webhook receiver with a change feed (GET /changes?since=<cursor>), read by a bridge whose webhook provider polls.
    const polling: ProviderImpl = {
      ...webhookProvider,
      capabilities: [...webhookProvider.capabilities, 'poll'],
      poll: async (ctx, since) => {
        const res = await ctx.fetch(`${standIn.url}/changes?since=${since ?? '0'}`, {
          headers: standardWebhookHeaders(SIGNING, 'poll', Math.floor(Date.now() / 1000), ''),
        });
        const body = (await res.json()) as {
          changes: { id: string; ticket: string; status: string; actor: string | null }[];
          cursor: string;
        };
        return {
          changes: body.changes.map((c) => ({
            ticketKey: c.ticket,
            alertId: null,
            status: c.status,
            state: 'closed' as const,
            actor: c.actor,
            comment: null,
            changeId: c.id,
          })),
          cursor: body.cursor,
        };
      },
    };
    await append(subjects.config('ticket-provider', 'polled'), 'TicketProviderConfigured', {
      ...providerConfig('polled', standIn.url, 'TEST_TICKET_SIGNING'),
      sync: { ...SYNC, pollSeconds: 10 },
    });
    const a = await trigger('polled');
    await request(a, 'polled');
    const created = await tickets.until('TicketCreated', a.alertId);
    standIn.changeQuietly({ ticket: created.data.ticketKey, status: 'closed', actor: 'erin' });
    // Its first poll is at start.
    const poller = await startTicketBridge({
      nc: await nats.connect('bridge-poller'),
      log: testLog,
      partitions: PARTITIONS,
      port: 0,
      owner: 'poller',
      providers: { webhook: polling },
    });
    try {
      const resolved = await alertEvent('AlertResolved', a.alertId);
      expect(resolved.data).toMatchObject({ via: 'ticket' });
      expect((resolved.data as { note: string }).note).toContain('by erin');
      const changed = await tickets.until('TicketStatusChanged', a.alertId);
      expect(changed.data).toMatchObject({ state: 'closed', echo: false, actor: 'erin' });
    } finally {
      // Stopping lets the poll in progress finish: it moves the cursor past the change.
      await poller.stop();
    }
    const cursor = await (await new Kvm(nc).open(TICKET_BUCKET)).get('cursor.polled');
    expect(cursor?.string()).toBe('1');
  });

  it('inbound calls with a bad signature or for an unknown ticket are refused and append nothing', async () => {
    // Other providers retry in the background (TicketSyncFailed): what must not appear is any status change.
    const statusChanges = () => seenTypes('TicketStatusChanged');
    const changesBefore = statusChanges();
    const intakeBefore = await streamLastSeq(nc, STREAMS.intake);
    const a = [...standIn.tickets.values()][0]!;
    const jsm = await jetstreamManager(nc);
    const lastOfAlert = async () =>
      (await jsm.streams.getMessage(STREAMS.tickets, { last_by_subj: `tickets.*.${a.idempotencyKey.slice('oncall-'.length)}` }))?.seq;
    const alertBefore = await lastOfAlert();
    expect(await standIn.sendChange(bridge.url, 'hooks', 'wrong-secret', { ticket: a.key, status: 'closed' })).toBe(401);
    expect(await standIn.sendChange(bridge.url, 'hooks', INBOUND, { ticket: 'WH-99999', status: 'closed' })).toBe(404);
    expect(await standIn.sendChange(bridge.url, 'nobody', INBOUND, { ticket: a.key, status: 'closed' })).toBe(404);
    const get = await fetch(`${bridge.url}/api/v1/tickets/hooks/events`);
    expect(get.status).toBe(405);
    // The bridge appends before it answers: a change it recorded would be here by now.
    expect(statusChanges()).toBe(changesBefore);
    expect(await lastOfAlert()).toBe(alertBefore);
    expect(await streamLastSeq(nc, STREAMS.intake)).toBe(intakeBefore);
  });

  it('answers TestProvider with the evaluated fields and the check', async () => {
    const reply = await nc.request(TICKET_TEST_SUBJECT, JSON.stringify({ providerId: 'hooks', alertId: null }), { timeout: 5000 });
    expect(reply.json()).toMatchObject({ ok: true, error: null, fields: { title: '[Checkout] Sample alert: disk almost full on db-1' } });
    const broken = await nc.request(TICKET_TEST_SUBJECT, JSON.stringify({ providerId: 'broken', alertId: null }), { timeout: 5000 });
    expect(broken.json()).toMatchObject({ ok: false });
    expect(broken.json<{ error: string }>().error).toContain('401');
    const unknown = await nc.request(TICKET_TEST_SUBJECT, JSON.stringify({ providerId: 'nope', alertId: null }), { timeout: 5000 });
    expect(unknown.json()).toMatchObject({ ok: false, error: 'no ticket provider nope' });
    // Every answer has the shape query-api's TestProvider reads (an error answer too).
    for (const r of [reply, broken, unknown]) expect(TicketTestReply.parse(r.json())).toEqual(r.json());
  });
});
