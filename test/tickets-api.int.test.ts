import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import {
  CONSUMERS,
  decodeEvent,
  encodeEvent,
  makeEvent,
  partitionOf,
  stableUuid,
  STREAMS,
  subjects,
  TICKET_TEST_SUBJECT,
  type DomainEvent,
  type EventData,
  type EventType,
  type TicketProvider,
} from '@oncall/contracts';
import { alertingV1, ticketingV1 } from '@oncall/contracts/grpc';
import { waitForProjection } from '@oncall/projector';
import { appendConfig } from './escalation-log.js';
import { amAlert, amPayload } from './fixtures.js';
import { streamLastSeq } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const ask = <Res>(call: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> =>
  new Promise((resolve, reject) => call((err, res) => (err ? reject(err) : resolve(res))));

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

async function expectInvalid(p: Promise<unknown>, field: string): Promise<void> {
  const err = await failure(p);
  expect(err.code, err.details).toBe(status.INVALID_ARGUMENT);
  expect(err.metadata.get('invalid-field')).toEqual([field]);
}

/** The real `oncall` binary against the test pipeline's query-api. */
function oncall(p: TestPipeline, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/oncall.js', ...args, '--grpc', p.grpcAddress], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, LOG_LEVEL: 'silent', ONCALL_API_TOKEN: p.token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const provider = (providerId: string, type: TicketProvider['type']): TicketProvider => ({
  providerId,
  type,
  name: providerId,
  settings: {},
  auth: { kind: 'none' },
  fields: { summary: 'alert.summary' },
  sync: {
    onAcknowledge: { transition: null, comment: true },
    onResolve: { transition: null, comment: true },
    onReopen: { transition: null, comment: true },
    resolveAlertOn: ['resolved', 'closed'],
    mirrorComments: false,
    pollSeconds: null,
  },
  inboundSecret: null,
});

/** Every event on one alert's ticket subject, oldest first. */
async function ticketEvents(p: TestPipeline, alertId: string): Promise<DomainEvent[]> {
  const out: DomainEvent[] = [];
  const js = jetstream(p.admin);
  const consumer = await js.consumers.get(STREAMS.tickets, { filter_subjects: `tickets.*.${alertId}` });
  const pending = (await consumer.info()).num_pending;
  if (pending === 0) return out;
  const messages = await consumer.fetch({ max_messages: pending, expires: 2000 });
  for await (const m of messages) {
    out.push(decodeEvent(m.data));
    if (out.length === pending) break;
  }
  return out;
}

describe('tickets over gRPC: TicketIntegrationService and TicketingService', () => {
  let p: TestPipeline;
  let integration: alertingV1.TicketIntegrationServiceClient;
  let ticketing: ticketingV1.TicketingServiceClient;
  let alert: alertingV1.Alert;
  let other: alertingV1.Alert;

  /** As the ticket bridge writes: an event on the alert's ticket subject, then waits for the projection. */
  const bridge = async <T extends EventType>(a: alertingV1.Alert, type: T, data: EventData<T>): Promise<void> => {
    const event = makeEvent(type, data, {
      id: stableUuid(`${type}-${JSON.stringify(data)}`),
      occurredAt: new Date().toISOString(),
      causationId: null,
      correlationId: a.id,
    });
    const subject = subjects.ticket(partitionOf(a.serviceId, a.fingerprint, p.partitions), a.id);
    const { seq } = await jetstream(p.admin).publish(subject, encodeEvent(event));
    await waitForProjection(p.db.url, p.db.schema, CONSUMERS.projectorTickets, seq);
  };

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 2 });
    await appendConfig(p.admin, 'ticket-provider', 'jira', 'TicketProviderConfigured', provider('jira', 'jira'));
    await appendConfig(p.admin, 'ticket-provider', 'sn', 'TicketProviderConfigured', {
      ...provider('sn', 'servicenow'),
      fields: { short_description: 'alert.summary' },
    });
    await waitForProjection(p.db.url, p.db.schema, CONSUMERS.projectorConfig, await streamLastSeq(p.admin, STREAMS.config));
    const before = await streamLastSeq(p.admin, STREAMS.alerts);
    expect((await p.postAlertmanager(amPayload([amAlert('TicketDisk'), amAlert('TicketCpu')]))).status).toBe(202);
    await p.alertsApplied(before + 2); // one AlertTriggered each
    const listed = await p.listAlerts();
    alert = listed.find((a) => a.summary === 'TicketDisk is down')!;
    other = listed.find((a) => a.summary === 'TicketCpu is down')!;
    integration = new alertingV1.TicketIntegrationServiceClient(p.grpcAddress, credentials.createInsecure(), p.clientOptions);
    ticketing = new ticketingV1.TicketingServiceClient(p.grpcAddress, credentials.createInsecure(), p.clientOptions);
  });

  afterAll(async () => {
    integration?.close();
    ticketing?.close();
    await p?.stop();
  });

  const createFromAlert = (r: Partial<alertingV1.CreateTicketRequest>) =>
    ask<alertingV1.CreateTicketResponse>((cb) =>
      integration.createTicketFromAlert(alertingV1.CreateTicketRequest.fromPartial({ alertId: alert.id, providerId: 'jira', ...r }), cb),
    );
  const providers = async () =>
    new Map(
      (await ask<ticketingV1.ProviderList>((cb) => ticketing.listProviders({}, cb))).providers.map((x) => [x.providerId, x] as const),
    );

  it('ListProviders: the configured providers, health unknown before any call', async () => {
    const list = await providers();
    expect([...list.keys()]).toStrictEqual(['jira', 'sn']);
    expect(list.get('jira')).toMatchObject({ type: 'jira', fields: ['summary'], resolveAlertOn: ['resolved', 'closed'] });
    expect(list.get('jira')?.health?.status).toBe('unknown');
  });

  it('CreateTicketFromAlert appends one TicketRequested per request id and answers once it is projected', async () => {
    const req = { requestId: 'req-1', userId: 'alice' };
    const [a, b] = await Promise.all([createFromAlert(req), createFromAlert(req)]);
    expect(a.logSequence).toBeGreaterThan(0);
    expect(b.logSequence).toBe(a.logSequence);
    expect(a).toMatchObject({ ticketId: '', externalTicketId: '' });
    expect(a.status).toMatchObject({
      alertId: alert.id,
      providerId: 'jira',
      providerType: 'jira',
      status: 'requested',
      syncStatus: 'requested',
    });
    const events = await ticketEvents(p, alert.id);
    expect(events.map((e) => e.type)).toStrictEqual(['TicketRequested']);
    expect(events[0]!.data).toMatchObject({ providerId: 'jira', requestedBy: 'api', userId: 'alice', requestId: 'req-1' });
    expect(events[0]!.correlationId).toMatch(/^api:token:/); // who asked, from the token
  });

  it('the ticket the bridge creates: GetTicketStatus, GetTicket, the alert’s external ticket and the provider’s health', async () => {
    await bridge(alert, 'TicketCreated', {
      alertId: alert.id,
      serviceId: alert.serviceId,
      providerId: 'jira',
      ticketKey: 'OPS-1',
      url: 'https://jira.example.com/browse/OPS-1',
      externalId: '10001',
      found: false,
    });
    const byAlert = await ask<alertingV1.TicketStatus>((cb) =>
      integration.getTicketStatus({ ticketId: '', alertId: alert.id, providerId: '' }, cb),
    );
    expect(byAlert).toMatchObject({
      ticketId: 'jira:OPS-1',
      externalTicketId: 'OPS-1',
      externalUrl: 'https://jira.example.com/browse/OPS-1',
      status: 'created',
      state: 'open',
      closed: false,
      syncStatus: 'created',
    });
    const byId = await ask<ticketingV1.Ticket>((cb) => ticketing.getTicket({ ticketId: 'jira:OPS-1', alertId: '', providerId: '' }, cb));
    expect(byId).toMatchObject({ alertId: alert.id, key: 'OPS-1', externalId: '10001', linked: false });
    expect(await p.getAlert(alert.id)).toMatchObject({
      externalTicketId: 'OPS-1',
      externalTicketUrl: 'https://jira.example.com/browse/OPS-1',
    });
    expect((await providers()).get('jira')?.health).toMatchObject({ status: 'ok', failed: 0, retrying: 0 });
    const again = await createFromAlert({ requestId: 'req-2' });
    expect(again).toMatchObject({ ticketId: 'jira:OPS-1', externalTicketId: 'OPS-1' });
  });

  it('a provider whose calls fail for good shows failing, with the error', async () => {
    await ask((cb) => ticketing.createTicket({ alertId: other.id, providerId: 'sn', requestId: 'req-sn', userId: '' }, cb));
    await bridge(other, 'TicketSyncFailed', {
      alertId: other.id,
      serviceId: other.serviceId,
      providerId: 'sn',
      ticketKey: null,
      operation: 'create',
      error: 'HTTP 401: invalid credentials',
      httpStatus: 401,
      attempt: 1,
      permanent: true,
      retryAt: null,
    });
    expect((await providers()).get('sn')?.health).toMatchObject({
      status: 'failing',
      failed: 1,
      lastError: 'HTTP 401: invalid credentials',
    });
    const ticket = await ask<ticketingV1.Ticket>((cb) => ticketing.getTicket({ ticketId: '', alertId: other.id, providerId: 'sn' }, cb));
    expect(ticket).toMatchObject({
      ticketId: '',
      syncStatus: 'failed',
      status: 'failed',
      attempts: 1,
      lastError: 'HTTP 401: invalid credentials',
    });
  });

  it('LinkAlertToTicket links an existing ticket; a repeated request id appends nothing', async () => {
    const link = () =>
      ask<alertingV1.LinkResponse>((cb) =>
        integration.linkAlertToTicket(
          alertingV1.LinkRequest.fromPartial({
            alertId: other.id,
            providerId: 'jira',
            externalTicketId: 'OPS-7',
            externalUrl: 'https://jira.example.com/browse/OPS-7',
            userId: 'bob',
            requestId: 'link-1',
          }),
          cb,
        ),
      );
    expect(await link()).toStrictEqual({ ticketId: 'jira:OPS-7', linked: true });
    await link();
    const links = (await ticketEvents(p, other.id)).filter((e) => e.type === 'TicketLinked');
    expect(links.map((e) => e.data)).toMatchObject([{ ticketKey: 'OPS-7', userId: 'bob', via: 'api' }]);
    const ticket = await ask<ticketingV1.Ticket>((cb) => ticketing.getTicket({ ticketId: 'jira:OPS-7', alertId: '', providerId: '' }, cb));
    expect(ticket).toMatchObject({ alertId: other.id, linked: true, status: 'linked', url: 'https://jira.example.com/browse/OPS-7' });
  });

  it('SyncTicketStatus: one ack per update, a refused one says why and the stream goes on', async () => {
    const call: ClientDuplexStream<alertingV1.TicketStatusUpdate, alertingV1.SyncAckResponse> = integration.syncTicketStatus();
    const acks: alertingV1.SyncAckResponse[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (a: alertingV1.SyncAckResponse) => acks.push(a));
      call.on('end', resolve);
      call.on('error', reject);
    });
    const update = (u: Partial<alertingV1.TicketStatusUpdate>) => call.write(alertingV1.TicketStatusUpdate.fromPartial(u));
    update({ ticketId: 'jira:OPS-1', status: 'In Progress', state: 'in_progress', metadata: { actor: 'jane', change_id: 'c-1' } });
    update({ ticketId: 'jira:OPS-404', status: 'Done' });
    update({ ticketId: 'jira:OPS-1', status: 'Done', state: 'finished' });
    update({
      providerId: 'jira',
      externalTicketId: 'OPS-1',
      status: 'Done',
      state: 'resolved',
      metadata: { actor: 'jane', change_id: 'c-2' },
    });
    update({ ticketId: 'jira:OPS-1', status: 'In Progress', state: 'in_progress', metadata: { actor: 'jane', change_id: 'c-1' } });
    call.end();
    await ended;
    expect(acks).toStrictEqual([
      { ticketId: 'jira:OPS-1', accepted: true, error: '' },
      { ticketId: 'jira:OPS-404', accepted: false, error: 'no ticket jira:OPS-404 (create or link it first)' },
      { ticketId: 'jira:OPS-1', accepted: false, error: 'state: must be one of open, in_progress, resolved, closed' },
      { ticketId: 'jira:OPS-1', accepted: true, error: '' },
      { ticketId: 'jira:OPS-1', accepted: true, error: '' },
    ]);
    const changes = (await ticketEvents(p, alert.id)).filter((e) => e.type === 'TicketStatusChanged');
    expect(changes.map((e) => e.data)).toMatchObject([
      { ticketKey: 'OPS-1', status: 'In Progress', state: 'in_progress', actor: 'jane', echo: false, changeId: 'c-1' },
      { ticketKey: 'OPS-1', status: 'Done', state: 'resolved', actor: 'jane', echo: false, changeId: 'c-2' },
    ]);
    const now = await ask<alertingV1.TicketStatus>((cb) =>
      integration.getTicketStatus({ ticketId: 'jira:OPS-1', alertId: '', providerId: '' }, cb),
    );
    expect(now).toMatchObject({ status: 'Done', state: 'resolved', closed: true });
  });

  it('UpdateTicket and SyncStatus record status changes of the TicketingService', async () => {
    const updated = await ask<ticketingV1.Ticket>((cb) =>
      ticketing.updateTicket(
        ticketingV1.UpdateTicketRequest.fromPartial({ ticketId: 'jira:OPS-7', status: 'Waiting', state: 'in_progress' }),
        cb,
      ),
    );
    expect(updated).toMatchObject({ alertId: other.id, status: 'Waiting', state: 'in_progress' });
    const call = ticketing.syncStatus();
    const acks: ticketingV1.InternalStatus[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (a: ticketingV1.InternalStatus) => acks.push(a));
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write(ticketingV1.ExternalStatus.fromPartial({ ticketId: 'jira:OPS-7', status: 'Closed', state: 'closed', changeId: 'x-1' }));
    call.write(ticketingV1.ExternalStatus.fromPartial({ ticketId: 'nonsense', status: 'Closed' }));
    call.end();
    await ended;
    expect(acks).toStrictEqual([
      { ticketId: 'jira:OPS-7', accepted: true, error: '', alertIds: [other.id] },
      { ticketId: 'nonsense', accepted: false, error: 'ticket_id: must be "<provider_id>:<key>", e.g. "jira:OPS-123"', alertIds: [] },
    ]);
  });

  it('oncall ticket providers and oncall ticket show print them', async () => {
    const list = await oncall(p, ['ticket', 'providers']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^PROVIDER\s+TYPE\s+HEALTH/);
    expect(list.stdout).toMatch(/\nsn\s+servicenow\s+failing\s.*HTTP 401: invalid credentials\n/);
    const show = await oncall(p, ['ticket', 'show', alert.id, '--provider', 'jira']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('ticket:   jira:OPS-1\nprovider: jira (jira)\n');
    const none = await oncall(p, ['ticket', 'show', stableUuid('no-such-alert')]);
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toContain('not found');
  });

  it('rejects bad input naming the field, an unknown alert with NOT_FOUND', async () => {
    await expectInvalid(createFromAlert({ alertId: 'nope' }), 'alert_id');
    await expectInvalid(createFromAlert({ providerId: '' }), 'provider_id');
    await expectInvalid(createFromAlert({ providerId: 'zendesk' }), 'provider_id');
    await expectInvalid(createFromAlert({ providerType: 'servicenow' }), 'provider_type');
    await expectInvalid(createFromAlert({ providerConfig: { url: 'https://x' } }), 'provider_config');
    await expectInvalid(
      ask((cb) =>
        integration.linkAlertToTicket(
          alertingV1.LinkRequest.fromPartial({ alertId: alert.id, providerId: 'jira', externalTicketId: 'X-1', externalUrl: 'ftp://x' }),
          cb,
        ),
      ),
      'external_url',
    );
    await expectInvalid(
      ask((cb) => ticketing.updateTicket(ticketingV1.UpdateTicketRequest.fromPartial({ ticketId: 'jira:OPS-1' }), cb)),
      'status',
    );
    const missing = await failure(createFromAlert({ alertId: stableUuid('no-such-alert') }));
    expect(missing.code).toBe(status.NOT_FOUND);
    const noTicket = await failure(ask((cb) => ticketing.getTicket({ ticketId: 'jira:OPS-999', alertId: '', providerId: '' }, cb)));
    expect(noTicket.code).toBe(status.NOT_FOUND);
    expect((await ticketEvents(p, stableUuid('no-such-alert'))).length).toBe(0);
  });

  describe('TestProvider', () => {
    const test = (r: Partial<ticketingV1.TestProviderRequest>) =>
      ask<ticketingV1.TestResult>((cb) =>
        ticketing.testProvider(ticketingV1.TestProviderRequest.fromPartial({ providerId: 'jira', ...r }), cb),
      );

    it('without a ticket bridge answers UNAVAILABLE', async () => {
      const err = await failure(test({}));
      expect(err.code).toBe(status.UNAVAILABLE);
      expect(err.details).toContain('ticket-bridge not running');
    });

    it('asks the bridge on oncall.tickets.test and passes its answer on', async () => {
      const nc = await p.nats.connect('bridge-stand-in');
      const asked: unknown[] = [];
      const sub: Subscription = nc.subscribe(TICKET_TEST_SUBJECT, {
        callback: (_err, m) => {
          const req = m.json<{ providerId: string; alertId: string | null }>();
          asked.push(req);
          m.respond(
            JSON.stringify(
              req.alertId === null
                ? { ok: false, error: 'HTTP 401 from https://jira.example.com: bad credentials', fields: null, latencyMs: 12.4 }
                : { ok: true, error: null, fields: { summary: 'TicketDisk is down', labels: ['oncall'] }, latencyMs: 30 },
            ),
          );
        },
      });
      await nc.flush();
      try {
        expect(await test({ alertId: alert.id })).toStrictEqual({
          ok: true,
          error: '',
          fieldsJson: JSON.stringify({ summary: 'TicketDisk is down', labels: ['oncall'] }),
          latencyMs: 30,
        });
        expect(await test({})).toStrictEqual({
          ok: false,
          error: 'HTTP 401 from https://jira.example.com: bad credentials',
          fieldsJson: '',
          latencyMs: 12,
        });
        expect(asked).toStrictEqual([
          { providerId: 'jira', alertId: alert.id },
          { providerId: 'jira', alertId: null },
        ]);
        await expectInvalid(test({ providerId: 'zendesk' }), 'provider_id');
        expect((await failure(test({ alertId: stableUuid('no-such-alert') }))).code).toBe(status.NOT_FOUND);

        const preview = await oncall(p, ['ticket', 'preview', 'jira', '--alert', alert.id]);
        expect(preview).toMatchObject({ code: 0, stderr: '' });
        expect(preview.stdout).toBe('jira: ok (30 ms)\n{\n  "summary": "TicketDisk is down",\n  "labels": [\n    "oncall"\n  ]\n}\n');
        const failed = await oncall(p, ['ticket', 'preview', 'jira']);
        expect(failed).toMatchObject({
          code: 1,
          stdout: 'jira: failed (12 ms): HTTP 401 from https://jira.example.com: bad credentials\n',
        });
      } finally {
        sub.unsubscribe();
        await nc.close();
      }
    });
  });
});
