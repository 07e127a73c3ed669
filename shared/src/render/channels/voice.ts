import type { RenderContext } from '../context.js';
import { truncate, xmlEscape } from '../escape.js';
import type { Formatted, RenderWarning } from '../types.js';

export type VoiceContent = Readonly<{
  /** The TwiML document the call plays. */
  twiml: string;
  /** What is said before the prompt (the rendered voice template or the default). */
  say: string;
}>;

export type VoiceOptions = Readonly<{
  /** Where Twilio posts the pressed digit; omitted = the call's own URL (Twilio's default). */
  gatherActionUrl?: string | null;
  /** Longest spoken text; Twilio's `<Say>` takes at most 4,096 characters. */
  maxSayChars: number;
}>;

export function defaultVoiceText(ctx: RenderContext): string {
  if (ctx.notification.kind === 'resolved') return `Resolved alert for ${ctx.service.name}. ${ctx.alert.summary}.`;
  return `This is an on-call ${ctx.alert.severity} alert for ${ctx.service.name}. ${ctx.alert.summary}.`;
}

/**
 * A TwiML call: the message, then (for pages) a one-digit `<Gather>` where 1 acknowledges (with a
 * reply code: 1 acknowledges, 2 resolves, 3 escalates), then a goodbye if nothing was pressed. Every piece of text is XML-escaped here; templates give text only.
 */
export function formatVoice(rendered: string | null, ctx: RenderContext, options: VoiceOptions): Formatted<VoiceContent> {
  const warnings: RenderWarning[] = [];
  let say = (rendered ?? defaultVoiceText(ctx)).replace(/\s+/g, ' ').trim();
  if (say.length > options.maxSayChars) {
    warnings.push({
      code: 'VOICE_TEXT_TRUNCATED',
      channel: 'voice',
      field: rendered === null ? null : 'voice',
      message: `voice text is ${say.length} characters; truncated to ${options.maxSayChars}`,
    });
    say = truncate(say, options.maxSayChars, '.');
  }
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<Response>', `  <Say>${xmlEscape(say)}</Say>`];
  if (ctx.notification.kind === 'page') {
    // A page with a reply code gathers at our voice URL, which understands all three digits.
    const url = ctx.reply?.gather_url ?? options.gatherActionUrl;
    const action = url ? ` action="${xmlEscape(url)}" method="POST"` : '';
    const prompt = ctx.reply?.gather_url ? 'Press 1 to acknowledge, 2 to resolve, 3 to escalate.' : 'Press 1 to acknowledge this alert.';
    lines.push(
      `  <Gather input="dtmf" numDigits="1" timeout="10"${action}>`,
      `    <Say>${prompt}</Say>`,
      '  </Gather>',
      '  <Say>No input received. Goodbye.</Say>',
    );
  }
  lines.push('</Response>');
  return { content: { twiml: lines.join('\n'), say }, warnings };
}
