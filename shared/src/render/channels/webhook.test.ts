import { describe, expect, it } from 'vitest';
import { thrown, contextWith } from '../testing.js';
import { formatWebhook } from './webhook.js';

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

  it.each([
    ['a string', 'x'],
    ['a number', 3],
    ['true', true],
  ])('refuses %s as a body', (_, v) => {
    expect(thrown(() => formatWebhook(v, contextWith()))).toMatchObject({ code: 'INVALID_OUTPUT', field: 'webhook' });
  });
});
