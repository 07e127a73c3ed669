import type { ContactChannel, EventData } from '@oncall/contracts';
import type { ChannelMessages } from '../notifiers/types.js';

export type HandoffSummary = EventData<'HandoffSummaryRequested'>;
export type HandoffRecipient = HandoffSummary['recipients'][number];

/** Where a summary goes for one recipient: the channel and its address, or why it cannot. */
export type HandoffSend = { channel: ContactChannel; address: string; message: ChannelMessages[ContactChannel] } | { skip: string };

/** A summary is read, not listened to: a recipient whose first method is voice gets it by SMS, else e-mail. */
const READABLE_INSTEAD_OF_VOICE: readonly ContactChannel[] = ['sms', 'email'];
const SMS_LIMIT = 1500;

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The channel and address a recipient's summary goes to (pure). */
export function handoffTarget(r: HandoffRecipient): { channel: ContactChannel; address: string } | null {
  const address = (channel: ContactChannel) => r.contacts.find((c) => c.channel === channel)?.address;
  const wanted = r.channel === 'voice' ? READABLE_INSTEAD_OF_VOICE : [r.channel];
  for (const channel of wanted) {
    const to = address(channel);
    if (to) return { channel, address: to };
  }
  return null;
}

/** The message of one recipient's handoff summary, in the shape their channel's notifier takes (pure). */
export function handoffMessage(summary: HandoffSummary, r: HandoffRecipient): HandoffSend {
  const target = handoffTarget(r);
  if (target === null) return { skip: `no ${r.channel === 'voice' ? 'sms or email' : r.channel} contact method` };
  const text = summary.text[r.role];
  const title = `Handoff: ${summary.scheduleName} (${r.role === 'incoming' ? 'your shift starts' : 'your shift ends'})`;
  const messages: { [K in ContactChannel]: () => ChannelMessages[K] } = {
    slack: () => ({ text: `*${title}*\n${text}`, blocks: [] }),
    email: () => ({ subject: title, text, html: `<h2>${escapeHtml(title)}</h2><pre>${escapeHtml(text)}</pre>` }),
    sms: () => ({ body: `${title}\n${text}`.slice(0, SMS_LIMIT) }),
    voice: () => ({ twiml: '' }),
    teams: () => ({
      card: {
        type: 'AdaptiveCard',
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        version: '1.4',
        body: [
          { type: 'TextBlock', text: title, weight: 'Bolder', wrap: true },
          { type: 'TextBlock', text, wrap: true },
        ],
      },
    }),
    webhook: () => ({
      body: JSON.stringify({ type: 'handoff', role: r.role, userId: r.userId, summary }),
      headers: { 'content-type': 'application/json' },
    }),
  };
  return { ...target, message: messages[target.channel]() };
}
