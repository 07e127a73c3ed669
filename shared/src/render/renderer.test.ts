import { describe, expect, it } from 'vitest';
import type { TemplateChannels } from '@oncall/contracts';
import {
  benchRenders,
  CHANNELS,
  createRenderer,
  EXAMPLE_TEMPLATE,
  previewContext,
  renderNotification,
  renderPreview,
  TemplateError,
  validateTemplate,
  type Channel,
  type RenderTemplate,
} from './index.js';
import { contextWith, HOSTILE, thrown } from './testing.js';

const NO_CHANNELS: TemplateChannels = {
  slack: null,
  teams: null,
  emailSubject: null,
  emailHtml: null,
  emailText: null,
  sms: null,
  voice: null,
  webhook: null,
};

let ids = 0;
/** A fresh template id each time, so cache entries never leak between tests. */
const tpl = (channels: Partial<TemplateChannels>, variables?: RenderTemplate['variables']): RenderTemplate => ({
  templateId: `t${++ids}`,
  version: 1,
  channels: { ...NO_CHANNELS, ...channels },
  ...(variables ? { variables } : {}),
});

const codes = (ws: readonly { code: string }[]): string[] => ws.map((w) => w.code);

describe('renderNotification', () => {
  it.each(CHANNELS)('renders the built-in default for %s without a template', (channel) => {
    const r = renderNotification(null, channel, contextWith());
    expect(r.channel).toBe(channel);
    expect(r.warnings).toStrictEqual([]);
  });

  describe.each(HOSTILE)('hostile label value: %s', (_, value) => {
    const ctx = contextWith({ labels: { team: value }, summary: value });

    it('Slack output is valid JSON carrying the value (entity-escaped)', () => {
      const r = renderNotification(
        tpl({
          slack:
            '{"text": "{{ labels.team }}", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Team:* {{ labels.team }}"}}]}',
        }),
        'slack',
        ctx,
        { fallback: false },
      );
      const entities = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
      expect(r.content.text).toBe(entities);
      expect(r.content.blocks[0]).toStrictEqual({ type: 'section', text: { type: 'mrkdwn', text: `*Team:* ${entities}` } });
    });

    it('Teams output is valid JSON carrying the value exactly', () => {
      const r = renderNotification(tpl({ teams: '{"body": [{"type": "TextBlock", "text": "{{ labels.team }}"}]}' }), 'teams', ctx, {
        fallback: false,
      });
      expect(r.content.attachments[0].content.body).toStrictEqual([{ type: 'TextBlock', text: value }]);
    });

    it('the webhook body is valid JSON carrying the value exactly', () => {
      const r = renderNotification(
        tpl({ webhook: '{"team": "{{ labels.team }}", "labels": {{ labels | json }}, "s": {{ alert.summary | json }}}' }),
        'webhook',
        ctx,
        {
          fallback: false,
        },
      );
      expect(JSON.parse(r.content.body)).toStrictEqual({ team: value, labels: { team: value }, s: value });
      expect(r.content.body).not.toContain('</script>');
    });

    it('the default webhook body is valid JSON carrying the value', () => {
      expect(JSON.parse(renderNotification(null, 'webhook', ctx).content.body)).toMatchObject({ labels: { team: value } });
    });

    it('email HTML from a template is escaped, subject and text are not', () => {
      const r = renderNotification(
        tpl({ emailSubject: '{{ labels.team }}', emailHtml: '<p>{{ labels.team }}</p>', emailText: '{{ labels.team }}' }),
        'email',
        ctx,
        {
          fallback: false,
        },
      );
      expect(r.content.html).toBe(
        `<p>${value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;')}</p>`,
      );
      expect(r.content.text).toBe(value);
      expect(r.content.subject).toBe(value.replace(/\s+/g, ' ').trim());
    });
  });

  it('warns about variables missing from the context, with their position', () => {
    const r = renderNotification(
      tpl({ sms: 'Hi {{ user.name }}\n{{ labels.nope }} {{ annotations.runbook_url }} {{ alert.summary }}' }),
      'sms',
      contextWith(),
    );
    expect(r.warnings).toStrictEqual([
      { code: 'MISSING_VARIABLE', channel: 'sms', field: 'sms', message: 'labels.nope (line 2, column 4) is not in the render context' },
    ]);
    expect(r.content.text).toBe('Hi Ada Lovelace\n https://runbooks.example.com/errors?a=1&b=2 Error rate above 5%');
  });

  it('does not warn about variables declared optional', () => {
    const r = renderNotification(
      tpl({ sms: '{{ labels.nope | default: "-" }} {{ annotations.x }}' }, { required: [], optional: ['labels.nope', 'annotations'] }),
      'sms',
      contextWith(),
    );
    expect(r.warnings).toStrictEqual([]);
    expect(r.content.text).toBe('-');
  });

  it('falls back to the default on a syntax error and says where the error is', () => {
    const r = renderNotification(tpl({ sms: 'ok\n  {{ alert.summary | nosuch }}' }), 'sms', contextWith());
    expect(r.content.text).toBe(renderNotification(null, 'sms', contextWith()).content.text);
    expect(r.warnings).toStrictEqual([
      {
        code: 'TEMPLATE_FALLBACK',
        channel: 'sms',
        field: 'sms',
        message: 'sms:2:3: undefined filter: nosuch; the built-in default was used',
      },
    ]);
  });

  it('throws the TemplateError with line and column when asked not to fall back', () => {
    const err = thrown(() => renderNotification(tpl({ voice: 'a\nb {% if %}' }), 'voice', contextWith(), { fallback: false }));
    expect(err).toBeInstanceOf(TemplateError);
    expect(err).toMatchObject({ code: 'INVALID_SYNTAX', channel: 'voice', field: 'voice', line: 2 });
  });

  it('falls back per part: a broken subject does not discard the HTML template', () => {
    const r = renderNotification(tpl({ emailSubject: '{% if %}', emailHtml: '<b>{{ alert.summary }}</b>' }), 'email', contextWith());
    expect(r.content.subject).toBe('[CRITICAL] Payments API: Error rate above 5%');
    expect(r.content.html).toBe('<b>Error rate above 5%</b>');
    expect(codes(r.warnings)).toStrictEqual(['TEMPLATE_FALLBACK']);
  });

  it.each<[string, Partial<TemplateChannels>, Channel]>([
    ['a loop bomb', { sms: '{% for i in (1..1000000000) %}x{% endfor %}' }, 'sms'],
    ['a huge output', { emailHtml: '{% for i in (1..100000) %}{{ alert.details }}{{ alert.summary }}{% endfor %}' }, 'email'],
    ['a nested loop running out of time', { voice: '{% for a in (1..99999) %}{% for b in (1..99999) %}{% endfor %}{% endfor %}' }, 'voice'],
  ])('%s is stopped and the default is sent', (_, channels, channel) => {
    const t0 = performance.now();
    const r = renderNotification(tpl(channels), channel, contextWith());
    expect(performance.now() - t0).toBeLessThan(6000); // minutes if not stopped; the margin is for 2 busy cores
    expect(r.warnings).toStrictEqual([
      expect.objectContaining({ code: 'TEMPLATE_FALLBACK', message: expect.stringMatching(/limit exceeded/) as unknown }),
    ]);
  });

  it.each<[string, Partial<TemplateChannels>, Channel]>([
    ['unquoted undefined value in JSON', { webhook: '{"a": {{ nope }}}' }, 'webhook'],
    ['trailing comma', { slack: '{"blocks": [{"type": "divider"},]}' }, 'slack'],
    ['a Slack template of the wrong shape', { slack: '"just a string"' }, 'slack'],
    ['a Teams card of the wrong type', { teams: '{"type": "MessageCard", "body": []}' }, 'teams'],
    ['output that is only whitespace', { sms: '{% if false %}x{% endif %}  ' }, 'sms'],
  ])('invalid output (%s) falls back to the default', (_, channels, channel) => {
    const r = renderNotification(tpl(channels), channel, contextWith());
    expect(r.warnings.filter((w) => w.code === 'TEMPLATE_FALLBACK')).toHaveLength(1);
    expect(r.content).toStrictEqual(renderNotification(null, channel, contextWith()).content);
    expect(thrown(() => renderNotification(tpl(channels), channel, contextWith(), { fallback: false }))).toMatchObject({
      code: 'INVALID_OUTPUT',
      line: 0,
      column: 0,
    });
  });

  it('a required variable missing from the context makes the channel use its default', () => {
    const t = tpl({ sms: '{{ labels.team }} {{ alert.summary }}' }, { required: ['labels.team'], optional: [] });
    const r = renderNotification(t, 'sms', contextWith());
    expect(r.content.text).toBe(renderNotification(null, 'sms', contextWith()).content.text);
    expect(r.warnings[0]?.message).toMatch(/required variable labels.team is not in the render context/);
    expect(thrown(() => renderNotification(t, 'sms', contextWith(), { fallback: false }))).toMatchObject({ code: 'MISSING_VARIABLE' });
    expect(renderNotification(t, 'sms', contextWith({ labels: { team: 'pay' } })).content.text).toBe('pay Error rate above 5%');
  });

  it('a required variable does not matter to channels the template leaves to the default', () => {
    const t = tpl({ sms: '{{ labels.team }}' }, { required: ['labels.team'], optional: [] });
    expect(renderNotification(t, 'voice', contextWith()).warnings).toStrictEqual([]);
  });

  it('parses each template part once', () => {
    const renderer = createRenderer();
    const t = tpl({ sms: '{{ alert.summary }}' });
    for (let i = 0; i < 5; i++) renderer.renderNotification(t, 'sms', contextWith());
    expect({ misses: renderer.cache.misses, hits: renderer.cache.hits }).toStrictEqual({ misses: 1, hits: 4 });
  });

  it('takes renderer options: SMS segment cap and the voice action URL', () => {
    const renderer = createRenderer({ smsMaxSegments: 1, voiceGatherActionUrl: 'https://x/gather?a=1&b=2' });
    const sms = renderer.renderNotification(tpl({ sms: '{{ alert.summary }} ' + 'x'.repeat(200) }), 'sms', contextWith());
    expect(sms.content.segments).toBe(1);
    expect(codes(sms.warnings)).toStrictEqual(['SMS_TRUNCATED']);
    expect(renderer.renderNotification(null, 'voice', contextWith()).content.twiml).toContain('action="https://x/gather?a=1&amp;b=2"');
  });
});

describe('renderPreview', () => {
  it('shows exactly what renderNotification sends for the same data (WYSIWYG)', () => {
    const renderer = createRenderer();
    const preview = renderer.renderPreview(EXAMPLE_TEMPLATE);
    for (const channel of CHANNELS) {
      const sent = renderer.renderNotification(EXAMPLE_TEMPLATE, channel, previewContext());
      expect(preview.previews[channel]?.content).toStrictEqual(sent.content);
    }
  });

  it('gives each channel its payload as text', () => {
    const { previews } = renderPreview(EXAMPLE_TEMPLATE);
    expect(JSON.parse(previews.slack?.rendered ?? '')).toStrictEqual(previews.slack?.content);
    expect(JSON.parse(previews.teams?.rendered ?? '')).toStrictEqual(previews.teams?.content);
    expect(JSON.parse(previews.webhook?.rendered ?? '')).toMatchObject({ alert_id: previewContext().alert.id });
    expect(previews.email?.rendered).toMatch(/^<html>/);
    expect(previews.sms?.rendered).toMatch(/^\[CRITICAL\] High CPU on api-gateway/);
    expect(previews.voice?.rendered).toMatch(/^<\?xml/);
  });

  it('renders the sample data given, for the channels asked', () => {
    const r = renderPreview(tpl({ sms: '{{ labels.team }}: {{ alert.summary }}' }), { labels: { team: 'db' } }, { channels: ['sms'] });
    expect(Object.keys(r.previews)).toStrictEqual(['sms']);
    expect(r.previews.sms?.rendered).toBe('db: High CPU on api-gateway');
  });

  it('reports channel warnings and errors, and shows the fallback that would be sent', () => {
    const r = renderPreview(
      tpl({
        sms: '{{ alert.summary }} ' + 'é'.repeat(200),
        slack: '{"blocks": [{% for i in (1..60) %}{"type": "divider"}{% unless forloop.last %},{% endunless %}{% endfor %}]}',
        voice: 'oops {{ alert.summary',
      }),
    );
    expect(codes(r.previews.sms?.warnings ?? [])).toStrictEqual(['SMS_MULTI_SEGMENT']);
    expect(r.previews.sms?.content.segments).toBe(2);
    expect(codes(r.previews.slack?.warnings ?? [])).toStrictEqual(['SLACK_BLOCK_LIMIT']);
    expect(r.previews.slack?.content.blocks).toHaveLength(50);
    expect(r.previews.voice?.errors).toStrictEqual([
      { channel: 'voice', field: 'voice', code: 'INVALID_SYNTAX', line: 1, column: 6, message: 'output "{{ alert.summary" not closed' },
    ]);
    expect(r.previews.voice?.content.say).toBe('This is an on-call critical alert for API Gateway. High CPU on api-gateway.');
    expect(r.validation.valid).toBe(false);
    expect(codes(r.validation.warnings)).toStrictEqual(['SLACK_BLOCK_LIMIT', 'SMS_MULTI_SEGMENT']);
  });
});

describe('validateTemplate', () => {
  it('accepts the example template with no warnings', () => {
    expect(validateTemplate(EXAMPLE_TEMPLATE.channels, EXAMPLE_TEMPLATE.variables)).toStrictEqual({
      valid: true,
      errors: [],
      warnings: [],
    });
  });

  it('accepts no templates at all (every channel uses its default)', () => {
    expect(validateTemplate(NO_CHANNELS)).toStrictEqual({ valid: true, errors: [], warnings: [] });
  });

  it('reports every broken part with channel, line and column', () => {
    const r = validateTemplate({
      ...NO_CHANNELS,
      slack: '{\n  "blocks": [\n    {% for b in blocks %}\n  ]\n}',
      emailSubject: '[{{ alert.severity | upcase }] {{ alert.summary }}',
      emailHtml: '<p>\n\n  {{ alert.summary | frobnicate }}</p>',
      webhook: '{"a": {{ alert.nope }}}',
      sms: '{% for i in (1..100000000) %}x{% endfor %}',
    });
    expect(r.valid).toBe(false);
    expect(r.errors.map(({ channel, field, code, line, column }) => ({ channel, field, code, line, column }))).toStrictEqual([
      { channel: 'slack', field: 'slack', code: 'INVALID_SYNTAX', line: 3, column: 5 },
      { channel: 'email', field: 'emailSubject', code: 'INVALID_SYNTAX', line: 1, column: 29 },
      { channel: 'email', field: 'emailHtml', code: 'INVALID_SYNTAX', line: 3, column: 3 },
      { channel: 'sms', field: 'sms', code: 'LIMIT_EXCEEDED', line: 1, column: 1 },
      { channel: 'webhook', field: 'webhook', code: 'INVALID_OUTPUT', line: 0, column: 0 },
    ]);
    expect(r.warnings).toStrictEqual([
      {
        code: 'MISSING_VARIABLE',
        channel: 'webhook',
        field: 'webhook',
        message: 'alert.nope (line 1, column 10) is not in the render context',
      },
    ]);
  });

  it('warns about required variables no channel uses, and ones the sample lacks', () => {
    const r = validateTemplate(
      { ...NO_CHANNELS, sms: '{{ alert.summary }} {% for l in labels %}{{ l[0] }}{% endfor %}' },
      {
        required: ['alert.summary', 'labels.team', 'annotations.owner', 'user.phone', 'alert'],
      },
    );
    expect(r.valid).toBe(true);
    expect(r.warnings).toStrictEqual([
      {
        code: 'UNUSED_REQUIRED_VARIABLE',
        channel: null,
        field: null,
        message: 'required variable annotations.owner is not used by any channel',
      },
      { code: 'MISSING_VARIABLE', channel: null, field: null, message: 'required variable annotations.owner is not in the sample data' },
      { code: 'UNUSED_REQUIRED_VARIABLE', channel: null, field: null, message: 'required variable user.phone is not used by any channel' },
      { code: 'MISSING_VARIABLE', channel: null, field: null, message: 'required variable user.phone is not in the sample data' },
    ]);
    const alertOnly = validateTemplate({ ...NO_CHANNELS, sms: '{{ alert.summary }}' }, { required: ['alert.details'] });
    expect(codes(alertOnly.warnings)).toStrictEqual(['UNUSED_REQUIRED_VARIABLE']);
  });
});

describe('benchRenders', () => {
  it('measures renders per second per channel', () => {
    const results = benchRenders({ durationMs: 20, channels: ['sms', 'slack'] });
    expect(results.map((r) => r.channel)).toStrictEqual(['sms', 'slack']);
    for (const r of results) {
      expect(r.renders).toBeGreaterThan(0);
      expect(r.rendersPerSecond).toBeGreaterThan(0);
    }
  });
});
