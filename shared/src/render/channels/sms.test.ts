import { describe, expect, it } from 'vitest';
import { contextWith } from '../testing.js';
import { countSms, formatSms, smsEncoding, truncateSms } from './sms.js';

describe('countSms', () => {
  it.each<[string, string, 'GSM-7' | 'UCS-2', number, number]>([
    ['empty', '', 'GSM-7', 0, 1],
    ['plain GSM-7', 'Server down', 'GSM-7', 11, 1],
    ['GSM-7 accents and Greek', 'èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà£¥¡', 'GSM-7', 38, 1],
    ['160 GSM-7 is one segment', 'a'.repeat(160), 'GSM-7', 160, 1],
    ['161 GSM-7 is two segments', 'a'.repeat(161), 'GSM-7', 161, 2],
    ['306 GSM-7 is two segments of 153', 'a'.repeat(306), 'GSM-7', 306, 2],
    ['307 GSM-7 is three segments', 'a'.repeat(307), 'GSM-7', 307, 3],
    ['extension characters count two septets', '€{}[]~^|\\', 'GSM-7', 18, 1],
    ['80 euro signs are 160 septets', '€'.repeat(80), 'GSM-7', 160, 1],
    ['81 euro signs are 162 septets', '€'.repeat(81), 'GSM-7', 162, 2],
    // 152 septets then an extension char: the escape pair cannot straddle segments.
    ['an extension pair is not split across segments', 'a'.repeat(152) + '€' + 'a'.repeat(10), 'GSM-7', 164, 2],
    ['an extension pair at the edge moves to the next segment', 'a'.repeat(152) + '€'.repeat(77), 'GSM-7', 306, 3],
    ['one emoji makes it UCS-2', 'ok 🔥', 'UCS-2', 5, 1],
    ['70 UCS-2 units is one segment', 'ж'.repeat(70), 'UCS-2', 70, 1],
    ['71 UCS-2 units is two segments', 'ж'.repeat(71), 'UCS-2', 71, 2],
    ['134 UCS-2 units is two segments of 67', 'ж'.repeat(134), 'UCS-2', 134, 2],
    ['135 UCS-2 units is three segments', 'ж'.repeat(135), 'UCS-2', 135, 3],
    ['a surrogate pair is not split across segments', 'ж'.repeat(66) + '🔥' + 'ж'.repeat(5), 'UCS-2', 73, 2],
    ['35 emoji are 70 units', '🔥'.repeat(35), 'UCS-2', 70, 1],
    ['lowercase c-cedilla is not GSM-7', 'ç', 'UCS-2', 1, 1],
    ['smart quotes are not GSM-7', '“quoted”', 'UCS-2', 8, 1],
  ])('%s', (_, text, encoding, units, segments) => {
    const c = countSms(text);
    expect(c.encoding).toBe(encoding);
    expect(c.units).toBe(units);
    expect(c.segments).toBe(segments);
    expect(smsEncoding(text)).toBe(encoding);
  });

  it('reports units per segment for single and concatenated messages', () => {
    expect(countSms('a').perSegment).toBe(160);
    expect(countSms('a'.repeat(200)).perSegment).toBe(153);
    expect(countSms('ж').perSegment).toBe(70);
    expect(countSms('ж'.repeat(100)).perSegment).toBe(67);
  });
});

describe('truncateSms', () => {
  it.each<[string, string, number]>([
    ['GSM-7 to one segment', 'word '.repeat(100), 1],
    ['GSM-7 to two segments', 'x'.repeat(1000), 2],
    ['UCS-2 to one segment', 'ж'.repeat(300), 1],
    ['emoji to one segment', '🔥'.repeat(100), 1],
    ['extension characters to one segment', '€'.repeat(200), 1],
  ])('%s', (_, text, max) => {
    const cut = truncateSms(text, max);
    expect(countSms(cut).segments).toBeLessThanOrEqual(max);
    expect(cut.endsWith('...')).toBe(true);
    expect(cut.length).toBeGreaterThan(max === 1 ? 50 : 250);
    expect(cut).not.toMatch(/[\uD800-\uDBFF]\.\.\.$/);
  });

  it('leaves a message that fits alone', () => {
    expect(truncateSms('short', 1)).toBe('short');
  });
});

describe('formatSms', () => {
  it('uses the default text when there is no template', () => {
    const { content, warnings } = formatSms(null, contextWith(), { maxSegments: 3 });
    expect(content.text).toBe(
      '[CRITICAL] Payments API: Error rate above 5%\nhttps://oncall.example.com/alerts/0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e',
    );
    expect(content).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(warnings).toStrictEqual([]);
  });

  it('says RESOLVED for a resolved notification', () => {
    expect(formatSms(null, contextWith({ kind: 'resolved' }), { maxSegments: 3 }).content.text).toBe(
      '[RESOLVED] Payments API: Error rate above 5%',
    );
  });

  it('warns when the message takes more than one segment', () => {
    const { content, warnings } = formatSms('a'.repeat(161), contextWith(), { maxSegments: 3 });
    expect(content.segments).toBe(2);
    expect(warnings.map((w) => w.code)).toStrictEqual(['SMS_MULTI_SEGMENT']);
  });

  it('truncates to the configured number of segments and says so', () => {
    const { content, warnings } = formatSms('🔥'.repeat(200), contextWith(), { maxSegments: 2 });
    expect(content.segments).toBe(2);
    expect(content.encoding).toBe('UCS-2');
    expect(warnings.map((w) => w.code)).toStrictEqual(['SMS_TRUNCATED', 'SMS_MULTI_SEGMENT']);
  });
});

describe('formatSms with a reply code', () => {
  const withCode = (over: Parameters<typeof contextWith>[0] = {}) => ({ ...contextWith(over), reply: { code: 4, gather_url: null } });

  it('ends a page with how to answer', () => {
    const { content } = formatSms(null, withCode(), { maxSegments: 3 });
    expect(content.text.split('\n').at(-1)).toBe('Reply 4a to acknowledge, 4c to resolve, 4e to escalate.');
  });

  it('cuts the body, never the instructions, to fit the segment cap', () => {
    const { content, warnings } = formatSms(null, withCode({ summary: 'x'.repeat(400) }), { maxSegments: 2 });
    expect(content.segments).toBeLessThanOrEqual(2);
    expect(content.text).toMatch(/x\.\.\.\nReply 4a to acknowledge, 4c to resolve, 4e to escalate\.$/);
    expect(warnings.map((w) => w.code)).toContain('SMS_TRUNCATED');
  });

  it('does not add it to a resolution notice', () => {
    expect(formatSms(null, withCode({ kind: 'resolved' }), { maxSegments: 3 }).content.text).not.toContain('Reply');
  });
});
