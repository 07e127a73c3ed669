import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeActionToken, verifyActionToken, type ActionLink } from './action-link.js';

const SECRET = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);
const NOW = Date.parse('2026-02-03T10:00:00Z');
const LINK: ActionLink = {
  alertId: '5b1f8a52-3c1e-4f0a-9a57-1f0c2d9e7a41',
  serviceId: 'checkout',
  fingerprint: 'a3f9c2e17b4d5e60',
  userId: 'alice',
  expiresAt: NOW / 1000 + 3600,
  via: 'email',
};
const token = makeActionToken(LINK, SECRET);
const [payload = '', signature = ''] = token.split('.');
const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
const rePayload = (change: Record<string, unknown>): string => {
  const body = { ...(JSON.parse(Buffer.from(payload, 'base64url').toString()) as object), ...change };
  return `${Buffer.from(JSON.stringify(body)).toString('base64url')}.${signature}`;
};

describe('action links', () => {
  it('a token made with the secret verifies to what it carries', () => {
    expect(verifyActionToken(token, [SECRET], NOW)).toEqual({ ok: true, link: LINK });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  it('a link sent to no one (a channel) carries a null user', () => {
    const t = makeActionToken({ ...LINK, userId: null }, SECRET);
    expect(verifyActionToken(t, [SECRET], NOW)).toEqual({ ok: true, link: { ...LINK, userId: null } });
  });

  it.each([
    ['signed with another secret', makeActionToken(LINK, OTHER), [SECRET], 'forged'],
    ['payload changed (another user)', rePayload({ u: 'mallory' }), [SECRET], 'forged'],
    ['payload changed (later expiry)', rePayload({ e: LINK.expiresAt + 86_400 }), [SECRET], 'forged'],
    ['signature changed', `${payload}.${flip(signature, 3)}`, [SECRET], 'forged'],
    ['signature truncated', `${payload}.${signature.slice(0, 20)}`, [SECRET], 'malformed'],
    ['signature missing', `${payload}.`, [SECRET], 'malformed'],
    ['payload only', payload, [SECRET], 'malformed'],
    ['truncated in the payload', token.slice(10), [SECRET], 'forged'],
    ['three parts', `${token}.x`, [SECRET], 'malformed'],
    ['not base64url', `${payload}!.${signature}`, [SECRET], 'malformed'],
    ['empty', '', [SECRET], 'malformed'],
    ['huge', `${'A'.repeat(5000)}.${signature}`, [SECRET], 'malformed'],
    ['no secrets configured', token, [], 'forged'],
  ])('%s → %s', (_name, t, secrets, problem) => {
    expect(verifyActionToken(t, secrets, NOW)).toEqual({ ok: false, problem });
  });

  it('expires at its expiry, not before', () => {
    expect(verifyActionToken(token, [SECRET], LINK.expiresAt * 1000 - 1).ok).toBe(true);
    expect(verifyActionToken(token, [SECRET], LINK.expiresAt * 1000)).toEqual({ ok: false, problem: 'expired' });
  });

  it('a signed payload of the wrong shape is malformed, not trusted', () => {
    const forge = (body: unknown): string => {
      const p = Buffer.from(JSON.stringify(body)).toString('base64url');
      const again = makeActionToken(LINK, SECRET).split('.')[0];
      expect(again).not.toBe(p);
      // Signed as the real code signs, to reach the shape check.
      return `${p}.${createHmac('sha256', SECRET).update(p).digest('base64url')}`;
    };
    expect(verifyActionToken(forge({ v: 2, a: 'x', s: 's', f: 'f', u: null, e: 9e9, c: 'email' }), [SECRET], NOW)).toEqual({
      ok: false,
      problem: 'malformed',
    });
    expect(verifyActionToken(forge({ v: 1, a: 'x', s: 's', f: 'f', u: null, e: 9e9, c: 'carrier-pigeon' }), [SECRET], NOW).ok).toBe(false);
    expect(verifyActionToken(forge({ v: 1, a: 'x', s: 's', f: 'f', u: null, e: 9e9, c: 'email', admin: true }), [SECRET], NOW).ok).toBe(
      false,
    );
  });

  it('rotation: a link signed with the previous secret verifies while it is listed', () => {
    const old = makeActionToken(LINK, OTHER);
    expect(verifyActionToken(old, [SECRET, OTHER], NOW).ok).toBe(true);
    expect(verifyActionToken(old, [SECRET], NOW)).toEqual({ ok: false, problem: 'forged' });
  });
});
