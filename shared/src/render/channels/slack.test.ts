import { describe, expect, it } from 'vitest';
import { thrown, contextWith } from '../testing.js';
import { formatSlack, SLACK_ACTIONS_BLOCK_ID, SLACK_LIMITS, slackActionsBlock, type SlackActionState, type SlackBlock } from './slack.js';

const ALERT_ID = '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e';

const textOf = (b: SlackBlock | undefined): unknown => (b?.text as { text?: unknown } | undefined)?.text;

const actionIds = (blocks: readonly SlackBlock[]): unknown[] =>
  blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.elements as { action_id?: string }[]).map((e) => e.action_id));

describe('formatSlack default message', () => {
  it('has header, section, context and actions naming the alert on the command path', () => {
    const { content, warnings } = formatSlack(null, contextWith());
    expect(content.text).toBe('[CRITICAL] Payments API: Error rate above 5%');
    expect(content.blocks.map((b) => b.type)).toStrictEqual(['header', 'section', 'section', 'section', 'context', 'actions']);
    expect(content.blocks[0]).toStrictEqual({ type: 'header', text: { type: 'plain_text', text: '🚨 Error rate above 5%', emoji: true } });
    const actions = content.blocks.at(-1);
    expect(actions?.block_id).toBe(SLACK_ACTIONS_BLOCK_ID);
    const value = JSON.stringify({ a: ALERT_ID, s: 'payments', f: 'fp-1' });
    expect(actions?.elements).toStrictEqual([
      {
        type: 'button',
        action_id: 'ack',
        value,
        style: 'primary',
        text: { type: 'plain_text', text: 'Acknowledge', emoji: true },
      },
      { type: 'button', action_id: 'resolve', value, text: { type: 'plain_text', text: 'Resolve', emoji: true } },
      { type: 'button', action_id: 'escalate', value, text: { type: 'plain_text', text: 'Escalate', emoji: true } },
      expect.objectContaining({ type: 'static_select', action_id: 'snooze' }),
      expect.objectContaining({ type: 'button', action_id: 'open', url: `https://oncall.example.com/alerts/${ALERT_ID}` }),
    ]);
    const menu = (actions?.elements as { options?: { value: string }[] }[])[3];
    expect(menu?.options?.map((o) => o.value)).toStrictEqual(['snooze:900', 'snooze:3600', 'snooze:14400', 'snooze:86400']);
    expect(warnings).toStrictEqual([]);
  });

  it('names the effective severity in the text and both severities in the Severity field when they differ', () => {
    const base = contextWith();
    const boosted = { ...base, alert: { ...base.alert, severity: 'error' as const, source_severity: 'warning' as const } };
    const { content } = formatSlack(null, boosted);
    expect(content.text).toBe('[ERROR] Payments API: Error rate above 5%');
    const fields = content.blocks[1]?.fields as { text: string }[];
    expect(fields[0]?.text).toBe('*Severity:*\nerror (source: warning)');
    expect((formatSlack(null, base).content.blocks[1]?.fields as { text: string }[])[0]?.text).toBe('*Severity:*\ncritical');
  });

  it('links the dashboard and the runbook annotation, with & kept as an entity in mrkdwn', () => {
    expect(textOf(formatSlack(null, contextWith()).content.blocks[3])).toBe(
      '<https://grafana.example.com/d/x|Dashboard> · <https://runbooks.example.com/errors?a=1&b=2|Runbook>',
    );
  });

  it('has no buttons when the alert is resolved', () => {
    const { content } = formatSlack(null, contextWith({ kind: 'resolved' }));
    expect(actionIds(content.blocks)).toStrictEqual([]);
    expect(content.text).toBe('[RESOLVED] Payments API: Error rate above 5%');
  });

  it('escapes mentions and links in alert values', () => {
    const { content } = formatSlack(null, contextWith({ details: '<!channel> see <https://evil|here> & more', labels: { x: '<@U1>' } }));
    const json = JSON.stringify(content.blocks);
    expect(json).not.toMatch(/<!channel>|<@U1>|<https:\/\/evil/);
    expect(json).toContain('&lt;!channel&gt; see &lt;https://evil|here&gt; &amp; more');
  });

  it('truncates a long summary in the header to 150 characters', () => {
    const { content, warnings } = formatSlack(null, contextWith({ summary: 'x'.repeat(400) }));
    expect(textOf(content.blocks[0])).toHaveLength(SLACK_LIMITS.headerText);
    expect(warnings).toStrictEqual([expect.objectContaining({ code: 'SLACK_TEXT_TRUNCATED', field: null })]);
  });
});

describe('formatSlack from a template', () => {
  const section = (text: string): SlackBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

  it('accepts { text, blocks } and appends ack/resolve', () => {
    const { content } = formatSlack({ text: 'hi', blocks: [section('a')] }, contextWith());
    expect(content.text).toBe('hi');
    expect(content.blocks[0]).toStrictEqual(section('a'));
    expect(actionIds(content.blocks)).toStrictEqual(['ack', 'resolve', 'escalate', 'snooze', 'open']);
  });

  it('accepts a bare array of blocks and uses the default fallback text', () => {
    const { content } = formatSlack([section('a')], contextWith());
    expect(content.text).toBe('[CRITICAL] Payments API: Error rate above 5%');
  });

  it('does not add buttons the template already has', () => {
    const own: SlackBlock = {
      type: 'actions',
      elements: [{ type: 'button', action_id: 'ack', value: ALERT_ID, text: { type: 'plain_text', text: 'Ack' } }],
    };
    expect(actionIds(formatSlack({ blocks: [own] }, contextWith()).content.blocks)).toStrictEqual(['ack']);
  });

  it('decodes entities outside text fields, so button URLs keep their query strings', () => {
    const rendered = {
      blocks: [
        { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'a &amp; b' }, url: 'https://x/?a=1&amp;b=2' }] },
      ],
    };
    const el = (formatSlack(rendered, contextWith()).content.blocks[0]?.elements as Record<string, unknown>[])[0];
    expect(el).toStrictEqual({ type: 'button', text: { type: 'plain_text', text: 'a &amp; b' }, url: 'https://x/?a=1&b=2' });
  });

  it.each<[string, unknown]>([
    ['a string', 'hello'],
    ['a number', 42],
    ['blocks not an array', { blocks: {} }],
    ['a block without type', { blocks: [{ text: 'x' }] }],
    ['a non-string text', { text: 5, blocks: [section('a')] }],
    ['nothing at all', { blocks: [] }],
  ])('refuses %s', (_, rendered) => {
    expect(thrown(() => formatSlack(rendered, contextWith()))).toMatchObject({ code: 'INVALID_OUTPUT', channel: 'slack' });
  });

  it.each<[string, SlackBlock[], (blocks: SlackBlock[]) => void, string]>([
    [
      'more than 50 blocks keeps 49 and the actions',
      Array.from({ length: 60 }, (_, i) => section(`s${i}`)),
      (b) => {
        expect(b).toHaveLength(50);
        expect(b.at(-1)?.block_id).toBe(SLACK_ACTIONS_BLOCK_ID);
        expect(b.at(-2)).toStrictEqual(section('s48'));
      },
      'SLACK_BLOCK_LIMIT',
    ],
    [
      'section text over 3000 characters is cut',
      [section('y'.repeat(3500))],
      (b) => expect(textOf(b[0])).toHaveLength(3000),
      'SLACK_TEXT_TRUNCATED',
    ],
    [
      'header text over 150 characters is cut',
      [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
      (b) => expect(textOf(b[0])).toHaveLength(150),
      'SLACK_TEXT_TRUNCATED',
    ],
    [
      'more than 10 section fields keeps 10',
      [{ type: 'section', fields: Array.from({ length: 12 }, (_, i) => ({ type: 'mrkdwn', text: `f${i}` })) }],
      (b) => expect(b[0]?.fields).toHaveLength(10),
      'SLACK_BLOCK_LIMIT',
    ],
    [
      'a field over 2000 characters is cut',
      [{ type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2500) }] }],
      (b) => expect((b[0]?.fields as { text: string }[])[0]?.text).toHaveLength(2000),
      'SLACK_TEXT_TRUNCATED',
    ],
    [
      'more than 10 context elements keeps 10',
      [{ type: 'context', elements: Array.from({ length: 11 }, (_, i) => ({ type: 'mrkdwn', text: `e${i}` })) }],
      (b) => expect(b[0]?.elements).toHaveLength(10),
      'SLACK_BLOCK_LIMIT',
    ],
  ])('limit: %s', (_, blocks, check, code) => {
    const { content, warnings } = formatSlack({ blocks }, contextWith());
    check(content.blocks);
    expect(warnings.map((w) => w.code)).toStrictEqual([code]);
    expect(warnings[0]?.field).toBe('slack');
  });
});

describe('slackActionsBlock by state', () => {
  const target = { alertId: ALERT_ID, serviceId: 'payments', fingerprint: 'fp-1' };
  const ids = (state: SlackActionState, url: string | null) => actionIds([slackActionsBlock(target, state, url)].filter((b) => b !== null));
  it.each<[SlackActionState, string | null, string[]]>([
    ['triggered', null, ['ack', 'resolve', 'escalate', 'snooze']],
    ['acknowledged', null, ['resolve', 'escalate', 'snooze']],
    ['snoozed', 'https://x/a', ['ack', 'resolve', 'escalate', 'snooze', 'open']],
    ['resolved', 'https://x/a', ['open']],
    ['resolved', null, []],
  ])('%s (url %s) → %j', (state, url, expected) => {
    expect(ids(state, url)).toStrictEqual(expected);
  });

  it('keeps only Open when the value would pass Slack limit', () => {
    const block = slackActionsBlock({ ...target, fingerprint: 'f'.repeat(2000) }, 'triggered', 'https://x/a');
    expect(actionIds(block === null ? [] : [block])).toStrictEqual(['open']);
  });
});
