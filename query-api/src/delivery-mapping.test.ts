import { describe, expect, it } from 'vitest';
import { notificationV1 } from '@oncall/contracts/grpc';
import { notificationState, toDeliveryStatus } from './delivery-mapping.js';
import type { NotificationRow } from './read-model/notifications.js';

const { DeliveryState, ChannelType } = notificationV1;

const row = (r: Partial<NotificationRow>): NotificationRow => ({
  notification_id: 'n1',
  alert_id: 'a1',
  service_id: 's1',
  kind: 'page',
  recipient: { type: 'user', userId: 'alice' },
  template_version: 3,
  requested_at: Date.parse('2026-11-23T10:00:00Z'),
  request_seq: 1,
  status: 'requested',
  channels: {},
  outcomes: 0,
  last_outcome_at: null,
  delivery_seq: null,
  ...r,
});

const smsFailed = {
  status: 'failed',
  destination: '+49•••678',
  attempts: 3,
  at: '2026-11-23T10:00:10Z',
  reason: 'provider_unavailable',
  retryable: true,
  error: 'HTTP 503',
  fallback: 'voice',
} as const;
const voiceDelivered = {
  status: 'delivered',
  destination: '+49•••678',
  attempts: 1,
  at: '2026-11-23T10:00:20Z',
  providerMessageId: 'CA1',
} as const;

describe('delivery state', () => {
  it.each<[NotificationRow['status'], number, notificationV1.DeliveryState]>([
    ['requested', 0, DeliveryState.DELIVERY_STATE_PENDING],
    ['requested', 1, DeliveryState.DELIVERY_STATE_RETRYING],
    ['delivered', 2, DeliveryState.DELIVERY_STATE_DELIVERED],
    ['failed', 1, DeliveryState.DELIVERY_STATE_FAILED],
  ])('%s after %i outcomes → %s', (status, outcomes, state) => {
    expect(notificationState({ status, outcomes })).toBe(state);
  });

  it('a delivery after a failed channel: delivered, with both channels in the order tried', () => {
    const s = toDeliveryStatus(
      row({
        status: 'delivered',
        outcomes: 2,
        channels: { voice: voiceDelivered, sms: smsFailed },
        last_outcome_at: Date.parse(voiceDelivered.at),
      }),
    );
    expect(s).toMatchObject({
      state: DeliveryState.DELIVERY_STATE_DELIVERED,
      attempts: 4,
      providerMessageId: 'CA1',
      failureReason: '',
      destination: { userId: 'alice', channel: ChannelType.CHANNEL_VOICE, channelAddress: '+49•••678' },
      templateVersion: 3,
      updatedAt: new Date(voiceDelivered.at),
    });
    expect(s.channels.map((c) => [c.channel, c.state, c.fallback])).toEqual([
      [ChannelType.CHANNEL_SMS, DeliveryState.DELIVERY_STATE_FAILED, ChannelType.CHANNEL_VOICE],
      [ChannelType.CHANNEL_VOICE, DeliveryState.DELIVERY_STATE_DELIVERED, ChannelType.CHANNEL_UNSPECIFIED],
    ]);
  });

  it('one channel on its own', () => {
    const s = toDeliveryStatus(row({ status: 'delivered', outcomes: 2, channels: { voice: voiceDelivered, sms: smsFailed } }), 'sms');
    expect(s).toMatchObject({
      deliveryId: 'sms',
      state: DeliveryState.DELIVERY_STATE_FAILED,
      attempts: 3,
      failureReason: 'provider_unavailable',
      updatedAt: new Date(smsFailed.at),
    });
  });

  it('a Slack channel recipient before any outcome', () => {
    expect(toDeliveryStatus(row({ recipient: { type: 'slack', channel: '#ops' } })).destination).toEqual({
      userId: '',
      channel: ChannelType.CHANNEL_SLACK,
      channelAddress: '#ops',
    });
  });
});
