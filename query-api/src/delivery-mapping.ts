import { notificationV1 } from '@oncall/contracts/grpc';
import type { ChannelOutcomeRow, NotificationRow } from './read-model/notifications.js';

const { ChannelType, DeliveryState } = notificationV1;

const CHANNEL: Readonly<Record<string, notificationV1.ChannelType>> = {
  slack: ChannelType.CHANNEL_SLACK,
  teams: ChannelType.CHANNEL_TEAMS,
  email: ChannelType.CHANNEL_EMAIL,
  sms: ChannelType.CHANNEL_SMS,
  voice: ChannelType.CHANNEL_VOICE,
  webhook: ChannelType.CHANNEL_WEBHOOK,
};
const channelType = (name: string | null): notificationV1.ChannelType =>
  name === null ? ChannelType.CHANNEL_UNSPECIFIED : (CHANNEL[name] ?? ChannelType.CHANNEL_UNSPECIFIED);

export const isChannelName = (name: string): boolean => Object.hasOwn(CHANNEL, name);

/**
 * A notification's state: delivered on any channel is final; failed only when a failure had no
 * channel to fall back to; in between, pending until the first outcome and retrying after a
 * failure that moved on to a fallback channel.
 */
export function notificationState(r: Pick<NotificationRow, 'status' | 'outcomes'>): notificationV1.DeliveryState {
  switch (r.status) {
    case 'delivered':
      return DeliveryState.DELIVERY_STATE_DELIVERED;
    case 'failed':
      return DeliveryState.DELIVERY_STATE_FAILED;
    case 'requested':
      return r.outcomes === 0 ? DeliveryState.DELIVERY_STATE_PENDING : DeliveryState.DELIVERY_STATE_RETRYING;
    default: {
      const _never: never = r.status;
      return _never;
    }
  }
}

function toChannelOutcome(channel: string, o: ChannelOutcomeRow): notificationV1.ChannelOutcome {
  const base = { channel: channelType(channel), destination: o.destination, attempts: o.attempts, at: new Date(o.at) };
  if (o.status === 'delivered') {
    return {
      ...base,
      state: DeliveryState.DELIVERY_STATE_DELIVERED,
      providerMessageId: o.providerMessageId ?? '',
      failureReason: '',
      retryable: false,
      error: '',
      fallback: ChannelType.CHANNEL_UNSPECIFIED,
    };
  }
  return {
    ...base,
    state: DeliveryState.DELIVERY_STATE_FAILED,
    providerMessageId: '',
    failureReason: o.reason,
    retryable: o.retryable,
    error: o.error,
    fallback: channelType(o.fallback),
  };
}

/**
 * The status of a notification, or of one of its channels when `channel` is given (the caller
 * checks that the channel has an outcome). Channels are listed in the order they were tried.
 */
export function toDeliveryStatus(r: NotificationRow, channel: string | null = null): notificationV1.DeliveryStatus {
  const entries = Object.entries(r.channels)
    .filter(([name]) => channel === null || name === channel)
    .sort(([, a], [, b]) => Date.parse(a.at) - Date.parse(b.at));
  const channels = entries.map(([name, o]) => toChannelOutcome(name, o));
  const delivered = entries.find(([, o]) => o.status === 'delivered');
  const lastFailure = entries.filter(([, o]) => o.status === 'failed').at(-1);
  const shown = channel === null ? (delivered ?? entries.at(-1)) : entries[0];
  const recipient = r.recipient;
  const state =
    channel === null
      ? notificationState(r)
      : shown?.[1].status === 'delivered'
        ? DeliveryState.DELIVERY_STATE_DELIVERED
        : DeliveryState.DELIVERY_STATE_FAILED;
  return {
    notificationId: r.notification_id,
    deliveryId: channel ?? '',
    destination: {
      userId: recipient?.type === 'user' ? recipient.userId : '',
      channel: shown
        ? channelType(shown[0])
        : recipient?.type === 'slack'
          ? ChannelType.CHANNEL_SLACK
          : recipient?.type === 'webhook'
            ? ChannelType.CHANNEL_WEBHOOK
            : ChannelType.CHANNEL_UNSPECIFIED,
      channelAddress: shown ? shown[1].destination : recipient?.type === 'slack' ? recipient.channel : '',
    },
    state,
    attempts: entries.reduce((n, [, o]) => n + o.attempts, 0),
    providerMessageId: delivered?.[1].status === 'delivered' ? (delivered[1].providerMessageId ?? '') : '',
    failureReason: state === DeliveryState.DELIVERY_STATE_DELIVERED || lastFailure?.[1].status !== 'failed' ? '' : lastFailure[1].reason,
    updatedAt: new Date(channel !== null && shown ? Date.parse(shown[1].at) : (r.last_outcome_at ?? r.requested_at ?? 0)),
    alertId: r.alert_id,
    templateVersion: r.template_version ?? 0,
    channels,
    kind: r.kind ?? '',
    requestedAt: r.requested_at === null ? undefined : new Date(r.requested_at),
  };
}
