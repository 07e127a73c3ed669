import { describe, expect, it } from 'vitest';
import type { ApiToken } from '@oncall/shared';
import { formatTokens, parseExpiry, parseScopes, TokenUsageError } from './token.js';

describe('oncall token arguments', () => {
  it.each([
    ['30d', 30 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['90m', 90 * 60_000],
  ])('--expires %s', (text, ms) => {
    expect(parseExpiry(text)).toBe(ms);
  });

  it.each(['0d', '30', 'd', '1w', '-1d', '1.5h'])('--expires %s is refused', (text) => {
    expect(() => parseExpiry(text)).toThrow(TokenUsageError);
  });

  it('reads a list of scopes', () => {
    expect(parseScopes('read,respond')).toEqual(['read', 'respond']);
  });

  it.each<[string | undefined, RegExp]>([
    [undefined, /--scopes is required/],
    ['read,root', /unknown scope "root"/],
    ['', /--scopes is required/],
  ])('scopes %s are refused', (text, message) => {
    expect(() => parseScopes(text)).toThrow(message);
  });

  it('lists tokens with their state, never a hash', () => {
    const base: ApiToken = {
      tokenId: 'aaaaaaaaaaaa',
      name: 'ci',
      scopes: ['read'],
      userId: null,
      tokenHash: 'f'.repeat(64),
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: null,
      revoked: false,
    };
    const text = formatTokens(
      [
        base,
        { ...base, tokenId: 'bbbbbbbbbbbb', userId: 'alice', revoked: true },
        { ...base, tokenId: 'cccccccccccc', expiresAt: '2026-01-02T00:00:00.000Z' },
      ],
      Date.parse('2026-01-03T00:00:00Z'),
    );
    expect(text.split('\n').map((l) => l.split(/\s{2,}/)[0] + ' ' + l.split(/\s+/).pop())).toEqual([
      'ID STATE',
      'aaaaaaaaaaaa active',
      'bbbbbbbbbbbb revoked',
      'cccccccccccc expired',
      ' ',
    ]);
    expect(text).not.toContain('f'.repeat(64));
  });
});
