import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from './logger.js';

/** Logs one line through createLogger and returns it as written. */
function logged(fields: object): string {
  const lines: string[] = [];
  const log = createLogger('test', 'info', { write: (line: string) => void lines.push(line) });
  log.info(fields, 'request');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('log redaction', () => {
  it.each<[string, string, string]>([
    ['a token query value', '/api/v1/webhook/generic?token=s3cret-key-0001', '/api/v1/webhook/generic?token=[redacted]'],
    ['a token among other parameters', '/x?a=1&token=s3cret&b=2', '/x?a=1&token=[redacted]&b=2'],
    ['TOKEN in capitals', '/x?TOKEN=s3cret', '/x?TOKEN=[redacted]'],
    ['a signature query value', '/x?signature=s3cret#f', '/x?signature=[redacted]#f'],
    ['an action-link token', '/a/eyJhbGciOi.s3cret?x=1', '/a/[redacted]?x=1'],
    ['a URL without secrets', '/api/v1/webhook/alertmanager?debug=1', '/api/v1/webhook/alertmanager?debug=1'],
  ])('redactUrl: %s', (_, url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it.each<[string, object]>([
    ['a url field', { url: '/api/v1/webhook/generic?token=s3cret' }],
    ['a request url', { req: { url: '/api/v1/webhook/generic?token=s3cret', method: 'POST' } }],
    ['an authorization header', { req: { headers: { authorization: 'Bearer s3cret' } } }],
    ['a cookie header', { headers: { cookie: 'session=s3cret' } }],
    ['a Slack signature header', { request: { headers: { 'x-slack-signature': 'v0=s3cret' } } }],
    ['a Twilio signature header', { headers: { 'x-twilio-signature': 's3cret' } }],
    ['a token field', { token: 's3cret' }],
    ['a nested token field', { link: { token: 's3cret' } }],
  ])('no secret reaches the log line: %s', (_, fields) => {
    const line = logged(fields);
    expect(line).not.toContain('s3cret');
    expect(line).toContain('[redacted]');
  });

  it('keeps what is not secret', () => {
    const line = JSON.parse(logged({ url: '/healthz', headers: { 'content-type': 'application/json' } })) as Record<string, unknown>;
    expect(line).toMatchObject({ url: '/healthz', headers: { 'content-type': 'application/json' }, service: 'test' });
  });
});
