import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Client, credentials, Metadata, status, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { type ApiScope } from '@oncall/contracts';
import { alertingV1, notificationV1, ticketingV1 } from '@oncall/contracts/grpc';
import { startGrpcServer } from '@oncall/query-api';
import { createApiToken, registry, revokeApiToken } from '@oncall/shared';
import { testLog } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const SERVICES: ReadonlyArray<ServiceDefinition> = [
  alertingV1.AlertServiceService,
  alertingV1.ScheduleServiceService,
  alertingV1.EscalationServiceService,
  alertingV1.TicketIntegrationServiceService,
  notificationV1.NotificationServiceService,
  notificationV1.TemplateServiceService,
  ticketingV1.TicketingServiceService,
];
/** Every method of the protos, as the generated service definitions list them. */
const METHODS = SERVICES.flatMap((s) => Object.values(s));
/** The scope each method needs (docs/query-api.md#authentication). */
const NEEDS: Record<string, ApiScope> = Object.fromEntries(
  METHODS.map((m) => {
    const name = m.path.split('/').pop()!;
    const respond =
      /^(CreateAlert|UpdateAlertStatus|AcknowledgeAlert|ResolveAlert|EscalateAlert|SnoozeAlert|CreateTicketFromAlert|SyncTicketStatus|LinkAlertToTicket|CreateTicket|UpdateTicket|SyncStatus)$/;
    const read = /^(Get|List|RenderPreview|ValidateTemplate|StreamDeliveryStatus|TestProvider)/;
    return [m.path, respond.test(name) ? 'respond' : read.test(name) ? 'read' : 'write'];
  }),
);

const identity = (b: Buffer): Buffer => b;
const EMPTY = Buffer.alloc(0);

/**
 * Calls a method with an empty request (a valid message of any type) and resolves with the status
 * code; a stream that stays open (StreamDeliveryStatus) ends DEADLINE_EXCEEDED after 3 s.
 */
function statusOf(client: Client, m: ServiceDefinition[string], token: string | null): Promise<number> {
  const md = new Metadata();
  if (token !== null) md.set('authorization', `Bearer ${token}`);
  const options = { deadline: Date.now() + 3000 };
  return new Promise((resolve) => {
    if (!m.requestStream && !m.responseStream) {
      client.makeUnaryRequest(m.path, identity, identity, EMPTY, md, options, (err: ServiceError | null) =>
        resolve(err ? err.code : status.OK),
      );
      return;
    }
    const call = m.requestStream
      ? client.makeBidiStreamRequest(m.path, identity, identity, md, options)
      : client.makeServerStreamRequest(m.path, identity, identity, EMPTY, md, options);
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    call.on('status', (s: { code: number }) => resolve(s.code));
    if (m.requestStream) {
      (call as unknown as { write: (b: Buffer) => void; end: () => void }).write(EMPTY);
      (call as unknown as { end: () => void }).end();
    }
  });
}

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

describe('authentication and authorization of the gRPC API', () => {
  let p: TestPipeline;
  let server: { port: number; stop: () => Promise<void> };
  let client: Client;
  const tokens: Partial<Record<ApiScope | 'alice' | 'revoked', string>> = {};

  beforeAll(async () => {
    p = await startTestPipeline();
    const create = async (scopes: ApiScope[], userId: string | null = null) =>
      (await createApiToken(p.admin, { name: scopes.join('+'), scopes, userId, expiresAt: null })).token;
    for (const scope of ['read', 'respond', 'write'] as const)
      tokens[scope] = await create(['read', 'respond', 'write'].filter((s) => s !== scope) as ApiScope[]);
    tokens.alice = await create(['read', 'respond'], 'alice');
    tokens.admin = await create(['admin']);
    const revoked = await createApiToken(p.admin, { name: 'gone', scopes: ['admin'], userId: null, expiresAt: null });
    await revokeApiToken(p.admin, revoked.tokenId);
    tokens.revoked = revoked.token;
    // Its own server (started after the tokens exist, so its first read of CONFIG holds them), with a
    // failure limit the table does not reach.
    server = await startGrpcServer({
      pool: p.pool,
      port: 0,
      host: '127.0.0.1',
      log: testLog,
      nc: await p.nats.connect('query-api-auth'),
      partitions: p.partitions,
      databaseUrl: p.db.url,
      schema: p.db.schema,
      authFailureLimit: { max: 10_000, windowMs: 60_000 },
    });
    client = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
    await p?.stop();
  });

  /** A token holding every scope but `scope` (none is admin). */
  const withoutScope = (scope: ApiScope): string => tokens[scope]!;
  /** A token holding exactly `scope` plus the others but one other: the one `withoutScope` leaves out of another. */
  const withScope = (scope: ApiScope): string => tokens[scope === 'read' ? 'write' : 'read']!;

  it('walks every method of every service (50 or more)', () => {
    expect(METHODS.length).toBeGreaterThanOrEqual(50);
  });

  it.each(METHODS.map((m) => [m.path, m] as const))('%s: no token, wrong scope, right scope', async (path, m) => {
    expect(await statusOf(client, m, null)).toBe(status.UNAUTHENTICATED);
    expect(await statusOf(client, m, 'oc_abcdef123456_' + 'x'.repeat(43))).toBe(status.UNAUTHENTICATED);
    expect(await statusOf(client, m, withoutScope(NEEDS[path]!))).toBe(status.PERMISSION_DENIED);
    expect(await statusOf(client, m, withScope(NEEDS[path]!))).not.toBeOneOf([status.UNAUTHENTICATED, status.PERMISSION_DENIED]);
  });

  it.each(METHODS.map((m) => [m.path, m] as const))('conformance: %s is implemented', async (_path, m) => {
    expect(await statusOf(client, m, tokens.admin!)).not.toBe(status.UNIMPLEMENTED);
  });

  it('a revoked token is UNAUTHENTICATED', async () => {
    expect(await statusOf(client, alertingV1.AlertServiceService.getAlert, tokens.revoked!)).toBe(status.UNAUTHENTICATED);
  });

  it('health stays open; reflection is off unless enabled', async () => {
    const health = { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false } as ServiceDefinition[string];
    expect(await statusOf(client, health, null)).toBe(status.OK);
    const reflection = {
      path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      requestStream: true,
      responseStream: true,
    } as ServiceDefinition[string];
    expect(await statusOf(client, reflection, null)).toBe(status.UNIMPLEMENTED);
  });

  describe('the acting user', () => {
    let alerts: alertingV1.AlertServiceClient;
    beforeAll(() => {
      alerts = new alertingV1.AlertServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
    });
    afterAll(() => alerts.close());
    const ack = (token: string, userId: string) => {
      const md = new Metadata();
      md.set('authorization', `Bearer ${token}`);
      return new Promise((resolve, reject) =>
        alerts.acknowledgeAlert(alertingV1.AcknowledgeRequest.fromPartial({ alertId: randomUUID(), userId }), md, (err, res) =>
          err ? reject(err) : resolve(res),
        ),
      );
    };

    it('a user-bound token acknowledging as another user is PERMISSION_DENIED', async () => {
      const err = await failure(ack(tokens.alice!, 'bob'));
      expect(err.code).toBe(status.PERMISSION_DENIED);
      expect(err.details).toMatch(/^user_id: this token acts as "alice" only/);
    });

    it('a user-bound token naming nobody acts as its user (the command gets past user_id)', async () => {
      const err = await failure(ack(tokens.alice!, ''));
      expect(err.code, err.details).toBe(status.NOT_FOUND);
    });

    it('a token bound to no user cannot name a user without admin', async () => {
      const err = await failure(ack(tokens.write!, 'bob'));
      expect(err.code).toBe(status.PERMISSION_DENIED);
      expect(err.details).toMatch(/needs the "admin" scope/);
    });

    it('an admin token names any user', async () => {
      const err = await failure(ack(p.token, 'bob'));
      expect(err.code, err.details).toBe(status.NOT_FOUND);
    });
  });

  it('rate-limits failed authentications per address, and counts them', async () => {
    const limited = await startGrpcServer({
      pool: p.pool,
      port: 0,
      host: '127.0.0.1',
      log: testLog,
      nc: await p.nats.connect('query-api-limited'),
      authFailureLimit: { max: 3, windowMs: 60_000 },
    });
    const c = new Client(`127.0.0.1:${limited.port}`, credentials.createInsecure());
    const counted = async (reason: string): Promise<number> =>
      (await registry.getSingleMetric('oncall_api_auth_failures_total')!.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
    try {
      const getAlert = alertingV1.AlertServiceService.getAlert;
      const before = await counted('rate_limited');
      expect(await statusOf(c, getAlert, p.token)).toBe(status.INVALID_ARGUMENT);
      for (let i = 0; i < 3; i++) expect(await statusOf(c, getAlert, 'not-a-token')).toBe(status.UNAUTHENTICATED);
      // Refused without checking, even with a good token.
      expect(await statusOf(c, getAlert, p.token)).toBe(status.RESOURCE_EXHAUSTED);
      expect(await counted('rate_limited')).toBe(before + 1);
    } finally {
      c.close();
      await limited.stop();
    }
  });
});
