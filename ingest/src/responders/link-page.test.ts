import { describe, expect, it } from 'vitest';
import type { ActionLink, AlertView } from '@oncall/shared';
import { alertPage, answerPage, esc, problemPage } from './link-page.js';

const view: AlertView = {
  alertId: 'a1',
  serviceId: 'checkout',
  fingerprint: 'fp',
  summary: 'Disk <full> & "hot"',
  details: "it's <script>alert(1)</script>",
  severity: 'critical',
  status: 'triggered',
  triggeredAt: '2026-02-03T10:00:00Z',
  snoozedUntil: null,
  lastChange: null,
};
const link: ActionLink = {
  alertId: 'a1',
  serviceId: 'checkout',
  fingerprint: 'fp',
  userId: 'alice',
  expiresAt: 1_770_000_000,
  via: 'email',
};
const buttons = (html: string): string[] => [...html.matchAll(/name="command" value="(\w+)"/g)].map((m) => m[1] ?? '');

describe('the action page', () => {
  it('escapes every text and loads nothing from anywhere', () => {
    const html = alertPage(view, { ...link, userId: '<b>alice</b>' });
    expect(html).not.toMatch(/<script|<b>|<full>/);
    expect(html).toContain(esc(view.summary));
    expect(html).toContain('&#60;b&#62;alice&#60;/b&#62;');
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
  });

  it.each<[string, Partial<AlertView>, Partial<ActionLink>, string[]]>([
    ['triggered: every action', {}, {}, ['acknowledge', 'resolve', 'escalate', 'snooze']],
    ['acknowledged: no Acknowledge', { status: 'acknowledged' }, {}, ['resolve', 'escalate', 'snooze']],
    ['resolved: nothing to do', { status: 'resolved' }, {}, []],
    ['a channel link: view only', {}, { userId: null }, []],
  ])('%s', (_name, v, l, expected) => {
    expect(buttons(alertPage({ ...view, ...v }, { ...link, ...l }))).toStrictEqual(expected);
  });

  it('every form posts (no action runs on GET)', () => {
    const html = alertPage(view, link);
    expect(html.match(/<form /g)?.length).toBe(4);
    expect(html.match(/<form method="post">/g)?.length).toBe(4);
  });

  it('answer and problem pages escape too', () => {
    expect(answerPage('Done <now>', view)).toContain('Done &#60;now&#62;');
    expect(problemPage('<x>', '<y>')).not.toMatch(/<x>|<y>/);
  });
});
