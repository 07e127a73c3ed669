import { describe, expect, it } from 'vitest';
import type { AlertView } from '@oncall/shared';
import { changeLine, slackStatusMessage } from './slack-status.js';

const view: AlertView = {
  alertId: '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e',
  serviceId: 'checkout',
  fingerprint: 'fp',
  summary: 'disk <full>',
  severity: 'critical',
  details: '',
  status: 'triggered',
  triggeredAt: '2026-01-01T00:00:00Z',
  snoozedUntil: null,
  lastChange: null,
};
const at = '2026-01-01T00:00:00Z';
const DATE = `<!date^1767225600^{date_short_pretty} {time}|${at}>`;
const nameOf = (id: string) => ({ u1: 'Alice' })[id] ?? id;
const actionIds = (m: ReturnType<typeof slackStatusMessage>) =>
  m.blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.elements as { action_id: string }[]).map((e) => e.action_id));

describe('changeLine', () => {
  it.each<[NonNullable<AlertView['lastChange']>, string]>([
    [{ action: 'acknowledged', userId: 'u1', via: 'sms', at, until: null, reason: null }, `Acknowledged by Alice via sms · ${DATE}`],
    [{ action: 'resolved', userId: null, via: null, at, until: null, reason: null }, `Resolved by the source · ${DATE}`],
    [{ action: 'reopened', userId: null, via: null, at, until: null, reason: 'ack-timeout' }, `Reopened via ack-timeout · ${DATE}`],
    [{ action: 'snoozed', userId: 'u9', via: 'slack', at, until: at, reason: null }, `Snoozed by u9 via slack until ${DATE} · ${DATE}`],
  ])('%j', (change, line) => {
    expect(changeLine(change, nameOf)).toBe(line);
  });
});

describe('slackStatusMessage', () => {
  it("shows the effective severity, and the source's when it differs", () => {
    const fieldsOf = (m: ReturnType<typeof slackStatusMessage>) => (m.blocks[1]?.fields as { text: string }[])[0]?.text;
    const boosted = slackStatusMessage({ ...view, severity: 'error' }, 'Checkout', nameOf, null, 'warning');
    expect(fieldsOf(boosted)).toBe('*Severity:*\nerror (source: warning)');
    expect(fieldsOf(slackStatusMessage({ ...view, severity: 'error' }, 'Checkout', nameOf, null))).toBe('*Severity:*\nerror');
  });

  it('acknowledged: who and how, no Acknowledge button', () => {
    const m = slackStatusMessage(
      {
        ...view,
        status: 'acknowledged',
        lastChange: { action: 'acknowledged', userId: 'u1', via: 'slack', at, until: null, reason: null },
      },
      'Checkout',
      nameOf,
      'https://oncall.example.com/',
    );
    expect(m.text).toBe('[ACKNOWLEDGED] Checkout: disk &lt;full&gt;');
    expect(m.blocks[0]).toStrictEqual({ type: 'header', text: { type: 'plain_text', text: '👀 disk <full>', emoji: true } });
    expect(m.blocks[2]).toStrictEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `Acknowledged by Alice via slack · ${DATE}` }],
    });
    expect(actionIds(m)).toStrictEqual(['resolve', 'escalate', 'snooze', 'open']);
  });

  it('resolved: no more buttons', () => {
    const m = slackStatusMessage(
      { ...view, status: 'resolved', lastChange: { action: 'resolved', userId: null, via: null, at, until: null, reason: null } },
      'Checkout',
      nameOf,
      null,
    );
    expect(m.text).toBe('[RESOLVED] Checkout: disk &lt;full&gt;');
    expect(actionIds(m)).toStrictEqual([]);
  });
});

describe('slackStatusMessage of an incident’s first page', () => {
  const contexts = (m: ReturnType<typeof slackStatusMessage>) =>
    m.blocks.filter((b) => b.type === 'context').map((b) => (b.elements as { text: string }[])[0]!.text);

  it.each<[number, string[]]>([
    [0, []],
    [1, []],
    [38, ['*+37 more alerts* joined this incident (not paged separately)']],
  ])('with %i alerts in the incident, says %j', (alerts, expected) => {
    expect(contexts(slackStatusMessage(view, 'Checkout', nameOf, null, view.severity, alerts))).toStrictEqual(expected);
  });
});
