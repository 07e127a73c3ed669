import { describe, expect, it } from 'vitest';
import type { ApiScope } from '@oncall/contracts';
import type { StoredToken } from '../domain/auth.js';
import { allowedOrigin, isJson, login, mayAct, sessionCaller, SESSION_TTL_MS, type ConsoleCaller, type SessionRecord } from './session.js';

const NOW = Date.parse('2026-12-06T07:00:00Z');
const token = (tokenId: string, scopes: ApiScope[], userId: string | null, more: Partial<StoredToken> = {}): StoredToken => ({
  tokenId,
  name: `${tokenId}-name`,
  tokenHash: `hash-${tokenId}`,
  scopes,
  userId,
  expiresAt: null,
  revoked: false,
  ...more,
});
const TOKENS = new Map<string, StoredToken>(
  [
    token('reader', ['read'], 'carol'),
    token('alice', ['read', 'respond'], 'alice'),
    token('admin', ['admin'], null),
    token('service', ['read'], null),
    token('soon', ['read'], 'carol', { expiresAt: '2026-12-06T09:00:00Z' }),
    token('gone', ['admin'], null, { revoked: true }),
    token('old', ['read'], 'carol', { expiresAt: '2026-12-01T00:00:00Z' }),
  ].map((t) => [t.tokenId, t]),
);
const lookup = (id: string) => TOKENS.get(id);
const presented = (id: string, hash = `hash-${id}`) => ({ tokenId: id, hash });

describe('console sign-in', () => {
  it.each([
    ['a read token acts as its user', presented('reader'), undefined, { userId: 'carol', actAsToCheck: null }],
    ['a user token may name its own user', presented('alice'), 'alice', { userId: 'alice', actAsToCheck: null }],
    ['an admin token bound to no user acts as actAs, to be checked', presented('admin'), 'bob', { userId: 'bob', actAsToCheck: 'bob' }],
    ['a service token without a user only sees', presented('service'), undefined, { userId: null, actAsToCheck: null }],
  ])('%s', (_name, p, actAs, expected) => {
    const outcome = login(p, actAs, lookup, NOW);
    expect(outcome).toMatchObject({ ok: true, actAsToCheck: expected.actAsToCheck, record: { userId: expected.userId } });
  });

  it.each([
    ['no token', null, undefined, 401, 'token'],
    ['not a token of ours', { tokenId: null, hash: 'x' }, undefined, 401, 'token'],
    ['unknown id', presented('nope'), undefined, 401, 'token'],
    ['wrong secret', presented('reader', 'other'), undefined, 401, 'token'],
    ['revoked', presented('gone'), 'bob', 401, 'token'],
    ['expired', presented('old'), undefined, 401, 'token'],
    ['admin without actAs', presented('admin'), undefined, 400, 'actAs'],
    ['a user token acting as another', presented('alice'), 'bob', 403, 'actAs'],
    ['a service token acting as a user', presented('service'), 'bob', 403, 'actAs'],
  ])('refuses %s', (_name, p, actAs, status, field) => {
    expect(login(p, actAs, lookup, NOW)).toMatchObject({ ok: false, status, field });
  });

  it('names the token and lasts 12 hours, or until the token expires', () => {
    const a = login(presented('reader'), undefined, lookup, NOW);
    expect(a).toMatchObject({ ok: true, record: { tokenId: 'reader', tokenHash: 'hash-reader', tokenName: 'reader-name' } });
    if (a.ok) expect(Date.parse(a.record.expiresAt)).toBe(NOW + SESSION_TTL_MS);
    const b = login(presented('soon'), undefined, lookup, NOW);
    if (b.ok) expect(b.record.expiresAt).toBe('2026-12-06T09:00:00.000Z');
    else expect.unreachable();
  });
});

describe('a session on each request', () => {
  const record = (tokenId: string, more: Partial<SessionRecord> = {}): SessionRecord => ({
    tokenId,
    tokenHash: `hash-${tokenId}`,
    tokenName: tokenId,
    userId: 'carol',
    createdAt: new Date(NOW).toISOString(),
    expiresAt: new Date(NOW + SESSION_TTL_MS).toISOString(),
    ...more,
  });

  it("holds while its token does, with the token's scopes now", () => {
    expect(sessionCaller(record('alice', { userId: 'alice' }), lookup, NOW)).toMatchObject({
      ok: true,
      caller: { userId: 'alice', scopes: ['read', 'respond'] },
    });
  });

  it.each([
    ['its token was revoked', record('gone'), 'revoked'],
    ['its token expired', record('old'), 'expired'],
    ['its token is gone', record('nope'), 'unknown'],
    ['the token was replaced under the same id', record('reader', { tokenHash: 'hash-before' }), 'wrong_secret'],
    ['it is older than 12 hours', record('reader', { expiresAt: new Date(NOW).toISOString() }), 'expired'],
  ])('ends when %s', (_name, r, reason) => {
    expect(sessionCaller(r, lookup, NOW)).toMatchObject({ ok: false, status: 401, reason });
  });

  const caller = (scopes: ApiScope[], userId: string | null): ConsoleCaller => ({
    tokenId: 't',
    tokenName: 't',
    userId,
    scopes,
    expiresAt: '',
  });
  it.each([
    [['read'], 'carol', 'respond', 'scope'],
    [['read', 'respond'], 'alice', 'respond', null],
    [['read', 'respond'], 'alice', 'write', 'scope'],
    [['read', 'write'], 'bob', 'write', null],
    [['admin'], 'bob', 'write', null],
    [['admin'], null, 'respond', 'actor'],
    [['respond'], null, 'respond', 'actor'],
  ] as const)('%j as %s may %s: refused for %s', (scopes, userId, scope, refusal) => {
    const outcome = mayAct(caller([...scopes], userId), scope);
    if (refusal === null) expect(outcome).toStrictEqual({ ok: true, userId });
    else expect(outcome).toMatchObject({ ok: false, status: 403, reason: refusal });
  });
});

describe('state-changing requests', () => {
  it.each([
    ['http://127.0.0.1:8090', '127.0.0.1:8090', 'http', null, true],
    ['HTTP://127.0.0.1:8090', '127.0.0.1:8090', 'http', null, true],
    ['http://127.0.0.1:8091', '127.0.0.1:8090', 'http', null, false],
    ['https://evil.example', '127.0.0.1:8090', 'http', null, false],
    ['http://127.0.0.1:8090', '127.0.0.1:8090', 'https', null, false],
    [undefined, '127.0.0.1:8090', 'http', null, false],
    ['null', '127.0.0.1:8090', 'http', null, false],
    ['https://noc.example.com', 'query-api:8090', 'http', 'https://noc.example.com/', true],
    ['https://noc.example.com', undefined, 'http', null, false],
  ])('Origin %s to host %s over %s (console URL %s): %s', (origin, host, protocol, consoleUrl, ok) => {
    expect(allowedOrigin(origin, host, protocol, consoleUrl)).toBe(ok);
  });

  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON', true],
    ['application/jsonp', false],
    ['text/plain', false],
    ['application/x-www-form-urlencoded', false],
    [undefined, false],
  ])('Content-Type %s is JSON: %s', (type, ok) => {
    expect(isJson(type)).toBe(ok);
  });
});
