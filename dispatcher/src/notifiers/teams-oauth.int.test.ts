import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { startGraphFake, type GraphFake } from '../../../test/fakes/graph.js';
import { loadDispatcherConfig } from '../config.js';
import { DeliveryError } from './errors.js';
import { clientCredentialsTokens } from './graph-token.js';
import { teamsNotifier } from './teams.js';

const APP = { tenantId: 'contoso-tenant', clientId: 'oncall-app', clientSecret: 'app-secret-value-123', expiresInSeconds: 3600 };
const CHAT = '19:alerts-chat@thread.v2';
const message = { card: { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'DiskFull' }] } };

describe('Teams through Graph with OAuth 2.0 client credentials (the real Graph SDK against the local fake)', () => {
  let fake: GraphFake;
  let dispatcher: Agent;
  let clock = 0;
  beforeAll(async () => {
    fake = await startGraphFake({ app: APP });
    dispatcher = fake.trustingDispatcher();
  });
  afterAll(async () => {
    await dispatcher?.close();
    await fake?.close();
  });
  beforeEach(() => {
    fake.reset();
    clock = 1_000_000;
  });

  const notifierWith = (secret = APP.clientSecret) => {
    const tokens = clientCredentialsTokens({
      ...APP,
      clientSecret: secret,
      authorityUrl: fake.baseUrl,
      fetchOptions: { dispatcher },
      now: () => clock,
    });
    return teamsNotifier({ token: tokens, baseUrl: fake.baseUrl, timeoutMs: 5000, fetchOptions: { dispatcher } });
  };
  const send = (n: ReturnType<typeof notifierWith>, key: string) => n.notify(message, CHAT, { idempotencyKey: key });

  it('fetches a token, sends it as the bearer token and reuses it until shortly before it expires', async () => {
    const n = notifierWith();
    await send(n, 'k1');
    await send(n, 'k2');
    expect(fake.tokenRequests.items).toHaveLength(1);
    expect(fake.tokenRequests.items[0]).toMatchObject({
      tenantId: APP.tenantId,
      clientId: APP.clientId,
      grantType: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
    });
    const first = fake.tokenRequests.items[0]!.issued;
    expect(fake.calls.items.map((c) => c.token)).toStrictEqual([first, first]);

    clock += (3600 - 4 * 60) * 1000; // within 5 minutes of expiry: renewed before use
    await send(n, 'k3');
    expect(fake.tokenRequests.items).toHaveLength(2);
    expect(fake.calls.items[2]!.token).toBe(fake.tokenRequests.items[1]!.issued);
    expect(fake.calls.items[2]!.token).not.toBe(first);
  });

  it('concurrent sends share one token request', async () => {
    const n = notifierWith();
    await Promise.all([send(n, 'a'), send(n, 'b'), send(n, 'c')]);
    expect(fake.tokenRequests.items).toHaveLength(1);
  });

  it('a 401 (token revoked) gets one new token and one more try', async () => {
    const n = notifierWith();
    await send(n, 'k1');
    fake.revokeIssuedTokens();
    await send(n, 'k2');
    expect(fake.tokenRequests.items).toHaveLength(2);
    const tokens = fake.calls.items.map((c) => c.token);
    expect(tokens).toHaveLength(3); // k1, k2 refused, k2 again
    expect(tokens[2]).toBe(fake.tokenRequests.items[1]!.issued);
  });

  it('a 401 twice in a row is an unauthorized failure, not a loop', async () => {
    const n = notifierWith();
    await send(n, 'k1');
    fake.failNext({ status: 401 }, 2);
    const err = (await send(n, 'k2').catch((e: unknown) => e)) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err).toMatchObject({ reason: 'unauthorized', retryable: false });
    expect(fake.tokenRequests.items).toHaveLength(2);
  });

  it('a wrong client secret: unauthorized, not retryable, and the secret is in no error text', async () => {
    const n = notifierWith('wrong-secret-value-456');
    const err = (await send(n, 'k1').catch((e: unknown) => e)) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err).toMatchObject({ reason: 'unauthorized', retryable: false, providerCode: 'invalid_client' });
    expect(JSON.stringify({ m: err.message, c: String(err.cause) })).not.toContain('wrong-secret-value-456');
    expect(fake.calls.items).toHaveLength(0);
  });
});

describe('Graph settings', () => {
  const base = { NATS_URL: 'nats://x' };
  it.each([
    [{ GRAPH_TENANT_ID: 't', GRAPH_CLIENT_ID: 'c' }, /GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET together/],
    [{ GRAPH_TENANT_ID: 't', GRAPH_CLIENT_ID: 'c', GRAPH_CLIENT_SECRET: 's', GRAPH_TOKEN: 'x' }, /not both/],
  ])('%j is refused', (env, message) => {
    expect(() => loadDispatcherConfig({ ...base, ...env })).toThrow(message);
  });
});
