import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '@oncall/contracts';
import { slackMessagesOf } from './slack-updates.js';

const delivered = (channel: string, providerMessageId: string | null): DomainEvent =>
  ({ type: 'NotificationDelivered', data: { channel, providerMessageId } }) as unknown as DomainEvent;

describe('slackMessagesOf', () => {
  it('takes each Slack message once, split at the first slash', () => {
    expect(
      slackMessagesOf([
        delivered('slack', 'C1/1.000001'),
        delivered('email', 'abc/def'),
        delivered('slack', null),
        delivered('slack', 'C1/1.000001'),
        delivered('slack', 'D2/2.000002'),
        delivered('slack', 'no-slash'),
        { type: 'NotificationFailed', data: { channel: 'slack' } } as unknown as DomainEvent,
      ]),
    ).toStrictEqual([
      { channel: 'C1', ts: '1.000001' },
      { channel: 'D2', ts: '2.000002' },
    ]);
  });
});
