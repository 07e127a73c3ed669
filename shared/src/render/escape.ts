/**
 * Escapers for the places a value can land: a JSON string literal, Slack text, HTML, XML. Pure
 * functions shared by the liquid engines (auto-escaping) and the built-in channel defaults.
 */

const JSON_UNSAFE = /[<>&\u2028\u2029]/g;
const jsonUnsafeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `JSON.stringify` that never returns undefined (undefined and functions become `null`) and also
 * escapes `< > &` and U+2028/2029, so the result is safe even when a payload ends up inside HTML.
 */
export function safeJson(value: unknown, indent?: number): string {
  const out = JSON.stringify(value ?? null, (_k, v: unknown) => (typeof v === 'function' || typeof v === 'symbol' ? null : v), indent);
  return (out ?? 'null').replace(JSON_UNSAFE, jsonUnsafeEscape);
}

/** What a value prints as in liquid: nil prints nothing, arrays are joined, objects become JSON. */
export function liquidText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.map(liquidText).join('');
  if (typeof value === 'object') return safeJson(value);
  return '';
}

/** The inside of a JSON string literal (no surrounding quotes): the JSON channels' auto-escape. */
export function jsonStringBody(value: unknown): string {
  return safeJson(liquidText(value)).slice(1, -1);
}

/** Slack treats only `& < >` as control characters (links, mentions like `<!channel>`). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Deep copy with every string Slack-escaped, for `json` in Slack templates. */
export function slackEscapeDeep(value: unknown): unknown {
  if (typeof value === 'string') return slackEscape(value);
  if (Array.isArray(value)) return value.map(slackEscapeDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, slackEscapeDeep(v)]));
  }
  return value;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/** The same entities liquid's `escape` filter produces, for the built-in email HTML. */
export function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** XML 1.0 forbids most C0 controls, U+FFFE/FFFF and lone surrogates, even as character references. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000;
}

/** Text content or attribute value for XML (TwiML): escapes markup and drops invalid characters. */
export function xmlEscape(text: string): string {
  let out = '';
  for (const ch of text) {
    if (!isXmlChar(ch.codePointAt(0) ?? 0)) continue;
    out += XML_ESCAPES[ch] ?? ch;
  }
  return out;
}

/** Cut to at most `max` UTF-16 units without splitting a surrogate pair, ending with `ellipsis`. */
export function truncate(text: string, max: number, ellipsis = '…'): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - ellipsis.length);
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end) + ellipsis;
}
