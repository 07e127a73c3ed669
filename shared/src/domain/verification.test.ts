import { describe, expect, it } from 'vitest';
import type { ConfigEvent, ContactMethod } from '@oncall/contracts';
import { newCode } from '../verification.js';
import { evolveConfig, initialConfigState } from './config.js';
import {
  checkCode,
  codeHash,
  normalizeCode,
  refusalText,
  withLogVerifications,
  type CheckResult,
  type VerificationRequest,
} from './verification.js';

const T0 = Date.parse('2026-12-05T12:00:00.000Z');
const SALT = '0123456789abcdef0123456789abcdef';
const request: VerificationRequest = {
  requestId: '33333333-3333-4333-8333-333333333333',
  userId: 'alice',
  channel: 'sms',
  address: '+15555550101',
  salt: SALT,
  codeHash: codeHash(SALT, '042137'),
  expiresAt: new Date(T0 + 10 * 60_000).toISOString(),
  maxAttempts: 5,
};

describe('checkCode', () => {
  it.each<[string, VerificationRequest | null, string, number, number, CheckResult]>([
    ['the right code in time', request, '042137', T0 + 1000, 0, { ok: true }],
    ['spaces and a dash are ignored', request, ' 042-137 ', T0, 0, { ok: true }],
    ['the right code on the last try', request, '042137', T0, 4, { ok: true }],
    ['a wrong code', request, '042138', T0, 0, { ok: false, reason: 'wrong_code' }],
    ['the code without its leading zero', request, '42137', T0, 0, { ok: false, reason: 'not_a_code' }],
    ['letters', request, 'abcdef', T0, 0, { ok: false, reason: 'not_a_code' }],
    ['seven digits', request, '0421370', T0, 0, { ok: false, reason: 'not_a_code' }],
    ['no request', null, '042137', T0, 0, { ok: false, reason: 'no_request' }],
    ['one millisecond before expiry', request, '042137', T0 + 10 * 60_000 - 1, 0, { ok: true }],
    ['at expiry', request, '042137', T0 + 10 * 60_000, 0, { ok: false, reason: 'expired' }],
    ['expired and wrong: expired is said', request, '000000', T0 + 11 * 60_000, 0, { ok: false, reason: 'expired' }],
    ['tries used up, even the right code', request, '042137', T0, 5, { ok: false, reason: 'too_many_attempts' }],
    ['tries used up and wrong', request, '000000', T0, 9, { ok: false, reason: 'too_many_attempts' }],
  ])('%s', (_, req, input, now, attempts, expected) => {
    expect(checkCode(req, input, now, attempts)).toStrictEqual(expected);
  });
});

describe('codes', () => {
  it('are 6 digits with a fresh salt each; the hash depends on both', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { code, salt } = newCode();
      expect(code).toMatch(/^\d{6}$/);
      expect(salt).toMatch(/^[0-9a-f]{32}$/);
      seen.add(salt);
    }
    expect(seen.size).toBe(200);
    expect(codeHash(SALT, '123456')).not.toBe(codeHash(SALT.replace('0', '1'), '123456'));
    expect(codeHash(SALT, '123456')).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each<[string, string | null]>([
    ['123456', '123456'],
    ['123 456', '123456'],
    ['12345', null],
    ['1234567', null],
    ['12a456', null],
    ['', null],
  ])('normalizeCode(%j) = %j', (input, expected) => {
    expect(normalizeCode(input)).toBe(expected);
  });

  it.each<[Parameters<typeof refusalText>[0], number, string]>([
    ['wrong_code', 3, 'wrong verification code (3 tries left)'],
    ['wrong_code', 1, 'wrong verification code (1 try left)'],
    ['wrong_code', 0, 'wrong verification code; no tries left, request a new one'],
    ['expired', 0, 'the verification code has expired; request a new one'],
    ['no_request', 0, 'no verification code is pending for this contact method; request one first'],
  ])('refusalText(%s, %i)', (reason, left, text) => {
    expect(refusalText(reason, left)).toBe(text);
  });
});

describe('verified set: users-file marks ∪ ContactMethodVerified for the same address', () => {
  const META = {
    id: '22222222-2222-4222-8222-222222222222',
    v: 1,
    occurredAt: '2026-12-05T12:00:00.000Z',
    causationId: null,
    correlationId: 'c',
  };
  const verified = (channel: 'sms' | 'email', address: string): ConfigEvent => ({
    type: 'ContactMethodVerified',
    data: { userId: 'alice', channel, address, requestId: request.requestId, via: 'cli' },
    ...META,
  });
  const fold = (...events: ConfigEvent[]) => events.reduce(evolveConfig, initialConfigState()).verifiedContacts;
  const contacts: ContactMethod[] = [
    { channel: 'email', address: 'alice@example.com' },
    { channel: 'sms', address: '+15555550101', verified: false },
    { channel: 'voice', address: '+15555550101', verified: false },
  ];

  it.each<[string, ConfigEvent[], ContactMethod[]]>([
    ['nothing verified in the log: as the directory says', [], contacts],
    [
      'sms verified at the same number: its mark goes, voice keeps its own',
      [verified('sms', '+15555550101')],
      [contacts[0]!, { channel: 'sms', address: '+15555550101' }, contacts[2]!],
    ],
    ['sms verified at another number (the address changed): still unverified', [verified('sms', '+15555550199')], contacts],
    [
      'twice the same: once',
      [verified('sms', '+15555550101'), verified('sms', '+15555550101')],
      [contacts[0]!, { channel: 'sms', address: '+15555550101' }, contacts[2]!],
    ],
  ])('%s', (_, events, expected) => {
    expect(withLogVerifications(fold(...events), 'alice', contacts)).toStrictEqual(expected);
    expect(withLogVerifications(fold(...events), 'bob', contacts)).toBe(contacts);
  });
});
