import { describe, expect, it } from 'vitest';
import { xmlEscape } from '../escape.js';
import { contextWith, HOSTILE } from '../testing.js';
import { formatVoice } from './voice.js';

const OPTS = { maxSayChars: 4000 };

/** The text of every <Say>, unescaped, after checking the document has only known elements. */
function says(twiml: string): string[] {
  expect(twiml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Response>')).toBe(true);
  const tags = [...twiml.matchAll(/<\/?([A-Za-z?]+)/g)].map((m) => m[1]);
  expect(new Set(tags)).toStrictEqual(new Set(['?xml', 'Response', 'Say', 'Gather'].filter((t) => tags.includes(t))));
  return [...twiml.matchAll(/<Say>([^<]*)<\/Say>/g)].map((m) =>
    (m[1] ?? '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&'),
  );
}

describe('formatVoice', () => {
  it('says the default message, then gathers one digit to acknowledge', () => {
    const { content, warnings } = formatVoice(null, contextWith(), OPTS);
    expect(content.twiml).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Response>',
        '  <Say>This is an on-call critical alert for Payments API. Error rate above 5%.</Say>',
        '  <Gather input="dtmf" numDigits="1" timeout="10">',
        '    <Say>Press 1 to acknowledge this alert.</Say>',
        '  </Gather>',
        '  <Say>No input received. Goodbye.</Say>',
        '</Response>',
      ].join('\n'),
    );
    expect(warnings).toStrictEqual([]);
  });

  it('has no prompt for a resolved notification', () => {
    const { content } = formatVoice(null, contextWith({ kind: 'resolved' }), OPTS);
    expect(content.twiml).not.toContain('<Gather');
    expect(says(content.twiml)).toStrictEqual(['Resolved alert for Payments API. Error rate above 5%.']);
  });

  it('posts the digit to the configured action URL, escaped', () => {
    const { content } = formatVoice(null, contextWith(), {
      ...OPTS,
      gatherActionUrl: 'https://oncall.example.com/twilio/gather?alert=1&x="y"',
    });
    expect(content.twiml).toContain('action="https://oncall.example.com/twilio/gather?alert=1&amp;x=&quot;y&quot;" method="POST"');
  });

  it.each(HOSTILE)('escapes %s in spoken text', (_, value) => {
    const { content } = formatVoice(`Alert: ${value}`, contextWith(), OPTS);
    const spoken = says(content.twiml)[0] ?? '';
    const expected = `Alert: ${value}`
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, ''); // eslint-disable-line no-control-regex
    expect(spoken).toBe(expected);
  });

  it('folds whitespace and truncates long text with a warning', () => {
    const { content, warnings } = formatVoice('word\n\n'.repeat(2000), contextWith(), { maxSayChars: 100 });
    expect(content.say.length).toBe(100);
    expect(content.say).not.toContain('\n');
    expect(warnings.map((w) => w.code)).toStrictEqual(['VOICE_TEXT_TRUNCATED']);
  });
});

describe('formatVoice with a reply code', () => {
  it("gathers at the page's own voice URL and offers all three answers", () => {
    const ctx = { ...contextWith(), reply: { code: 4, gather_url: 'https://oncall.example.com/api/v1/twilio/voice?code=4&x=1' } };
    const { twiml } = formatVoice(null, ctx, { ...OPTS, gatherActionUrl: 'https://elsewhere/' }).content;
    expect(twiml).toContain(
      '<Gather input="dtmf" numDigits="1" timeout="10" action="https://oncall.example.com/api/v1/twilio/voice?code=4&amp;x=1" method="POST">',
    );
    expect(says(twiml)).toContain('Press 1 to acknowledge, 2 to resolve, 3 to escalate.');
  });
});

describe('xmlEscape', () => {
  it.each<[string, string]>([
    ['a & b < c > d " e \' f', 'a &amp; b &lt; c &gt; d &quot; e &apos; f'],
    ['tab\tnewline\ncr\r kept', 'tab\tnewline\ncr\r kept'],
    ['nul\u0000 bell\u0007 dropped', 'nul bell dropped'],
    ['lone \uD800 surrogate dropped', 'lone  surrogate dropped'],
    ['pair 🔥 kept', 'pair 🔥 kept'],
  ])('%j', (input, output) => {
    expect(xmlEscape(input)).toBe(output);
  });
});
