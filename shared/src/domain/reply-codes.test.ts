import { describe, expect, it } from 'vitest';
import { allocate, EMPTY_BOOK, lookup, parseReply, phoneKey, replyInstructions, type ReplyBook, type ReplyTarget } from './reply-codes.js';

const TO = '+15551230001';
const HOUR = 3600_000;
const limits = { max: 3, ttlMs: 24 * HOUR };
const target = (alertId: string, userId: string | null = 'alice'): ReplyTarget => ({
  alertId,
  serviceId: 'checkout',
  fingerprint: `fp-${alertId}`,
  userId,
  summary: `summary of ${alertId}`,
});

/** Allocates for each alert in turn, one hour apart, returning the codes and the final book. */
function walk(alerts: readonly string[], book: ReplyBook = EMPTY_BOOK): { codes: number[]; book: ReplyBook } {
  const codes: number[] = [];
  alerts.forEach((a, i) => {
    const r = allocate(book, target(a), TO, i * HOUR, limits);
    codes.push(r.code);
    book = r.book;
  });
  return { codes, book };
}

describe('allocate', () => {
  it.each([
    ['hands out the smallest free codes', ['a1', 'a2', 'a3'], [1, 2, 3]],
    ['keeps the code of an alert paged again', ['a1', 'a2', 'a1'], [1, 2, 1]],
    ['reuses the least recently used code when all are taken', ['a1', 'a2', 'a3', 'a4'], [1, 2, 3, 1]],
    ['a re-page refreshes the code, so the next eviction takes another', ['a1', 'a2', 'a3', 'a1', 'a4'], [1, 2, 3, 1, 2]],
  ])('%s', (_, alerts, codes) => {
    expect(walk(alerts).codes).toStrictEqual(codes);
  });

  it('gives another user of the same number their own code for the same alert', () => {
    const first = allocate(EMPTY_BOOK, target('a1', 'alice'), TO, 0, limits);
    expect(allocate(first.book, target('a1', 'bob'), TO, 0, limits).code).toBe(2);
  });

  it('drops expired codes, freeing their numbers', () => {
    const { book } = walk(['a1', 'a2']);
    const later = allocate(book, target('a3'), TO, 25 * HOUR + 1, limits);
    expect(later.code).toBe(1);
    expect(later.book.codes.map((c) => c.alertId)).toStrictEqual(['a3']);
  });

  it('never holds more than max codes, and never one code twice', () => {
    const { book } = walk(Array.from({ length: 20 }, (_, i) => `a${i % 7}`));
    const codes = book.codes.map((c) => c.code);
    expect(codes.length).toBeLessThanOrEqual(limits.max);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('records the number, the user and a short summary', () => {
    const r = allocate(EMPTY_BOOK, { ...target('a1'), summary: 'x'.repeat(500) }, TO, 5, limits);
    expect(r.book.codes[0]).toMatchObject({ code: 1, to: TO, userId: 'alice', issuedAt: 5, serviceId: 'checkout' });
    expect(r.book.codes[0]?.summary).toHaveLength(100);
  });
});

describe('lookup', () => {
  const { book } = walk(['a1', 'a2']);
  it.each([
    ['a live code', 2, HOUR, 'a2'],
    ['an unknown code', 9, HOUR, null],
    ['an expired code', 1, 24 * HOUR, null],
  ])('%s', (_, code, now, alertId) => {
    expect(lookup(book, code, now, limits)?.alertId ?? null).toBe(alertId);
  });
});

describe('parseReply', () => {
  it.each([
    ['4a', { kind: 'code', code: 4, action: 'acknowledge' }],
    [' 12C ', { kind: 'code', code: 12, action: 'resolve' }],
    ['3 e', { kind: 'code', code: 3, action: 'escalate' }],
    ['4x', { kind: 'unknown' }],
    ['a4', { kind: 'unknown' }],
    ['ack', { kind: 'unknown' }],
    ['', { kind: 'unknown' }],
    ['STOP', { kind: 'keyword', keyword: 'stop' }],
    ['stopall', { kind: 'keyword', keyword: 'stop' }],
    ['Unsubscribe', { kind: 'keyword', keyword: 'stop' }],
    ['cancel', { kind: 'keyword', keyword: 'stop' }],
    ['END', { kind: 'keyword', keyword: 'stop' }],
    ['quit', { kind: 'keyword', keyword: 'stop' }],
    ['START', { kind: 'keyword', keyword: 'start' }],
    ['yes', { kind: 'keyword', keyword: 'start' }],
    ['unstop', { kind: 'keyword', keyword: 'start' }],
    ['HELP', { kind: 'keyword', keyword: 'help' }],
    ['info', { kind: 'keyword', keyword: 'help' }],
    ['stop it', { kind: 'unknown' }],
  ])('%j', (body, parsed) => {
    expect(parseReply(body)).toStrictEqual(parsed);
  });
});

describe('phoneKey and instructions', () => {
  it.each([
    ['+15551230001', 'p15551230001'],
    ['15551230001', null],
    ['+0123', null],
    ['+1 555', null],
  ])('%s', (n, key) => {
    expect(phoneKey(n)).toBe(key);
  });
  it('says how to answer', () => {
    expect(replyInstructions(4)).toBe('Reply 4a to acknowledge, 4c to resolve, 4e to escalate.');
  });
});
