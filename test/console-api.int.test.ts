import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import type { AlertPage, BoardDelta, BoardSnapshot, HealthView, OnCallView, OverrideView, SessionView } from '@oncall/contracts';
import { CONSUMERS, STREAMS, type ApiScope } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { waitForProjection } from '@oncall/projector';
import { sql } from 'slonik';
import { request } from 'undici';
import { z } from 'zod';
import { createApiToken, fileUserDirectory, registry, revokeApiToken, watchConfig, type ConfigView } from '@oncall/shared';
import { openQueryApiDeps, startConsoleServer, type ConsoleServer, type QueryApiDeps } from '@oncall/query-api';
import { streamLastSeq, testLog } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const USERS = fileUserDirectory(
  ['alice', 'bob', 'carol'].map((id) => ({ id, name: id, email: `${id}@example.com`, timezone: 'UTC', contacts: [] })),
);

/** A browser of the console: keeps its session cookie, sends the console's Origin on writes. */
class Browser {
  cookie = '';
  constructor(readonly base: string) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(this.cookie && { cookie: this.cookie }),
        ...(method !== 'GET' && { origin: this.base }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!.endsWith('=') ? '' : set.split(';')[0]!;
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.call(method, path, body);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }
}

type SseEvent = { event: string; id: string | null; data: string };

/** A text/event-stream reader: events as they arrive, and a wait for the first one matching. */
async function openStream(
  b: Browser,
  query = '',
  headers: Record<string, string> = {},
): Promise<{ next: (match: (e: SseEvent) => boolean) => Promise<SseEvent>; close: () => void; events: SseEvent[]; ended: Promise<void> }> {
  const abort = new AbortController();
  const res = await fetch(`${b.base}/api/board/events${query}`, { headers: { cookie: b.cookie, ...headers }, signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: SseEvent[] = [];
  const waiters: Array<{ match: (e: SseEvent) => boolean; from: number; resolve: (e: SseEvent) => void }> = [];
  const wake = () => {
    for (const w of [...waiters]) {
      const found = events.slice(w.from).find(w.match);
      if (found) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(found);
      }
    }
  };
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const e: SseEvent = { event: 'message', id: null, data: '' };
          let isEvent = false;
          for (const line of frame.split('\n')) {
            if (line.startsWith('event: ')) {
              e.event = line.slice(7);
              isEvent = true;
            } else if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('data: ')) e.data += line.slice(6);
          }
          if (isEvent) events.push(e);
        }
        wake();
      }
    } catch {
      // closed by the test
    }
  })();
  let consumed = 0;
  return {
    events,
    ended,
    next: (match) =>
      new Promise((resolve) => {
        const from = consumed;
        waiters.push({
          match,
          from,
          resolve: (e) => {
            consumed = events.indexOf(e) + 1;
            resolve(e);
          },
        });
        wake();
      }),
    close: () => abort.abort(),
  };
}

describe('the console HTTP API against the real pipeline', () => {
  let p: TestPipeline;
  let shared: QueryApiDeps;
  let view: ConfigView;
  let server: ConsoleServer;
  const tokens: Record<string, string> = {};
  const tokenIds: Record<string, string> = {};

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 2, users: USERS });
    const create = async (name: string, scopes: ApiScope[], userId: string | null) => {
      const t = await createApiToken(p.admin, { name, scopes, userId, expiresAt: null });
      tokens[name] = t.token;
      tokenIds[name] = t.tokenId;
    };
    await create('viewer', ['read'], 'carol');
    await create('alice', ['read', 'respond'], 'alice');
    await create('bob', ['read', 'respond', 'write'], 'bob');
    await create('doomed', ['read'], 'carol');
    const nc = await p.nats.connect('console');
    view = await watchConfig(nc);
    shared = await openQueryApiDeps({
      pool: p.pool,
      log: testLog,
      nc,
      partitions: p.partitions,
      databaseUrl: p.db.url,
      schema: p.db.schema,
      users: USERS,
      tokens: (id) => view.state().apiTokens.get(id),
    });
    const dist = mkdtempSync(join(tmpdir(), 'console-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>oncall console</title><div id="app"></div>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    server = await startConsoleServer({ shared, port: 0, host: '127.0.0.1', dist, deltaIntervalMs: 50 });
  });
  afterAll(async () => {
    await server?.stop();
    await shared?.close();
    await view?.stop();
    await p?.stop();
  });

  /** Signs in with a token made above by name; any other name: the pipeline's admin token (bound to no user). */
  const signedIn = async (name: string, actAs?: string): Promise<Browser> => {
    const b = new Browser(server.url);
    const res = await b.call('POST', '/api/session', { token: tokens[name] ?? p.token, ...(actAs && { actAs }) });
    expect(res.status, await res.clone().text()).toBe(200);
    return b;
  };

  const postAlert = (name: string, labels: Record<string, string> = {}) => p.openAlert(name, labels);

  it('refuses the API without a session, and signs in with a read token', async () => {
    const anonymous = new Browser(server.url);
    const res = await anonymous.call('GET', '/api/board');
    expect(res.status).toBe(401);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(((await res.json()) as { error: string }).error).toMatch(/not signed in/);

    const b = new Browser(server.url);
    const login = await b.call('POST', '/api/session', { token: tokens.viewer });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^oncall_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const session = (await login.json()) as SessionView;
    expect(session).toMatchObject({ userId: 'carol', tokenName: 'viewer', scopes: ['read'] });
    expect(await b.json<SessionView>('GET', '/api/session')).toMatchObject({ userId: 'carol' });
  });

  it('signs an admin token bound to no user in as the user it names, who then acts', async () => {
    const admin = await signedIn('pipeline-admin', 'bob');
    expect(await admin.json<SessionView>('GET', '/api/session')).toMatchObject({
      userId: 'bob',
      tokenName: 'test-admin',
      scopes: ['admin'],
    });
    const id = await postAlert('ConsoleAdminActs');
    expect(await admin.json<{ status: string }>('POST', `/api/alerts/${id}/actions`, { action: 'snooze', minutes: 15 })).toMatchObject({
      status: 'snoozed',
    });
    const page = await admin.json<AlertPage>('GET', `/api/alerts/${id}`);
    expect(page.alert.snoozedUntil).not.toBeNull();
    expect(page.timeline.find((t) => t.type === 'AlertSnoozed')?.actor).toContain('bob');
  });

  it('refuses bad sign-ins with the field named', async () => {
    const b = new Browser(server.url);
    const cases: Array<[body: unknown, status: number, field: string | undefined]> = [
      ['{"token": ', 400, undefined],
      [{ token: tokens.viewer, extra: 1 }, 400, 'extra'],
      [{ token: 42 }, 400, 'token'],
      [{}, 400, 'token'],
      [{ token: 'oc_abcdef123456_' + 'x'.repeat(43) }, 401, 'token'],
      [{ token: p.token }, 400, 'actAs'],
      [{ token: p.token, actAs: 'nobody' }, 400, 'actAs'],
      [{ token: tokens.alice, actAs: 'bob' }, 403, 'actAs'],
    ];
    for (const [body, status, field] of cases) {
      const res = await b.call('POST', '/api/session', body);
      const answer = (await res.json()) as { error: string; field?: string };
      expect([JSON.stringify(body), res.status], answer.error).toEqual([JSON.stringify(body), status]);
      expect(answer.field).toBe(field);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
  });

  it('limits failed sign-ins per address, as the gRPC API does', async () => {
    const limited = await startConsoleServer({ shared, port: 0, host: '127.0.0.1', loginFailureLimit: { max: 2, windowMs: 60_000 } });
    try {
      const b = new Browser(limited.url);
      const wrong = { token: 'oc_abcdef123456_' + 'y'.repeat(43) };
      expect((await b.call('POST', '/api/session', wrong)).status).toBe(401);
      expect((await b.call('POST', '/api/session', wrong)).status).toBe(401);
      expect((await b.call('POST', '/api/session', wrong)).status).toBe(429);
      // Refused unchecked, even with a good token, until the window ends.
      expect((await b.call('POST', '/api/session', { token: tokens.viewer })).status).toBe(429);
    } finally {
      await limited.stop();
    }
  });

  it('signs out', async () => {
    const b = await signedIn('viewer');
    const cookie = b.cookie;
    const out = await b.call('DELETE', '/api/session');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^oncall_session=;/);
    // The old cookie no longer works: the session is gone from the bucket.
    const res = await fetch(`${server.url}/api/board`, { headers: { cookie } });
    expect(res.status).toBe(401);
  });

  it('refuses cross-origin and non-JSON writes', async () => {
    const b = new Browser(server.url);
    const foreign = await b.call('POST', '/api/session', { token: tokens.viewer }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: string }).error).toMatch(/cross-origin/);
    const form = await b.call('POST', '/api/session', `token=${tokens.viewer}`, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    const noOrigin = await fetch(`${server.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: tokens.viewer }),
    });
    expect(noOrigin.status).toBe(403);
  });

  it('shows a webhook-posted alert on the board, live, then its acknowledgement', async () => {
    const viewer = await signedIn('viewer');
    const first = await viewer.json<BoardSnapshot>('GET', '/api/board');
    expect(first.cursor).toMatch(/^\d+\.\d+$/);
    const stream = await openStream(viewer, `?cursor=${first.cursor}`);
    const id = await postAlert('ConsoleLive', { site: 'ams1' });
    const created = await stream.next((e) => e.event === 'delta' && (JSON.parse(e.data) as BoardDelta).upserts.some((a) => a.id === id));
    const row = (JSON.parse(created.data) as BoardDelta).upserts.find((a) => a.id === id)!;
    expect(row).toMatchObject({ status: 'triggered', site: 'ams1', summary: 'ConsoleLive is down', acknowledgedBy: null });
    expect(created.id).toBe((JSON.parse(created.data) as BoardDelta).cursor);

    const board = await viewer.json<BoardSnapshot>('GET', '/api/board');
    expect(board.alerts.find((a) => a.id === id)).toMatchObject({ status: 'triggered', severity: 'critical', site: 'ams1' });

    const alice = await signedIn('alice');
    const acked = await alice.call('POST', `/api/alerts/${id}/actions`, { action: 'acknowledge', note: 'on it' });
    expect(acked.status).toBe(200);
    expect(await acked.json()).toMatchObject({ outcome: 'applied', status: 'acknowledged' });
    const delta = await stream.next(
      (e) => e.event === 'delta' && (JSON.parse(e.data) as BoardDelta).upserts.some((a) => a.id === id && a.acknowledgedBy === 'alice'),
    );
    expect((JSON.parse(delta.data) as BoardDelta).upserts.find((a) => a.id === id)!.status).toBe('acknowledged');
    stream.close();

    const page = await alice.json<AlertPage>('GET', `/api/alerts/${id}`);
    expect(page.alert).toMatchObject({ id, status: 'acknowledged', acknowledgedBy: 'alice' });
    const ack = page.timeline.find((t) => t.type === 'AlertAcknowledged')!;
    expect(ack.stream).toBe('alerts');
    expect(ack.actor).toContain('alice');
    expect(ack.message).toMatch(/acknowledged via console/);
    expect(page.actions).toEqual(['unacknowledge', 'resolve', 'escalate', 'snooze']);
    expect(page.traceUrl).toBeNull();
  });

  it('sends a board of any size gzipped to a browser that accepts it, the same JSON', async () => {
    for (const name of ['ConsoleGzipA', 'ConsoleGzipB', 'ConsoleGzipC']) await postAlert(name, { site: 'fra1' });
    const viewer = await signedIn('viewer');
    const plain = await viewer.call('GET', '/api/board', undefined, { 'accept-encoding': 'identity' });
    expect(plain.headers.get('content-encoding')).toBeNull();
    const text = await plain.text();
    expect(text.length).toBeGreaterThan(1024);
    // undici's request does not decode: the bytes on the wire.
    const zipped = await request(`${server.url}/api/board`, { headers: { cookie: viewer.cookie, 'accept-encoding': 'gzip, deflate' } });
    expect(zipped.statusCode).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('accept-encoding');
    const bytes = Buffer.from(await zipped.body.arrayBuffer());
    expect(bytes.length).toBeLessThan(text.length / 2);
    const board = JSON.parse(gunzipSync(bytes).toString('utf8')) as BoardSnapshot;
    expect(board.alerts.map((a) => a.id).sort()).toEqual((JSON.parse(text) as BoardSnapshot).alerts.map((a) => a.id).sort());
  });

  it('a read token sees the alert page but cannot act', async () => {
    const id = await postAlert('ConsoleReadOnly');
    const viewer = await signedIn('viewer');
    const page = await viewer.json<AlertPage>('GET', `/api/alerts/${id}`);
    expect(page.actions).toEqual([]);
    const res = await viewer.call('POST', `/api/alerts/${id}/actions`, { action: 'acknowledge' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(/respond/);
  });

  it('answers bad alert ids, unknown alerts, bad actions and resolved alerts clearly', async () => {
    const alice = await signedIn('alice');
    expect((await alice.call('GET', '/api/alerts/not-a-uuid')).status).toBe(400);
    expect((await alice.call('GET', '/api/alerts/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const missing = await alice.call('POST', '/api/alerts/00000000-0000-4000-8000-000000000000/actions', { action: 'resolve' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ outcome: 'not_found' });
    const id = await postAlert('ConsoleBadActions');
    const bad: Array<[unknown, string]> = [
      [{ action: 'explode' }, 'action'],
      [{ action: 'acknowledge', extra: true }, 'extra'],
      [{ action: 'snooze' }, 'minutes'],
      [{ action: 'snooze', minutes: 'ten' }, 'minutes'],
      [{ action: 'snooze', minutes: 0 }, 'minutes'],
      [{ action: 'resolve', minutes: 5 }, 'minutes'],
      [{ action: 'resolve', note: 7 }, 'note'],
    ];
    for (const [body, field] of bad) {
      const res = await alice.call('POST', `/api/alerts/${id}/actions`, body);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
      expect(((await res.json()) as { field?: string }).field).toBe(field);
    }
    expect((await alice.call('POST', `/api/alerts/${id}/actions`, '{"action":')).status).toBe(400);
    expect((await alice.json<{ status: string }>('POST', `/api/alerts/${id}/actions`, { action: 'resolve' })).status).toBe('resolved');
    const again = await alice.call('POST', `/api/alerts/${id}/actions`, { action: 'acknowledge' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ outcome: 'already_resolved', status: 'resolved' });
  });

  it('ends the session of a revoked token', async () => {
    const b = await signedIn('doomed');
    expect((await b.call('GET', '/api/board')).status).toBe(200);
    await revokeApiToken(p.admin, tokenIds.doomed!);
    const seq = await streamLastSeq(p.admin, STREAMS.config);
    await vi.waitFor(() => expect(view.lastSeq()).toBeGreaterThanOrEqual(seq));
    const res = await b.call('GET', '/api/board');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(/revoked/);
    // The session is gone, not only refused.
    expect(((await (await b.call('GET', '/api/session')).json()) as { error: string }).error).toMatch(/session ended|not signed in/);
  });

  it('serves the app with the single-page fallback and its headers', async () => {
    for (const path of ['/', '/alerts/00000000-0000-4000-8000-000000000000', '/oncall', '/health', '/login']) {
      const res = await fetch(`${server.url}${path}`);
      expect([path, res.status]).toEqual([path, 200]);
      expect(await res.text()).toContain('oncall console');
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
    const asset = await fetch(`${server.url}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(`${server.url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/nothing`)).status).toBe(404);
  });

  describe('who is on call', () => {
    const HOUR = 3_600_000;
    let schedules: alertingV1.ScheduleServiceClient;
    const ask = <Res>(f: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> =>
      new Promise((resolve, reject) => f((err, res) => (err ? reject(err) : resolve(res))));

    beforeAll(async () => {
      schedules = new alertingV1.ScheduleServiceClient(p.grpcAddress, credentials.createInsecure(), p.clientOptions);
      const req = alertingV1.CreateScheduleRequest.fromPartial({
        name: 'NOC',
        timezone: 'Europe/Berlin',
        rotations: [
          {
            name: 'Primary',
            rotationType: alertingV1.RotationType.ROTATION_TYPE_DAILY,
            startTime: new Date('2026-01-05T08:00:00Z'),
            memberUserIds: ['alice', 'bob'],
          },
          {
            name: 'Office hours',
            rotationType: alertingV1.RotationType.ROTATION_TYPE_WEEKLY,
            startTime: new Date('2026-01-05T08:00:00Z'),
            memberUserIds: ['carol'],
            restrictions: [
              {
                days: [alertingV1.Weekday.WEEKDAY_MONDAY, alertingV1.Weekday.WEEKDAY_WEDNESDAY, alertingV1.Weekday.WEEKDAY_FRIDAY],
                startLocalTime: '09:00',
                endLocalTime: '17:00',
              },
            ],
          },
        ],
      });
      await ask<alertingV1.Schedule>((cb) => schedules.createSchedule(req, cb));
      await waitForProjection(p.db.url, p.db.schema, CONSUMERS.projectorConfig, await streamLastSeq(p.admin, STREAMS.config));
    });
    afterAll(() => schedules?.close());

    it('answers who is on call as GetOnCallUsers does, at three instants', async () => {
      const viewer = await signedIn('viewer');
      const now = Date.now();
      for (const at of [now, now + 27 * HOUR, now + 5 * 24 * HOUR + 10 * HOUR]) {
        const grpc = await ask<alertingV1.OnCallResponse>((cb) => schedules.getOnCallUsers({ scheduleId: 'noc', at: new Date(at) }, cb));
        const v = await viewer.json<OnCallView>(
          'GET',
          `/api/oncall?from=${new Date(now).toISOString()}&days=7&at=${new Date(at).toISOString()}`,
        );
        const noc = v.schedules.find((s) => s.id === 'noc')!;
        expect(noc.onCallNow).toStrictEqual(grpc.userIds);
        expect(grpc.userIds.length).toBeGreaterThan(0);
        // The final picture agrees at that instant.
        const covering = noc.final.filter((f) => Date.parse(f.start) <= at && at < Date.parse(f.end)).map((f) => f.userId);
        expect(covering.sort()).toStrictEqual([...grpc.userIds].sort());
      }
      const v = await viewer.json<OnCallView>('GET', '/api/oncall');
      expect(Date.parse(v.to) - Date.parse(v.from)).toBe(14 * 24 * HOUR);
      const noc = v.schedules.find((s) => s.id === 'noc')!;
      expect(noc.layers.map((l) => l.name)).toStrictEqual(['Primary', 'Office hours']);
      expect(noc.timeZone).toBe('Europe/Berlin');
      expect(noc.handoffs.length).toBeGreaterThanOrEqual(13); // a daily rotation hands off every day
      expect(noc.final.every((f) => f.userName === f.userId)).toBe(true);
    });

    it('refuses bad on-call queries with the field named', async () => {
      const viewer = await signedIn('viewer');
      for (const [query, field] of [
        ['days=32', 'days'],
        ['days=0', 'days'],
        ['days=two', 'days'],
        ['from=yesterday', 'from'],
        ['at=2026-13-01T00:00:00Z', 'at'],
        ['colour=red', 'colour'],
      ] as const) {
        const res = await viewer.call('GET', `/api/oncall?${query}`);
        expect([query, res.status]).toStrictEqual([query, 400]);
        expect(((await res.json()) as { field?: string }).field).toBe(field);
      }
    });

    it("creates an override through CreateOverride's write, shown by the next view", async () => {
      const now = Date.now();
      const start = new Date(now + 2 * HOUR).toISOString();
      const end = new Date(now + 4 * HOUR).toISOString();
      const alice = await signedIn('alice');
      expect((await alice.call('POST', '/api/schedules/noc/overrides', { userId: 'carol', start, end })).status).toBe(403);
      const bob = await signedIn('bob');
      const bad: Array<[unknown, number, string]> = [
        [{ userId: 'carol', start, end, why: 'x' }, 400, 'why'],
        [{ userId: 'carol', start: 'soon', end }, 400, 'start'],
        [{ userId: 'carol', start: end, end: start }, 400, 'end'],
        [{ userId: 'nobody', start, end }, 400, 'userId'],
      ];
      for (const [body, status, field] of bad) {
        const res = await bob.call('POST', '/api/schedules/noc/overrides', body);
        const answer = (await res.json()) as { error: string; field?: string };
        expect([JSON.stringify(body), res.status, answer.field], answer.error).toStrictEqual([JSON.stringify(body), status, field]);
      }
      expect((await bob.call('POST', '/api/schedules/nope/overrides', { userId: 'carol', start, end })).status).toBe(404);

      const created = await bob.json<OverrideView>('POST', '/api/schedules/noc/overrides', { userId: 'carol', start, end });
      expect(created).toMatchObject({ scheduleId: 'noc', kind: 'add', userId: 'carol', replaces: null, start, end });
      expect(created.id).toMatch(/^noc\/[0-9a-f]{16}$/);
      const v = await bob.json<OnCallView>('GET', `/api/oncall?at=${new Date(now + 3 * HOUR).toISOString()}`);
      const noc = v.schedules.find((s) => s.id === 'noc')!;
      expect(noc.overrides).toContainEqual({ start, end, userId: 'carol', userName: 'carol', kind: 'add', replaces: null });
      expect(noc.onCallNow).toContain('carol');
      const grpc = await ask<alertingV1.OnCallResponse>((cb) =>
        schedules.getOnCallUsers({ scheduleId: 'noc', at: new Date(now + 3 * HOUR) }, cb),
      );
      expect(noc.onCallNow).toStrictEqual(grpc.userIds);
    });
  });

  it('reports the NOC health: open alerts by site, volume, noise', async () => {
    await postAlert('HealthOne', { site: 'fra2' });
    await postAlert('HealthTwo', { site: 'fra2' });
    const viewer = await signedIn('viewer');
    const h = await viewer.json<HealthView>('GET', '/api/health');
    expect(h.openBySite.find((s) => s.site === 'fra2')).toStrictEqual({ site: 'fra2', open: 2, critical: 2 });
    expect(h.volume).toHaveLength(48);
    expect(h.volume.at(-1)!.alerts).toBeGreaterThanOrEqual(2);
    expect(h.mtta.some((m) => m.serviceId === 'checkout' && m.alerts > 0)).toBe(true);
    expect(h.parked).toStrictEqual([]);
    expect(h.failingDeliveries).toStrictEqual([]);
  });

  describe('the live stream', () => {
    it('continues from Last-Event-ID: what changed while away comes in one delta', async () => {
      const viewer = await signedIn('viewer');
      const board = await viewer.json<BoardSnapshot>('GET', '/api/board');
      const first = await openStream(viewer, `?cursor=${board.cursor}`);
      const seen = await postAlert('StreamFirst');
      const delta = await first.next((e) => e.event === 'delta' && e.data.includes(seen));
      first.close();
      const missed = await postAlert('StreamMissed');
      const again = await openStream(viewer, '', { 'last-event-id': delta.id! });
      const caughtUp = await again.next((e) => e.event === 'delta');
      const d = JSON.parse(caughtUp.data) as BoardDelta;
      expect(d.upserts.map((a) => a.id)).toContain(missed);
      expect(d.upserts.map((a) => a.id)).not.toContain(seen);
      again.close();
    });

    it('refuses a malformed cursor and resets one it cannot continue', async () => {
      const viewer = await signedIn('viewer');
      const bad = await viewer.call('GET', '/api/board/events?cursor=yesterday');
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { field?: string }).field).toBe('cursor');
      const ahead = await openStream(viewer, '?cursor=999999999.999999999');
      expect((await ahead.next(() => true)).event).toBe('reset');
      await ahead.ended; // the server ends the stream after a reset
      expect(ahead.events.map((e) => e.event)).toStrictEqual(['reset']);
    });

    it('resets every stream when the projection feed reconnected', async () => {
      const viewer = await signedIn('viewer');
      const board = await viewer.json<BoardSnapshot>('GET', '/api/board');
      const stream = await openStream(viewer, `?cursor=${board.cursor}`);
      // Cut query-api's LISTEN connections: notifications sent meanwhile would be lost.
      await p.pool.query(
        sql.type(z.object({ pg_terminate_backend: z.boolean() }))`
          SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`,
      );
      expect((await stream.next((e) => e.event === 'reset')).event).toBe('reset');
      await stream.ended;
      // The page then reads the snapshot again and continues from it.
      const again = await viewer.json<BoardSnapshot>('GET', '/api/board');
      const next = await openStream(viewer, `?cursor=${again.cursor}`);
      const id = await postAlert('AfterReconnect');
      await next.next((e) => e.event === 'delta' && e.data.includes(id));
      next.close();
    });

    it('counts requests, streams and deltas', async () => {
      const metrics = await registry.metrics();
      expect(metrics).toMatch(/oncall_console_requests_total\{route="\/api\/board",status="200"\} [1-9]/);
      expect(metrics).toMatch(/oncall_console_requests_total\{route="\/api\/session",status="401"\} [1-9]/);
      expect(metrics).toMatch(/oncall_console_deltas_total\{kind="delta"\} [1-9]/);
      expect(metrics).toMatch(/oncall_console_deltas_total\{kind="reset"\} [1-9]/);
      expect(metrics).toMatch(/oncall_console_sse_connections \d/);
    });

    it('stops with streams open', async () => {
      const other = await startConsoleServer({ shared, port: 0, host: '127.0.0.1' });
      const b = new Browser(other.url);
      expect((await b.call('POST', '/api/session', { token: tokens.viewer })).status).toBe(200);
      const stream = await openStream(b);
      await other.stop();
      await stream.ended;
    });
  });
});
