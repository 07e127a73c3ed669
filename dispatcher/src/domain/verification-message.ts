import type { ContactChannel } from '@oncall/contracts';
import { verificationText } from '@oncall/shared';
import type { ChannelMessages } from '../notifiers/types.js';

const escapeXml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** The verification message in the shape the channel's notifier takes (pure); null for a channel nobody reads (webhook). */
export function verificationMessage(channel: ContactChannel, code: string): ChannelMessages[ContactChannel] | null {
  const text = verificationText(code);
  switch (channel) {
    case 'sms':
      return { body: text };
    case 'voice': {
      // Digits read one by one, twice.
      const spoken = code.split('').join(', ');
      const say = `Your on-call verification code is ${spoken}. Again: ${spoken}.`;
      return { twiml: `<Response><Say>${escapeXml(say)}</Say></Response>` };
    }
    case 'email':
      return { subject: 'Your on-call verification code', text, html: `<p>${escapeXml(text)}</p>` };
    case 'slack':
      return { text, blocks: [] };
    case 'teams':
      return {
        card: {
          type: 'AdaptiveCard',
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          version: '1.4',
          body: [{ type: 'TextBlock', text, wrap: true }],
        },
      };
    case 'webhook':
      return null;
  }
}
