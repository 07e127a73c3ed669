import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SecretRef, TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { ProviderError, type InboundChange, type ProviderContext, type TicketAlert } from '../types.js';
import { salesforceProvider as sf } from './index.js';
import { startSalesforceStandIn, type SalesforceStandIn } from './stand-in.js';

const APP = { clientId: '3MVG9-oncall-connected-app', clientSecret: 'cs-8f2a1b' };
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const otherKey = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;
const JWT_USER = 'oncall-bridge@example.com';
const AUDIENCE = 'https://login.salesforce.com';

const alert: TicketAlert = {
  alertId: '0b7c2e9a-3f4d-4c1e-9a7b-2d5e6f708192',
  serviceId: 'svc-payments',
  serviceName: 'Payments',
  fingerprint: 'fp-1',
  summary: 'Disk full on db-1',
  details: 'df shows 100%',
  severity: 'critical',
  status: 'triggered',
  labels: {},
  annotations: {},
  links: [],
  startsAt: null,
  url: null,
};

describe('Salesforce provider against the stand-in (OAuth + REST over HTTP, Pub/Sub over gRPC)', () => {
  let standIn: SalesforceStandIn;
  let n = 0;
  beforeAll(async () => {
    standIn = await startSalesforceStandIn({ ...APP, jwt: { publicKey: keys.publicKey, username: JWT_USER, audience: AUDIENCE } });
  });
  afterAll(async () => {
    await standIn?.close();
  });

  /** A fresh provider id per context: the token cache is per provider and credentials. */
  const context = (
    opts: {
      auth?: 'cc' | 'jwt';
      secret?: string;
      privateKey?: string;
      fields?: Record<string, string>;
      settings?: Record<string, unknown>;
    } = {},
  ): ProviderContext => {
    const secrets: Record<string, string> = { SF_SECRET: opts.secret ?? APP.clientSecret, SF_KEY: opts.privateKey ?? keys.privateKey };
    const config: TicketProviderConfig = {
      providerId: `sf-${++n}`,
      type: 'salesforce',
      name: 'Salesforce',
      settings: { apiVersion: '62.0', pubSub: { endpoint: standIn.pubSubAddress, tls: false }, ...opts.settings },
      auth:
        opts.auth === 'jwt'
          ? {
              kind: 'oauth-jwt-bearer',
              tokenUrl: standIn.tokenUrl,
              clientId: APP.clientId,
              username: JWT_USER,
              audience: AUDIENCE,
              privateKey: { env: 'SF_KEY' },
            }
          : { kind: 'oauth-client-credentials', tokenUrl: standIn.tokenUrl, clientId: APP.clientId, clientSecret: { env: 'SF_SECRET' } },
      fields: opts.fields ?? { Subject: 'alert.summary' },
      sync: {
        onAcknowledge: { transition: 'Working', comment: true },
        onResolve: { transition: 'Closed', comment: true },
        onReopen: { transition: 'New', comment: false },
        resolveAlertOn: ['closed'],
        mirrorComments: false,
        pollSeconds: 30,
      },
      inboundSecret: null,
    };
    return { config, secret: (ref: SecretRef) => ('env' in ref ? secrets[ref.env]! : ''), fetch, now: () => new Date() };
  };
  const fields = {
    Subject: 'Disk full on db-1',
    Description: 'df shows 100%',
    Priority: 'High',
    Origin: 'Monitoring',
    Service__c: 'Payments',
  };
  const key = () => `oncall-${crypto.randomUUID()}`;
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => expect.unreachable('expected a ProviderError'),
      (err: unknown) => err as ProviderError,
    );

  it('client credentials: creates the Case once per idempotency key (an upsert on AlertFingerprint__c) and finds it', async () => {
    const ctx = context();
    const k = key();
    const tokensBefore = standIn.tokenRequests.length;
    expect(await sf.find(ctx, k)).toBeNull();
    const first = await sf.create(ctx, { alert, fields, idempotencyKey: k });
    const again = await sf.create(ctx, { alert, fields, idempotencyKey: k });
    expect(again).toStrictEqual(first);
    const made = standIn.cases.filter((c) => c.fields.AlertFingerprint__c === k);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({
      Id: first.externalId,
      CaseNumber: first.key,
      Status: 'New',
      fields: { ...fields, AlertFingerprint__c: k },
    });
    expect(first.url).toBe(`${standIn.url}/lightning/r/Case/${first.externalId}/view`);
    expect(await sf.find(ctx, k)).toStrictEqual(first);
    expect(standIn.tokenRequests.slice(tokensBefore)).toStrictEqual([{ grantType: 'client_credentials', ok: true }]);
  });

  it('JWT bearer: signs in with an RS256 assertion the stand-in verifies against the certificate', async () => {
    const before = standIn.tokenRequests.length;
    const ref = await sf.create(context({ auth: 'jwt' }), { alert, fields, idempotencyKey: key() });
    expect(ref.key).toMatch(/^\d{8}$/);
    expect(standIn.tokenRequests.slice(before)).toStrictEqual([{ grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer', ok: true }]);

    const err = await failure(sf.check(context({ auth: 'jwt', privateKey: otherKey })));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('invalid_grant');
  });

  it('moves the Case by Status name and adds a CaseComment; a status the picklist lacks is refused for good', async () => {
    const ctx = context();
    const ref = await sf.create(ctx, { alert, fields, idempotencyKey: key() });
    await sf.update(ctx, ref, { kind: 'acknowledged', transition: 'Working', comment: 'Acknowledged by alice in on-call' });
    const c = standIn.cases.find((x) => x.Id === ref.externalId)!;
    expect(c.Status).toBe('Working');
    expect(standIn.comments.filter((x) => x.ParentId === ref.externalId).map((x) => x.CommentBody)).toStrictEqual([
      'Acknowledged by alice in on-call',
    ]);

    await sf.update(ctx, { ...ref, externalId: ref.key }, { kind: 'resolved', transition: 'Closed', comment: null });
    expect(c).toMatchObject({ Status: 'Closed', IsClosed: true });

    const err = await failure(sf.update(ctx, ref, { kind: 'resolved', transition: 'Solved', comment: null }));
    expect(err).toMatchObject({ retryable: false, httpStatus: 400 });
    expect(err.message).toContain('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
  });

  it('an expired session (401 INVALID_SESSION_ID) signs in again once and the call goes through', async () => {
    const ctx = context();
    const ref = await sf.create(ctx, { alert, fields, idempotencyKey: key() });
    const before = standIn.tokenRequests.length;
    standIn.expireTokens();
    await sf.update(ctx, ref, { kind: 'comment', transition: null, comment: 'still on it' });
    expect(standIn.tokenRequests.length - before).toBe(1);
    expect(standIn.comments.at(-1)).toMatchObject({ ParentId: ref.externalId, CommentBody: 'still on it' });
  });

  it('invalid_client is a clear, non-retryable error after one token request', async () => {
    const before = standIn.tokenRequests.length;
    const err = await failure(sf.check(context({ secret: 'wrong' })));
    expect(err).toMatchObject({ retryable: false, httpStatus: 400 });
    expect(err.message).toContain('invalid_client');
    expect(standIn.tokenRequests.slice(before)).toStrictEqual([{ grantType: 'client_credentials', ok: false }]);
  });

  it('503 with Retry-After is retryable with the delay; the retried create still makes one Case', async () => {
    const ctx = context();
    await sf.check(ctx);
    const k = key();
    standIn.failNext(1, { status: 503, errorCode: 'SERVER_UNAVAILABLE', retryAfter: '7' });
    const err = await failure(sf.create(ctx, { alert, fields, idempotencyKey: k }));
    expect(err).toMatchObject({ retryable: true, httpStatus: 503, retryAfterMs: 7000 });
    await sf.create(ctx, { alert, fields, idempotencyKey: k });
    expect(standIn.cases.filter((c) => c.fields.AlertFingerprint__c === k)).toHaveLength(1);
  });

  it("a Salesforce that does not answer is a retryable error once the bridge's timeout ends the call", async () => {
    const ctx = context();
    await sf.check(ctx);
    standIn.hangNext(1);
    const timed: ProviderContext = { ...ctx, fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(200) }) };
    const err = await failure(sf.find(timed, key()));
    expect(err).toMatchObject({ retryable: true, httpStatus: null });
    expect(err.message).toContain('find Case failed: no answer');
  });

  it('without settings.pubSub there is no stream to subscribe to', async () => {
    const sub = sf.subscribe!(context({ settings: { pubSub: null } }), { replayId: null, onChanges: async () => undefined });
    await sub.stop();
    expect(standIn.subscriberCount()).toBe(0);
  });

  it('a field Case does not have is refused (INVALID_FIELD), not retried; check names unmapped fields', async () => {
    const ctx = context({ fields: { Subject: 'alert.summary', Team__c: 'labels.team' } });
    const err = await failure(sf.create(ctx, { alert, fields: { Subject: 'x', Team__c: 'db' }, idempotencyKey: key() }));
    expect(err).toMatchObject({ retryable: false, httpStatus: 400 });
    expect(err.message).toContain("INVALID_FIELD: No such column 'Team__c'");
    await expect(sf.check(ctx)).rejects.toThrow('Case fields missing or not writable for this user: Team__c');
    await expect(sf.check(context({ fields: { Subject: 'alert.summary', Service__c: 'service.name' } }))).resolves.toBeUndefined();
  });

  it('polls by SystemModstamp: a Case closed by a person comes back with the user and the alert id', async () => {
    const ctx = context();
    const start = await sf.poll!(ctx, null);
    expect(start.changes).toStrictEqual([]);
    const k = `oncall-${alert.alertId}`;
    const ref = await sf.create(ctx, { alert, fields, idempotencyKey: k });
    standIn.closeCase(ref.key, 'agent.smith@example.com');
    const polled = await sf.poll!(ctx, new Date(Date.parse(start.cursor!) - 1000).toISOString());
    expect(polled.changes.find((c) => c.ticketKey === ref.externalId)).toMatchObject({
      status: 'Closed',
      state: 'closed',
      actor: 'agent.smith@example.com',
      alertId: alert.alertId,
    });
    expect(Date.parse(polled.cursor!)).toBeGreaterThanOrEqual(Date.parse(start.cursor!) - 1000);
  });

  describe('Pub/Sub API (Change Data Capture on Case)', () => {
    const collect = () => {
      const batches: { changes: InboundChange[]; replayId: Buffer }[] = [];
      return { batches, onChanges: async (changes: InboundChange[], replayId: Buffer) => void batches.push({ changes, replayId }) };
    };
    const closes = (batches: { changes: InboundChange[] }[]) => batches.flatMap((b) => b.changes).filter((c) => c.status === 'Closed');

    it('receives a close with its actor, and resumes after the stored replay id', async () => {
      const ctx = context();
      const a = await sf.create(ctx, { alert, fields, idempotencyKey: key() });
      const b = await sf.create(ctx, { alert, fields, idempotencyKey: key() });
      const first = collect();
      const sub = sf.subscribe!(ctx, { replayId: null, onChanges: first.onChanges });
      await vi.waitFor(() => expect(standIn.subscriberCount()).toBe(1));
      standIn.closeCase(a.key, 'agent.smith@example.com');
      await vi.waitFor(() => expect(closes(first.batches)).toHaveLength(1));
      expect(closes(first.batches)[0]).toMatchObject({
        ticketKey: a.externalId,
        state: 'closed',
        actor: 'agent.smith@example.com',
        comment: null,
      });
      const stored = first.batches.at(-1)!.replayId;
      await sub.stop();
      await vi.waitFor(() => expect(standIn.subscriberCount()).toBe(0));

      standIn.closeCase(b.key, 'agent.jones@example.com');
      const second = collect();
      const resumed = sf.subscribe!(ctx, { replayId: stored, onChanges: second.onChanges });
      await vi.waitFor(() => expect(closes(second.batches)).toHaveLength(1));
      expect(closes(second.batches)[0]).toMatchObject({ ticketKey: b.externalId, actor: 'agent.jones@example.com' });
      expect(second.batches.flatMap((x) => x.changes).some((c) => c.ticketKey === a.externalId)).toBe(false);
      await resumed.stop();
    });

    it('resubscribes by itself after the stream drops with an expired token, from where it was', async () => {
      const ctx = context();
      const ref = await sf.create(ctx, { alert, fields, idempotencyKey: key() });
      const got = collect();
      const sub = sf.subscribe!(ctx, { replayId: null, onChanges: got.onChanges });
      await vi.waitFor(() => expect(standIn.subscriberCount()).toBe(1));
      standIn.setStatus(ref.key, 'Escalated', 'agent.smith@example.com');
      await vi.waitFor(() => expect(got.batches.flatMap((b) => b.changes)).toHaveLength(1));

      const tokensBefore = standIn.tokenRequests.length;
      standIn.expireTokens();
      standIn.dropSubscribers();
      standIn.closeCase(ref.key, 'agent.smith@example.com');
      await vi.waitFor(() => expect(closes(got.batches)).toHaveLength(1), { timeout: 5000 });
      expect(standIn.tokenRequests.length).toBeGreaterThan(tokensBefore);
      expect(got.batches.flatMap((b) => b.changes).map((c) => c.status)).toStrictEqual(['Escalated', 'Closed']);
      await sub.stop();
    });

    it('a replay id Salesforce no longer keeps replays from the oldest event kept', async () => {
      const ctx = context();
      const ref = await sf.create(ctx, { alert, fields, idempotencyKey: key() });
      standIn.closeCase(ref.key, 'agent.smith@example.com');
      const got = collect();
      const sub = sf.subscribe!(ctx, { replayId: Buffer.from('00000000ffffffff', 'hex'), onChanges: got.onChanges });
      await vi.waitFor(() => expect(closes(got.batches).some((c) => c.ticketKey === ref.externalId)).toBe(true), { timeout: 5000 });
      const statuses = got.batches.flatMap((b) => b.changes);
      expect(statuses.length).toBeGreaterThan(standIn.cases.length); // every Case's creation is in the replay
      await sub.stop();
    });

    it('asks for more events as it handles them (flow control): 250 changes all arrive, in order', async () => {
      const ctx = context();
      const ref = await sf.create(ctx, { alert, fields, idempotencyKey: key() });
      const got = collect();
      const sub = sf.subscribe!(ctx, { replayId: null, onChanges: got.onChanges });
      await vi.waitFor(() => expect(standIn.subscriberCount()).toBe(1));
      const expected = Array.from({ length: 250 }, (_, i) => (i % 2 === 0 ? 'Working' : 'Escalated'));
      for (const status of expected) standIn.setStatus(ref.key, status, 'agent.smith@example.com');
      await vi.waitFor(() => expect(got.batches.flatMap((b) => b.changes)).toHaveLength(250), { timeout: 5000 });
      expect(got.batches.flatMap((b) => b.changes).map((c) => c.status)).toStrictEqual(expected);
      await sub.stop();
    });

    it('a failing onChanges is offered the same batch again', async () => {
      const ctx = context();
      const ref = await sf.create(ctx, { alert, fields, idempotencyKey: key() });
      const seen: InboundChange[][] = [];
      let failOnce = true;
      const sub = sf.subscribe!(ctx, {
        replayId: null,
        onChanges: async (changes) => {
          seen.push(changes);
          if (failOnce && changes.length > 0) {
            failOnce = false;
            throw new Error('log append failed');
          }
        },
      });
      await vi.waitFor(() => expect(standIn.subscriberCount()).toBe(1));
      standIn.closeCase(ref.key, 'agent.smith@example.com');
      await vi.waitFor(() => expect(seen.filter((c) => c.length > 0)).toHaveLength(2), { timeout: 5000 });
      const [firstTry, retry] = seen.filter((c) => c.length > 0);
      expect(retry).toStrictEqual(firstTry);
      await sub.stop();
    });
  });
});
