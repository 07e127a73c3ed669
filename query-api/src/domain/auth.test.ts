import { describe, expect, it } from 'vitest';
import type { ApiScope } from '@oncall/contracts';
import { authenticate, authorize, type Caller, type MethodRule, type StoredToken } from './auth.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const stored = (over: Partial<StoredToken> = {}): StoredToken => ({
  tokenId: 'abc123def456',
  tokenHash: 'h'.repeat(64),
  scopes: ['read'],
  userId: null,
  expiresAt: null,
  revoked: false,
  ...over,
});

describe('authenticate', () => {
  it.each<[string, Parameters<typeof authenticate>[0], StoredToken | undefined, string]>([
    ['no authorization header', null, stored(), 'missing'],
    ['a header that is no token of ours', { tokenId: null, hash: 'x' }, stored(), 'malformed'],
    ['an id nobody created', { tokenId: 'abc123def456', hash: 'h'.repeat(64) }, undefined, 'unknown'],
    ['the right id with a wrong secret', { tokenId: 'abc123def456', hash: 'x'.repeat(64) }, stored(), 'wrong_secret'],
    ['a revoked token', { tokenId: 'abc123def456', hash: 'h'.repeat(64) }, stored({ revoked: true }), 'revoked'],
    [
      'a token expired this instant',
      { tokenId: 'abc123def456', hash: 'h'.repeat(64) },
      stored({ expiresAt: '2026-06-01T00:00:00Z' }),
      'expired',
    ],
    [
      'a wrong secret of a revoked token says wrong secret (nothing about the token leaks)',
      { tokenId: 'abc123def456', hash: 'x'.repeat(64) },
      stored({ revoked: true }),
      'wrong_secret',
    ],
  ])('refuses %s', (_, presented, token, reason) => {
    const result = authenticate(presented, (id) => (id === token?.tokenId ? token : undefined), NOW);
    expect(result).toMatchObject({ ok: false, reason });
  });

  it('accepts a known, live token and names its caller', () => {
    const token = stored({ scopes: ['read', 'respond'], userId: 'alice', expiresAt: '2026-06-01T00:00:01Z' });
    expect(authenticate({ tokenId: token.tokenId, hash: token.tokenHash }, () => token, NOW)).toEqual({
      ok: true,
      caller: { tokenId: 'abc123def456', userId: 'alice', scopes: ['read', 'respond'] },
    });
  });
});

const caller = (scopes: ApiScope[], userId: string | null = null): Caller => ({ tokenId: 't', userId, scopes });
const ack: MethodRule = { scope: 'respond', actor: 'userId' };

describe('authorize', () => {
  it.each<[string, MethodRule | undefined, Caller, object, { ok: true; request: object } | { ok: false; reason: string }]>([
    ['a method missing from the table', undefined, caller(['admin']), {}, { ok: false, reason: 'unknown_method' }],
    ['read without the read scope', { scope: 'read' }, caller(['respond']), {}, { ok: false, reason: 'scope' }],
    ['read with read', { scope: 'read' }, caller(['read']), { id: 'x' }, { ok: true, request: { id: 'x' } }],
    ['write with admin', { scope: 'write' }, caller(['admin']), {}, { ok: true, request: {} }],
    ['respond with read and write only', ack, caller(['read', 'write'], 'alice'), {}, { ok: false, reason: 'scope' }],
    [
      'a user token leaving the actor empty acts as its user',
      ack,
      caller(['respond'], 'alice'),
      { userId: '' },
      { ok: true, request: { userId: 'alice' } },
    ],
    [
      'a user token naming its own user',
      ack,
      caller(['respond'], 'alice'),
      { userId: 'alice' },
      { ok: true, request: { userId: 'alice' } },
    ],
    ['a user token naming another user', ack, caller(['respond'], 'alice'), { userId: 'bob' }, { ok: false, reason: 'actor' }],
    ['an unbound token naming a user', ack, caller(['respond']), { userId: 'bob' }, { ok: false, reason: 'actor' }],
    [
      'an unbound token naming nobody (the handler asks for user_id)',
      ack,
      caller(['respond']),
      { userId: '' },
      { ok: true, request: { userId: '' } },
    ],
    ['an unbound admin token naming any user', ack, caller(['admin']), { userId: 'bob' }, { ok: true, request: { userId: 'bob' } }],
    [
      'a user-bound admin token naming another user',
      ack,
      caller(['admin'], 'alice'),
      { userId: 'bob' },
      { ok: true, request: { userId: 'bob' } },
    ],
    ['a user-bound admin token naming nobody', ack, caller(['admin'], 'alice'), { userId: '' }, { ok: true, request: { userId: 'alice' } }],
  ])('%s', (_, rule, who, request, expected) => {
    expect(authorize(rule, who, request)).toMatchObject(expected);
  });

  it('names the proto field when refusing an actor', () => {
    const result = authorize({ scope: 'write', actor: 'createdByUserId' }, caller(['write'], 'alice'), { createdByUserId: 'bob' });
    expect(result).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^created_by_user_id: this token acts as "alice" only/) as unknown,
    });
  });

  it('does not change the request it is given', () => {
    const request = { userId: '' };
    authorize(ack, caller(['respond'], 'alice'), request);
    expect(request).toEqual({ userId: '' });
  });
});
