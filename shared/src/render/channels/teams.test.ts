import { describe, expect, it } from 'vitest';
import { thrown, contextWith } from '../testing.js';
import { ADAPTIVE_CARD_VERSION, formatTeams, TEAMS_MAX_BYTES, type AdaptiveCard } from './teams.js';

const ALERT_ID = '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e';
const card = (m: ReturnType<typeof formatTeams>): AdaptiveCard => m.content.attachments[0].content;
const submits = (c: AdaptiveCard): unknown[] => (c.actions ?? []).filter((a) => a.type === 'Action.Submit').map((a) => a.data);

describe('formatTeams', () => {
  it('sends an Adaptive Card 1.4 in a message with Acknowledge and Resolve', () => {
    const m = formatTeams(null, contextWith());
    expect(m.content.type).toBe('message');
    expect(m.content.summary).toBe('[CRITICAL] Payments API: Error rate above 5%');
    expect(m.content.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    const c = card(m);
    expect(c).toMatchObject({ type: 'AdaptiveCard', version: '1.4', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json' });
    expect(c.body[0]).toMatchObject({ type: 'TextBlock', text: '🚨 Error rate above 5%', weight: 'Bolder' });
    expect(submits(c)).toStrictEqual([
      { action: 'ack', alertId: ALERT_ID },
      { action: 'resolve', alertId: ALERT_ID },
    ]);
    expect((c.actions ?? []).filter((a) => a.type === 'Action.OpenUrl').map((a) => a.title)).toStrictEqual([
      'Dashboard',
      'Runbook',
      'Open alert',
    ]);
    expect(m.warnings).toStrictEqual([]);
  });

  it('has no ack/resolve when resolved', () => {
    expect(submits(card(formatTeams(null, contextWith({ kind: 'resolved' }))))).toStrictEqual([]);
  });

  it.each<[string, unknown]>([
    ['an AdaptiveCard', { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: 'x' }] }],
    ['a card without type and version', { body: [{ type: 'TextBlock', text: 'x' }] }],
    [
      'a message with the card attached',
      {
        type: 'message',
        summary: 'S',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            content: { type: 'AdaptiveCard', body: [{ type: 'TextBlock', text: 'x' }] },
          },
        ],
      },
    ],
  ])('takes %s from a template', (_, rendered) => {
    const c = card(formatTeams(rendered, contextWith()));
    expect(c.type).toBe('AdaptiveCard');
    expect(c.version).toBe(ADAPTIVE_CARD_VERSION);
    expect(c.body).toStrictEqual([{ type: 'TextBlock', text: 'x' }]);
    expect(submits(c)).toHaveLength(2);
  });

  it("keeps the template's own ack action and summary", () => {
    const own = { type: 'Action.Submit', title: 'Mine', data: { action: 'ack', alertId: ALERT_ID } };
    const m = formatTeams({ type: 'message', summary: 'Custom', attachments: [{ content: { body: [], actions: [own] } }] }, contextWith());
    expect(m.content.summary).toBe('Custom');
    expect(card(m).actions).toStrictEqual([own]);
  });

  it.each<[string, unknown]>([
    ['an array', []],
    ['a card of another type', { type: 'MessageCard', body: [] }],
    ['a card without body', { type: 'AdaptiveCard' }],
    ['actions that are not an array', { body: [], actions: {} }],
    ['a message without a card', { type: 'message', attachments: [{ contentType: 'x' }] }],
  ])('refuses %s', (_, rendered) => {
    expect(thrown(() => formatTeams(rendered, contextWith()))).toMatchObject({ code: 'INVALID_OUTPUT', channel: 'teams' });
  });

  it('warns when the message is over the Teams size limit', () => {
    const m = formatTeams({ body: [{ type: 'TextBlock', text: 'x'.repeat(TEAMS_MAX_BYTES) }] }, contextWith());
    expect(m.warnings.map((w) => w.code)).toStrictEqual(['TEAMS_SIZE_LIMIT']);
  });

  it('carries the action link as Action.OpenUrl, in the default card and a template card', () => {
    const ctx = { ...contextWith(), actionUrl: 'https://oncall.example.com/a/p.s' };
    ctx.alert = { ...ctx.alert, url: ctx.actionUrl };
    const opens = (c: AdaptiveCard) => (c.actions ?? []).filter((a) => a.type === 'Action.OpenUrl');
    const d = opens(card(formatTeams(null, ctx)));
    expect(d.filter((a) => a.url === ctx.actionUrl)).toStrictEqual([
      { type: 'Action.OpenUrl', title: 'Open (acknowledge, resolve, snooze)', url: ctx.actionUrl },
    ]);
    const t = opens(card(formatTeams({ type: 'AdaptiveCard', body: [{ type: 'TextBlock', text: 'x' }] }, ctx)));
    expect(t.map((a) => a.url)).toStrictEqual([ctx.actionUrl]);
  });
});
