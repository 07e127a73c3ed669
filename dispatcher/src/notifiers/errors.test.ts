import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { classifyHttpStatus, DeliveryError, isAbort, redact, sanitizeCause, type Classification } from './errors.js';

const NOW = Date.parse('2026-03-08T12:00:00Z');

describe('classifyHttpStatus', () => {
  const cases: [number, string | null, Classification][] = [
    [429, '7', { reason: 'rate_limited', retryable: true, retryAfterMs: 7_000 }],
    [429, 'Sun, 08 Mar 2026 12:00:30 GMT', { reason: 'rate_limited', retryable: true, retryAfterMs: 30_000 }],
    [429, null, { reason: 'rate_limited', retryable: true, retryAfterMs: null }],
    [429, 'soon', { reason: 'rate_limited', retryable: true, retryAfterMs: null }],
    [408, '5', { reason: 'timeout', retryable: true, retryAfterMs: null }],
    [500, null, { reason: 'provider_unavailable', retryable: true, retryAfterMs: null }],
    [502, null, { reason: 'provider_unavailable', retryable: true, retryAfterMs: null }],
    [503, '120', { reason: 'provider_unavailable', retryable: true, retryAfterMs: 120_000 }],
    [504, null, { reason: 'provider_unavailable', retryable: true, retryAfterMs: null }],
    [401, null, { reason: 'unauthorized', retryable: false, retryAfterMs: null }],
    [403, '5', { reason: 'unauthorized', retryable: false, retryAfterMs: null }],
    [404, null, { reason: 'invalid_destination', retryable: false, retryAfterMs: null }],
    [410, null, { reason: 'invalid_destination', retryable: false, retryAfterMs: null }],
    [400, null, { reason: 'bad_request', retryable: false, retryAfterMs: null }],
    [409, null, { reason: 'bad_request', retryable: false, retryAfterMs: null }],
    [413, null, { reason: 'bad_request', retryable: false, retryAfterMs: null }],
    [422, null, { reason: 'bad_request', retryable: false, retryAfterMs: null }],
    [302, null, { reason: 'unknown', retryable: false, retryAfterMs: null }],
    [200, null, { reason: 'unknown', retryable: false, retryAfterMs: null }],
  ];
  it.each(cases)('%i (Retry-After %s)', (status, retryAfter, expected) => {
    expect(classifyHttpStatus(status, retryAfter, NOW)).toEqual(expected);
  });
});

describe('redact', () => {
  it('removes given secrets verbatim and URL-encoded', () => {
    expect(redact('token p@ss/w0rd! and p%40ss%2Fw0rd!', ['p@ss/w0rd!'])).toBe('token [REDACTED] and [REDACTED]');
  });
  it('ignores secrets too short to mean anything', () => {
    expect(redact('a b c', ['a'])).toBe('a b c');
  });
  it.each([
    ['Authorization: Bearer eyJhbGciOi.abc.def', 'Authorization: Bearer [REDACTED]'],
    ['Authorization: Basic QUMxMjM6c2VjcmV0dG9rZW4=', 'Authorization: Basic [REDACTED]'],
    ['token xoxb-1234-5678-abcdef used', 'token [REDACTED] used'],
    ['secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'secret [REDACTED]'],
    ['smtps://alerts:hunter22@mail.example.com:465', 'smtps://alerts:[REDACTED]@mail.example.com:465'],
    ['https://hooks.example.com/x?token=abc123&team=a', 'https://hooks.example.com/x?token=[REDACTED]&team=a'],
    ['Basic auth is not configured', 'Basic auth is not configured'],
  ])('%s', (text, expected) => {
    expect(redact(text)).toBe(expected);
  });
});

describe('sanitizeCause', () => {
  it('keeps name, message, code and stack, redacted, and drops everything else', () => {
    const original = Object.assign(new Error('connect failed for key s3cr3t-key'), {
      name: 'AxiosError',
      code: 'ECONNREFUSED',
      config: { headers: { Authorization: 'Basic czNjcjN0LWtleQ==' } },
    });
    const safe = sanitizeCause(original, ['s3cr3t-key']);
    expect(safe).toBeInstanceOf(Error);
    expect(safe?.name).toBe('AxiosError');
    expect(safe?.message).toBe('connect failed for key [REDACTED]');
    expect((safe as { code?: string }).code).toBe('ECONNREFUSED');
    expect(safe?.stack).not.toContain('s3cr3t-key');
    expect(inspect(safe, { depth: 10 })).not.toContain('czNjcjN0LWtleQ==');
  });

  it('follows the cause chain a few levels', () => {
    const root = new Error('socket to s3cr3t-host closed');
    const safe = sanitizeCause(new Error('fetch failed', { cause: root }), ['s3cr3t-host']);
    expect((safe?.cause as Error).message).toBe('socket to [REDACTED] closed');
    let deep: unknown = new Error('level 0');
    for (let i = 1; i <= 6; i += 1) deep = new Error(`level ${i}`, { cause: deep });
    let depth = 0;
    for (let e = sanitizeCause(deep, []); e?.cause !== undefined; e = e.cause as Error) depth += 1;
    expect(depth).toBe(3);
  });

  it('turns non-errors into errors without their content', () => {
    expect(sanitizeCause({ password: 'x' }, [])?.message).toBe('non-error thrown');
    expect(sanitizeCause(undefined, [])).toBeUndefined();
  });
});

describe('DeliveryError', () => {
  it('builds its message from channel, reason, status and provider code only', () => {
    const err = new DeliveryError({
      channel: 'slack',
      reason: 'rate_limited',
      retryable: true,
      retryAfterMs: 3_000,
      status: 429,
      providerCode: 'ratelimited',
    });
    expect(err.message).toBe('slack delivery failed: rate_limited (HTTP 429, provider code ratelimited, retry after 3000 ms)');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('DeliveryError');
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'DeliveryError',
      message: err.message,
      channel: 'slack',
      reason: 'rate_limited',
      retryable: true,
      retryAfterMs: 3_000,
      status: 429,
      providerCode: 'ratelimited',
    });
  });

  it('drops provider codes that are not short identifiers', () => {
    const err = new DeliveryError({ channel: 'webhook', reason: 'unknown', retryable: false, providerCode: 'Bearer abc def' });
    expect(err.providerCode).toBeNull();
    expect(err.message).toBe('webhook delivery failed: unknown');
  });
});

describe('isAbort', () => {
  it.each([
    [new DOMException('x', 'TimeoutError'), true],
    [new DOMException('x', 'AbortError'), true],
    [Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), true],
    [Object.assign(new Error('x'), { code: 'AbortError' }), true],
    [new Error('fetch failed', { cause: new DOMException('x', 'AbortError') }), true],
    [Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), false],
    ['AbortError', false],
  ])('%s → %s', (err, expected) => {
    expect(isAbort(err)).toBe(expected);
  });
});
