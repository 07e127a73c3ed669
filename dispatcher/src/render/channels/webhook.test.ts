import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { thrown, contextWith } from '../testing.js';
import { formatWebhook, signWebhook, verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER, webhookHeaders } from './webhook.js';

const SECRET = 'whsec_test';
const T = 1_772_355_660;

describe('webhook signature', () => {
  const body = '{"alert_id":"a","summary":"x"}';

  it('is t=<unix>,v1=<hex HMAC-SHA256 of "t.body">', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${body}`).digest('hex');
    expect(signWebhook(body, SECRET, T)).toBe(`t=${T},v1=${expected}`);
  });

  it('goes in X-Oncall-Signature with the content type', () => {
    const headers = webhookHeaders({ contentType: 'application/json', body }, SECRET, T);
    expect(WEBHOOK_SIGNATURE_HEADER).toBe('X-Oncall-Signature');
    expect(headers).toStrictEqual({ 'Content-Type': 'application/json', 'X-Oncall-Signature': signWebhook(body, SECRET, T) });
  });

  it.each<[string, string, string, string, number, boolean]>([
    ['a fresh signature verifies', body, signWebhook(body, SECRET, T), SECRET, T + 10, true],
    ['spaces after commas are accepted', body, signWebhook(body, SECRET, T).replace(',', ', '), SECRET, T, true],
    ['one of several v1 values may match (secret rotation)', body, `t=${T},v1=${'0'.repeat(64)},${signWebhook(body, SECRET, T).split(',')[1]}`, SECRET, T, true],
    ['a changed body fails', body + ' ', signWebhook(body, SECRET, T), SECRET, T, false],
    ['another secret fails', body, signWebhook(body, 'other', T), SECRET, T, false],
    ['a stale timestamp fails', body, signWebhook(body, SECRET, T), SECRET, T + 301, false],
    ['a future timestamp fails', body, signWebhook(body, SECRET, T + 400), SECRET, T, false],
    ['a changed timestamp fails', body, signWebhook(body, SECRET, T).replace(`t=${T}`, `t=${T + 1}`), SECRET, T, false],
    ['garbage fails', body, 'nonsense', SECRET, T, false],
    ['a short hex fails', body, `t=${T},v1=abcd`, SECRET, T, false],
  ])('%s', (_, b, header, secret, now, ok) => {
    expect(verifyWebhookSignature(b, header, secret, now)).toBe(ok);
  });
});

describe('formatWebhook', () => {
  it('sends the default payload when there is no template', () => {
    const { content } = formatWebhook(null, contextWith());
    expect(content.contentType).toBe('application/json');
    const body = JSON.parse(content.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      version: 1,
      event: 'alert.notification',
      alert: { id: '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e', summary: 'Error rate above 5%', severity: 'critical' },
      labels: { alertname: 'HighErrorRate' },
      escalation: { step: 1, total_steps: 2 },
    });
    expect(body).not.toHaveProperty('user');
  });

  it('names resolved notifications alert.resolved', () => {
    expect(JSON.parse(formatWebhook(null, contextWith({ kind: 'resolved' })).content.body)).toMatchObject({ event: 'alert.resolved' });
  });

  it('re-serialises the template output compactly', () => {
    expect(formatWebhook({ a: [1, { b: '</script>' }] }, contextWith()).content.body).toBe('{"a":[1,{"b":"\\u003c/script\\u003e"}]}');
  });

  it.each([['a string', 'x'], ['a number', 3], ['true', true]])('refuses %s as a body', (_, v) => {
    expect(thrown(() => formatWebhook(v, contextWith()))).toMatchObject({ code: 'INVALID_OUTPUT', field: 'webhook' });
  });
});
