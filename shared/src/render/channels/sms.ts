import { replyInstructions } from '@oncall/shared';
import type { RenderContext } from '../context.js';
import type { Formatted, RenderWarning } from '../types.js';

/** GSM 03.38 default alphabet: one septet each. */
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
/** GSM 03.38 extension table: an escape plus the character, two septets each. */
const GSM7_EXTENSION = new Set('\f^{}\\[~]|€');

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export type SmsCount = Readonly<{
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
  /** Units one segment holds at this length: 160/70 alone, 153/67 in a concatenated message. */
  perSegment: number;
}>;

const SINGLE = { 'GSM-7': 160, 'UCS-2': 70 } as const;
const MULTI = { 'GSM-7': 153, 'UCS-2': 67 } as const;

export function smsEncoding(text: string): SmsEncoding {
  for (const ch of text) if (!GSM7_BASIC.has(ch) && !GSM7_EXTENSION.has(ch)) return 'UCS-2';
  return 'GSM-7';
}

/** Cost of each character: an extension character or a surrogate pair cannot be split across segments. */
function costs(text: string, encoding: SmsEncoding): number[] {
  const out: number[] = [];
  for (const ch of text) out.push(encoding === 'GSM-7' ? (GSM7_EXTENSION.has(ch) ? 2 : 1) : ch.length);
  return out;
}

function countSegments(cs: readonly number[], per: number): number {
  let segments = 1;
  let fill = 0;
  for (const c of cs) {
    if (fill + c > per) {
      segments += 1;
      fill = 0;
    }
    fill += c;
  }
  return segments;
}

/** Encoding, length and segment count of an SMS body. */
export function countSms(text: string): SmsCount {
  const encoding = smsEncoding(text);
  const cs = costs(text, encoding);
  const units = cs.reduce((a, b) => a + b, 0);
  if (units <= SINGLE[encoding]) return { encoding, units, segments: 1, perSegment: SINGLE[encoding] };
  return { encoding, units, segments: countSegments(cs, MULTI[encoding]), perSegment: MULTI[encoding] };
}

const ELLIPSIS = '...';

/** Cut `text` so it fits in `maxSegments`, ending with "..." (GSM-7, so the encoding never changes). */
export function truncateSms(text: string, maxSegments: number): string {
  if (countSms(text).segments <= maxSegments) return text;
  const chars = Array.from(text);
  // Binary search on the number of characters kept: segments grow monotonically with length.
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (countSms(chars.slice(0, mid).join('').trimEnd() + ELLIPSIS).segments <= maxSegments) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('').trimEnd() + ELLIPSIS;
}

/** `text` cut so that it and `tail` fit in `maxSegments`; with no room left the tail alone. */
function fitSms(text: string, tail: string, maxSegments: number): string {
  if (tail === '') return truncateSms(text, maxSegments);
  const chars = Array.from(text);
  let lo = 0;
  let hi = chars.length;
  const fits = (n: number): boolean => countSms(chars.slice(0, n).join('').trimEnd() + ELLIPSIS + tail).segments <= maxSegments;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? '' : chars.slice(0, lo).join('').trimEnd() + ELLIPSIS;
}

export type SmsContent = Readonly<{ text: string } & SmsCount>;

export type SmsOptions = Readonly<{ maxSegments: number }>;

export function defaultSmsText(ctx: RenderContext): string {
  const head = ctx.notification.kind === 'resolved' ? 'RESOLVED' : ctx.alert.severity.toUpperCase();
  const parts = [`[${head}] ${ctx.service.name}: ${ctx.alert.summary}`];
  if (ctx.notification.kind === 'page' && ctx.alert.url) parts.push(ctx.alert.url);
  return parts.join('\n');
}

/** The SMS body: the rendered template (or the default), trimmed, counted and capped. */
export function formatSms(rendered: string | null, ctx: RenderContext, options: SmsOptions): Formatted<SmsContent> {
  const warnings: RenderWarning[] = [];
  // A page with a reply code ends with how to answer; the body is cut to leave room for it.
  const tail = ctx.reply && ctx.notification.kind === 'page' ? `\n${replyInstructions(ctx.reply.code)}` : '';
  let text = (rendered ?? defaultSmsText(ctx)).trim();
  const before = countSms(text + tail);
  if (before.segments > options.maxSegments) {
    text = fitSms(text, tail, options.maxSegments);
    warnings.push({
      code: 'SMS_TRUNCATED',
      channel: 'sms',
      field: rendered === null ? null : 'sms',
      message: `SMS needs ${before.segments} segments (${before.units} ${before.encoding} units); truncated to ${options.maxSegments}`,
    });
  }
  text = text === '' ? tail.trimStart() : text + tail;
  const count = countSms(text);
  if (count.segments > 1) {
    warnings.push({
      code: 'SMS_MULTI_SEGMENT',
      channel: 'sms',
      field: rendered === null ? null : 'sms',
      message: `SMS is ${count.segments} segments (${count.units} ${count.encoding} units, ${count.perSegment} per segment)`,
    });
  }
  return { content: { text, ...count }, warnings };
}
