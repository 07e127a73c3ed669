import { describe, expect, it } from 'vitest';
import { type TemplateChannels } from '@oncall/contracts';
import { notificationV1 } from '@oncall/contracts/grpc';
import { InvalidArgument } from './errors.js';
import { partField, toProtoChannels, toTemplateChannels } from './template-mapping.js';

const { ChannelType } = notificationV1;
const none: TemplateChannels = {
  slack: null,
  teams: null,
  emailSubject: null,
  emailHtml: null,
  emailText: null,
  sms: null,
  voice: null,
  webhook: null,
};
const entry = (
  content: string,
  metadata: Record<string, string> = {},
  channel = ChannelType.CHANNEL_UNSPECIFIED,
): notificationV1.ChannelTemplate => ({
  channel,
  content,
  format: '',
  metadata,
});

function invalidField(channels: Record<string, notificationV1.ChannelTemplate>): string {
  try {
    toTemplateChannels('channels', channels);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgument);
    return (err as InvalidArgument).field;
  }
  throw new Error('expected InvalidArgument');
}

describe('template channels on the wire', () => {
  it('maps email to three parts and back; uncustomised channels are absent', () => {
    const wire = {
      email: entry('<p>{{ alert.summary }}</p>', { subject: 'S', text: 'T' }),
      sms: entry('{{ alert.summary }}', {}, ChannelType.CHANNEL_SMS),
    };
    const parts = toTemplateChannels('channels', wire);
    expect(parts).toEqual({
      ...none,
      emailHtml: '<p>{{ alert.summary }}</p>',
      emailSubject: 'S',
      emailText: 'T',
      sms: '{{ alert.summary }}',
    });
    expect(toProtoChannels(parts)).toEqual({
      email: {
        channel: ChannelType.CHANNEL_EMAIL,
        content: '<p>{{ alert.summary }}</p>',
        format: 'html',
        metadata: { subject: 'S', text: 'T' },
      },
      sms: { channel: ChannelType.CHANNEL_SMS, content: '{{ alert.summary }}', format: 'text', metadata: {} },
    });
    expect(toProtoChannels(none)).toEqual({});
  });

  it('an email with only a subject keeps the HTML part default', () => {
    expect(toTemplateChannels('channels', { email: entry('', { subject: 'S' }) })).toEqual({ ...none, emailSubject: 'S' });
  });

  it.each<[string, Record<string, notificationV1.ChannelTemplate>, string]>([
    ['an unknown channel', { pager: entry('x') }, 'channels[pager]'],
    ['push (no notifier)', { push: entry('x') }, 'channels[push]'],
    ['a channel type that contradicts the key', { sms: entry('x', {}, ChannelType.CHANNEL_VOICE) }, 'channels[sms].channel'],
    ['an unknown email metadata key', { email: entry('x', { subjct: 'y' }) }, 'channels[email].metadata[subjct]'],
    ['metadata on another channel', { slack: entry('{}', { subject: 'y' }) }, 'channels[slack].metadata[subject]'],
  ])('rejects %s', (_, channels, field) => {
    expect(invalidField(channels)).toBe(field);
  });

  it.each([
    ['emailSubject', 'channels[email].metadata[subject]'],
    ['emailHtml', 'channels[email].content'],
    ['emailText', 'channels[email].metadata[text]'],
    ['webhook', 'channels[webhook].content'],
  ] as const)('names the request field of part %s', (part, field) => {
    expect(partField(part)).toBe(field);
  });
});
