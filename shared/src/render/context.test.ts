import { describe, expect, it } from 'vitest';
import { buildRenderContext, lookupPath, previewContext, sampleRenderContext, severityText } from './context.js';
import { notificationRequested, NOW } from './testing.js';

/** Every value is JSON data: no functions, class instances, undefined or prototypes other than Object/Array. */
function assertPlain(value: unknown, path = '$'): void {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertPlain(v, `${path}[${i}]`));
    return;
  }
  expect(typeof value, path).toBe('object');
  expect(Object.getPrototypeOf(value), path).toBe(Object.prototype);
  for (const [k, v] of Object.entries(value as object)) assertPlain(v, `${path}.${k}`);
}

describe('buildRenderContext', () => {
  it('maps a NotificationRequested to the template variables', () => {
    const ctx = buildRenderContext(notificationRequested(), { now: NOW, publicUrl: 'https://oncall.example.com/' });
    expect(ctx).toStrictEqual({
      alert: {
        id: '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e',
        summary: 'Error rate above 5%',
        details: 'p99 latency 2.3s',
        status: 'triggered',
        severity: 'critical',
        source_severity: 'critical',
        source: 'alertmanager',
        fingerprint: 'fp-1',
        created_at: '2026-03-01T09:00:00.000Z',
        triggered_at: '2026-03-01T09:00:00.000Z',
        service_id: 'payments',
        service_name: 'Payments API',
        url: 'https://oncall.example.com/alerts/0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e',
      },
      actionUrl: null,
      labels: { alertname: 'HighErrorRate', severity: 'critical', namespace: 'prod' },
      annotations: { runbook_url: 'https://runbooks.example.com/errors?a=1&b=2' },
      service: { id: 'payments', name: 'Payments API' },
      links: [{ href: 'https://grafana.example.com/d/x', text: 'Dashboard' }],
      user: { id: 'u-1', name: 'Ada Lovelace', email: 'ada@example.com' },
      recipient: { type: 'user', user_id: 'u-1' },
      escalation: { policy_id: 'pol-1', policy_name: 'Payments primary', step: 1, total_steps: 2, round: 1, repage: 0 },
      notification: { id: '6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', kind: 'page', priority: 'high' },
      now: NOW,
    });
  });

  it.each<[string, Parameters<typeof notificationRequested>[0], Record<string, unknown>]>([
    [
      'a Slack channel has no user',
      { recipient: { type: 'slack', channel: '#ops' }, userName: null, contacts: [] },
      { user: null, recipient: { type: 'slack', channel: '#ops' } },
    ],
    [
      'a webhook recipient hides the URL',
      { recipient: { type: 'webhook', url: 'https://hooks.example.com/T0K3N' }, userName: null, contacts: [] },
      { user: null, recipient: { type: 'webhook' } },
    ],
    [
      'a user without e-mail',
      { contacts: [{ channel: 'sms', address: '+1' }] },
      { user: { id: 'u-1', name: 'Ada Lovelace', email: null } },
    ],
    [
      'later steps, rounds and re-pages are one-based except re-pages',
      { step: 2, round: 1, page: 3 },
      { escalation: expect.objectContaining({ step: 3, round: 2, repage: 3 }) as unknown },
    ],
    ['a resolved notification', { kind: 'resolved' }, { notification: expect.objectContaining({ kind: 'resolved' }) as unknown }],
  ])('%s', (_, over, expected) => {
    expect(buildRenderContext(notificationRequested(over), { now: NOW })).toMatchObject(expected);
  });

  it("alert.severity is the effective severity of the page, alert.source_severity the source's", () => {
    const base = notificationRequested();
    const boosted = notificationRequested({ alert: { ...base.alert, severity: 'error', sourceSeverity: 'warning' } });
    expect(buildRenderContext(boosted, { now: NOW }).alert).toMatchObject({ severity: 'error', source_severity: 'warning' });
    expect(severityText(buildRenderContext(boosted, { now: NOW }).alert)).toBe('error (source: warning)');
    expect(severityText(buildRenderContext(base, { now: NOW }).alert)).toBe('critical');
  });

  it('the action link, when given, is also the alert URL (the "Open" link of every channel)', () => {
    const actionUrl = 'https://oncall.example.com/a/payload.sig';
    const ctx = buildRenderContext(notificationRequested(), { now: NOW, publicUrl: 'https://oncall.example.com/', actionUrl });
    expect(ctx.actionUrl).toBe(actionUrl);
    expect(ctx.alert.url).toBe(actionUrl);
  });

  it("with a console URL, the alert URL is the console's alert page; the action link stays for templates", () => {
    const actionUrl = 'https://oncall.example.com/a/payload.sig';
    const ctx = buildRenderContext(notificationRequested(), {
      now: NOW,
      publicUrl: 'https://oncall.example.com/',
      consoleUrl: 'http://127.0.0.1:8090/',
      actionUrl,
    });
    expect(ctx.alert.url).toBe('http://127.0.0.1:8090/alerts/0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e');
    expect(ctx.actionUrl).toBe(actionUrl);
  });

  it('has no alert URL without a public URL', () => {
    expect(buildRenderContext(notificationRequested(), { now: NOW }).alert.url).toBeNull();
  });

  it('is plain JSON data, detached from the event', () => {
    const data = notificationRequested();
    const hostile = Object.assign(Object.create({ inherited: () => 'called' }) as object, { own: 'x' }) as Record<string, string>;
    const withFn = { ...data, alert: { ...data.alert, labels: hostile } };
    const ctx = buildRenderContext(withFn, { now: NOW });
    assertPlain(ctx);
    expect(ctx.labels).toStrictEqual({ own: 'x' });
    expect(JSON.parse(JSON.stringify(ctx))).toStrictEqual(ctx);
    data.alert.labels.alertname = 'changed';
    expect(buildRenderContext(notificationRequested(), { now: NOW }).labels.alertname).toBe('HighErrorRate');
  });

  it('the sample context is plain data too', () => {
    assertPlain(sampleRenderContext());
  });
});

describe('previewContext', () => {
  it('is the sample without data', () => {
    expect(previewContext()).toStrictEqual(sampleRenderContext());
  });

  it('replaces whole top-level values and drops functions', () => {
    const ctx = previewContext({ labels: { only: 'this' }, extra: { fn: () => 1, n: 1 } });
    expect(ctx.labels).toStrictEqual({ only: 'this' });
    expect(ctx.alert).toStrictEqual(sampleRenderContext().alert);
    expect((ctx as unknown as Record<string, unknown>).extra).toStrictEqual({ n: 1 });
  });
});

describe('lookupPath', () => {
  const root = { a: { b: 'x', empty: '', n: null }, list: [1, 2], s: 'abc' };
  it.each<[(string | number)[], boolean]>([
    [['a', 'b'], true],
    [['a', 'empty'], true],
    [['a', 'n'], false],
    [['a', 'missing'], false],
    [['a', 'b', 'deeper'], false],
    [['list', 0], true],
    [['list', 5], false],
    [['list', 'size'], true],
    [['list', 'first'], true],
    [['s', 'size'], true],
    [['toString'], false],
    [['a', 'constructor'], false],
  ])('%j found=%s', (path, found) => {
    expect(lookupPath(root, path).found).toBe(found);
  });
});
