import { describe, expect, it } from 'vitest';
import { contextWith } from '../testing.js';
import { formatEmail } from './email.js';

const OPTS = { maxSubjectChars: 250 };
const NONE = { subject: null, html: null, text: null };

describe('formatEmail', () => {
  it('builds subject, HTML and text by default', () => {
    const { content, warnings } = formatEmail(NONE, contextWith(), OPTS);
    expect(content.subject).toBe('[CRITICAL] Payments API: Error rate above 5%');
    expect(content.html).toContain('<h1 style="margin:0;font-size:20px">Error rate above 5%</h1>');
    expect(content.html).toContain('<a href="https://runbooks.example.com/errors?a=1&amp;b=2"');
    expect(content.text).toContain('Error rate above 5%\n\np99 latency 2.3s\n\nService: Payments API');
    expect(warnings).toStrictEqual([]);
  });

  it('escapes hostile values in the default HTML', () => {
    const ctx = contextWith({ summary: '<img src=x onerror=alert(1)>', labels: { 'a"b': '</p><script>x</script>' } });
    const { html } = formatEmail(NONE, ctx, OPTS).content;
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('<code>a&#34;b=&lt;/p&gt;&lt;script&gt;x&lt;/script&gt;</code>');
  });

  it('shows links that are not http(s) or mailto as text', () => {
    const ctx = contextWith();
    ctx.links = [{ href: 'javascript:alert(1)', text: 'click' }];
    expect(formatEmail(NONE, ctx, OPTS).content.html).not.toContain('href="javascript');
  });

  it.each<[string, string, string]>([
    ['newlines are folded (no header injection)', 'Alert\r\nBcc: victim@example.com', 'Alert Bcc: victim@example.com'],
    ['tabs and runs of spaces become one space', '  a\t\tb   c  ', 'a b c'],
  ])('subject: %s', (_, subject, expected) => {
    expect(formatEmail({ ...NONE, subject }, contextWith(), OPTS).content.subject).toBe(expected);
  });

  it('falls back to the default subject when the template renders only whitespace', () => {
    expect(formatEmail({ ...NONE, subject: ' \n ' }, contextWith(), OPTS).content.subject).toBe(
      '[CRITICAL] Payments API: Error rate above 5%',
    );
  });

  it('caps the subject with a warning', () => {
    const { content, warnings } = formatEmail({ ...NONE, subject: 'x'.repeat(300) }, contextWith(), OPTS);
    expect(content.subject).toHaveLength(250);
    expect(content.subject.endsWith('…')).toBe(true);
    expect(warnings).toStrictEqual([expect.objectContaining({ code: 'EMAIL_SUBJECT_TRUNCATED', field: 'emailSubject' })]);
  });

  it('keeps rendered parts as they are', () => {
    const { content } = formatEmail({ subject: 's', html: '<p>h</p>', text: 't' }, contextWith(), OPTS);
    expect(content).toStrictEqual({ subject: 's', html: '<p>h</p>', text: 't' });
  });
});
