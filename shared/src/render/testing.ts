import type { EventData } from '@oncall/contracts';
import { buildRenderContext, type RenderContext } from './context.js';

/** A NotificationRequested payload for tests, with overrides. */
export function notificationRequested(over: Partial<EventData<'NotificationRequested'>> = {}): EventData<'NotificationRequested'> {
  const alertId = '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e';
  return {
    alertId,
    serviceId: 'payments',
    notificationId: '6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    kind: 'page',
    step: 0,
    round: 0,
    page: 0,
    recipient: { type: 'user', userId: 'u-1', via: 'schedule:primary' },
    contacts: [
      { channel: 'sms', address: '+15550100' },
      { channel: 'email', address: 'ada@example.com' },
    ],
    userName: 'Ada Lovelace',
    templateId: null,
    templateVersion: null,
    priority: 'high',
    alert: {
      alertId,
      serviceId: 'payments',
      serviceName: 'Payments API',
      fingerprint: 'fp-1',
      status: 'triggered',
      summary: 'Error rate above 5%',
      details: 'p99 latency 2.3s',
      severity: 'critical',
      labels: { alertname: 'HighErrorRate', severity: 'critical', namespace: 'prod' },
      annotations: { runbook_url: 'https://runbooks.example.com/errors?a=1&b=2' },
      links: [{ href: 'https://grafana.example.com/d/x', text: 'Dashboard' }],
      source: 'alertmanager',
      triggeredAt: '2026-03-01T09:00:00.000Z',
    },
    escalation: { policyId: 'pol-1', policyName: 'Payments primary', step: 0, totalSteps: 2 },
    ...over,
  };
}

export const NOW = '2026-03-01T09:01:00.000Z';

/** A render context with alert fields, labels or annotations replaced. */
export function contextWith(
  over: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    summary?: string;
    details?: string;
    kind?: 'page' | 'resolved';
  } = {},
): RenderContext {
  const base = notificationRequested();
  return buildRenderContext(
    {
      ...base,
      kind: over.kind ?? base.kind,
      alert: {
        ...base.alert,
        summary: over.summary ?? base.alert.summary,
        details: over.details ?? base.alert.details,
        labels: over.labels ?? base.alert.labels,
        annotations: over.annotations ?? base.alert.annotations,
        status: over.kind === 'resolved' ? 'resolved' : base.alert.status,
      },
    },
    { now: NOW, publicUrl: 'https://oncall.example.com/' },
  );
}

/** The error `fn` throws (fails the test if it returns). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** Label values that break naive JSON, HTML, XML or Slack formatting. */
export const HOSTILE: readonly (readonly [string, string])[] = [
  ['double quotes', 'say "hi" and \'bye\''],
  ['backslashes', 'C:\\temp\\new\\x'],
  ['newlines and tabs', 'line1\nline2\r\n\tindented'],
  ['script end tag', '</script><script>alert(1)</script>'],
  ['unicode line separators', 'a\u2028b\u2029c'],
  ['emoji and non-latin', '🔥 ошибка 错误 ✓'],
  ['slack mention', '<!channel> <@U123> <https://evil.example|click>'],
  ['ampersands and entities', 'a & b &amp; &lt;'],
  ['liquid syntax inside a value', '{{ alert.id }} {% raw %}'],
  ['control characters', 'nul\u0000bell\u0007esc\u001b'],
  ['json injection', '", "injected": true, "x": "'],
];
