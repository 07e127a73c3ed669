import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  decodeEvent,
  encodeEvent,
  makeEvent,
  partitionOf,
  subjects,
  type DomainEvent,
  type EventData,
  type EventType,
} from '@oncall/contracts';
import { StreamAppender } from '@oncall/shared';
import { startTicketBridge, startWebhookStandIn, type TicketBridge, type WebhookStandIn } from '@oncall/ticket-bridge';
import { prepareTopology, startTestNats, testLog, type TestNats } from './harness.js';
import { entryArgs } from '../infra/src/entry.js';

const PARTITIONS = 4;
const SIGNING = 'sign-secret-crash';
const REPO = fileURLToPath(new URL('..', import.meta.url));
process.env.CRASH_TICKET_SIGNING = SIGNING;

describe('ticket bridge killed with kill -9 mid-create', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let appender: StreamAppender;
  let standIn: WebhookStandIn;
  let child: ChildProcess | undefined;
  let bridge: TicketBridge | undefined;
  const seen: DomainEvent[] = [];
  const waiters: Array<() => void> = [];
  const created = async (): Promise<DomainEvent> => {
    for (;;) {
      const hit = seen.find((e) => e.type === 'TicketCreated');
      if (hit) return hit;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };

  const append = async (subject: string, type: EventType, data: unknown) => {
    const id = randomUUID();
    const event = makeEvent(type, data as EventData<typeof type>, {
      id,
      occurredAt: new Date().toISOString(),
      causationId: null,
      correlationId: id,
    });
    await appender.append(subject, encodeEvent(event), { msgID: id });
  };

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect('test');
    await prepareTopology(nc, PARTITIONS);
    appender = new StreamAppender(nc);
    standIn = await startWebhookStandIn({ signingSecret: SIGNING });
    await append(subjects.config('ticket-provider', 'hooks'), 'TicketProviderConfigured', {
      providerId: 'hooks',
      type: 'webhook',
      name: 'Hooks',
      settings: { url: `${standIn.url}/tickets`, lookupUrl: `${standIn.url}/tickets`, signingSecret: { env: 'CRASH_TICKET_SIGNING' } },
      auth: { kind: 'none' },
      fields: {},
      sync: {
        onAcknowledge: { transition: null, comment: false },
        onResolve: { transition: null, comment: false },
        onReopen: { transition: null, comment: false },
        resolveAlertOn: [],
        mirrorComments: false,
        pollSeconds: null,
      },
      inboundSecret: null,
    });
    nc.subscribe(subjects.ticketsAll, {
      callback: (err, m) => {
        if (err) return;
        seen.push(decodeEvent(m.data));
        for (const w of waiters.splice(0)) w();
      },
    });
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await bridge?.stop();
    await appender.close();
    await standIn.stop();
    await nats.stop();
  });

  it('the replica left takes the claim over, finds the ticket and creates no second one', async () => {
    const env = {
      ...process.env,
      NATS_URL: nats.url,
      ONCALL_PARTITIONS: String(PARTITIONS),
      TICKET_BRIDGE_PORT: '0',
      METRICS_PORT: '0',
      TICKET_BRIDGE_ID: 'doomed',
      TICKET_BRIDGE_ACK_WAIT_MS: '1000',
      TICKET_PROVIDER_TIMEOUT_MS: '500',
      LOG_LEVEL: process.env.CRASH_DEBUG ? 'info' : 'silent',
    };
    child = spawn(process.execPath, entryArgs('ticket-bridge/src/main.ts'), {
      cwd: REPO,
      env,
      stdio: process.env.CRASH_DEBUG ? 'inherit' : 'ignore',
    });

    const alertId = randomUUID();
    const p = partitionOf('checkout', 'crash', PARTITIONS);
    await append(subjects.alert(p, alertId), 'AlertTriggered', {
      alertId,
      serviceId: 'checkout',
      fingerprint: 'crash',
      summary: 'crash',
      details: '',
      severity: 'critical',
      labels: {},
      annotations: {},
      links: [],
      custom: {},
      source: 'generic',
      startsAt: null,
      generatorUrl: null,
      seenAt: new Date().toISOString(),
    });
    // The provider stores the ticket and is slow to answer: the bridge dies before it hears back.
    standIn.answerCreatesAfterMs = 400;
    const reached = standIn.nextCreate();
    await append(subjects.ticket(p, alertId), 'TicketRequested', {
      alertId,
      serviceId: 'checkout',
      providerId: 'hooks',
      requestedBy: 'api',
      userId: 'alice',
      requestId: 'r1',
    });
    await reached;
    child.kill('SIGKILL');
    standIn.answerCreatesAfterMs = 0;
    expect(seen.filter((e) => e.type === 'TicketCreated')).toHaveLength(0);

    bridge = await startTicketBridge({
      nc: await nats.connect('survivor'),
      log: testLog,
      partitions: PARTITIONS,
      port: 0,
      owner: 'survivor',
      ackWaitMs: 1000,
      providerTimeoutMs: 500,
    });
    expect((await created()).data).toMatchObject({ alertId, found: true, ticketKey: standIn.tickets.get(`oncall-${alertId}`)?.key });
    expect(standIn.created).toBe(1);
  }, 30_000);
});
