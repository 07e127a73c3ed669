import type { ContactChannel } from '@oncall/contracts';
import type { ChannelMessages } from '../notifiers/index.js';
import type { RenderedNotification } from '@oncall/shared/render';

/** What a notifier takes, from what the renderer produced for its channel. */
export function toMessage(rendered: RenderedNotification, statusCallback: string | null = null): ChannelMessages[ContactChannel] {
  const callback = statusCallback === null ? {} : { statusCallback };
  switch (rendered.channel) {
    case 'slack':
      return { text: rendered.content.text, blocks: [...rendered.content.blocks] };
    case 'teams':
      return { card: rendered.content.attachments[0].content };
    case 'email':
      return { subject: rendered.content.subject, html: rendered.content.html, text: rendered.content.text };
    case 'sms':
      return { body: rendered.content.text, ...callback };
    case 'voice':
      return { twiml: rendered.content.twiml, ...callback };
    case 'webhook':
      return { body: rendered.content.body, headers: { 'content-type': rendered.content.contentType } };
    default: {
      const _never: never = rendered;
      return _never;
    }
  }
}
