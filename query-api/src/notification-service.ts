import type { DatabasePool } from 'slonik';
import { CONSUMERS } from '@oncall/contracts';
import { type notificationV1 } from '@oncall/contracts/grpc';
import type { Logger } from '@oncall/shared';
import type { AdHocNotifications } from './adapters/ad-hoc-notifications.js';
import type { ProjectionFeed } from './adapters/projection-feed.js';
import { addressOf, CHANNEL_TYPES, channelOf, ownerOf } from './domain/destinations.js';
import { toAdHocNotification } from './domain/notification-request.js';
import { isChannelName, toDeliveryStatus } from './delivery-mapping.js';
import { InvalidArgument, NotFound, Unavailable } from './errors.js';
import { serverStream, unary } from './handlers.js';
import {
  getNotification,
  notificationChanges,
  notificationMark,
  type NotificationFilter,
  type NotificationMark,
} from './read-model/notifications.js';
import { requiredUuid, uuid } from './validate.js';

const PROJECTIONS: ReadonlySet<string> = new Set([CONSUMERS.projectorEscalations, CONSUMERS.projectorDeliveries]);

/**
 * NotificationService: delivery status from `notifications` (request and per-channel outcomes);
 * ad-hoc notifications through the dispatcher's pipeline and registered destinations
 * (adapters/ad-hoc-notifications.ts).
 */
export function notificationService(
  pool: DatabasePool,
  log: Logger,
  feed: ProjectionFeed | null,
  /** Aborted when the server stops: open streams end with UNAVAILABLE. */
  stopping: AbortSignal,
  adHoc: AdHocNotifications | null = null,
): Partial<notificationV1.NotificationServiceServer> {
  const writes = (): AdHocNotifications => {
    if (!adHoc)
      throw new Unavailable('notification writes need a NATS connection and the projection feed, which this server was started without');
    return adHoc;
  };
  return {
    sendNotification: unary(log, 'SendNotification', async (req: notificationV1.SendNotificationRequest, ctx) => {
      const n = toAdHocNotification(req);
      return writes().send(n, ctx);
    }),

    /** A destination's actor is not recorded yet: the request names none (the caller's token will). */
    registerDestination: unary(log, 'RegisterDestination', async (req: notificationV1.RegisterDestinationRequest) => {
      const ownerId = ownerOf('user_id', req.userId);
      const channel = channelOf('channel', req.channel);
      const address = addressOf('channel_address', channel, req.channelAddress);
      const d = await writes().register({ ownerId, channel, address }, null);
      return { userId: d.ownerId, channel: CHANNEL_TYPES.get(d.channel) ?? 0, channelAddress: d.address };
    }),

    getDeliveryStatus: unary(log, 'GetDeliveryStatus', async (req: notificationV1.GetDeliveryStatusRequest) => {
      const id = requiredUuid('notification_id', req.notificationId);
      const channel = req.deliveryId === '' ? null : req.deliveryId;
      if (channel !== null && !isChannelName(channel))
        throw new InvalidArgument('delivery_id', 'must be a channel name (sms, voice, email, slack, teams, webhook) or empty');
      const row = await getNotification(pool, id);
      if (!row) throw new NotFound(`notification ${id} not found`);
      if (channel !== null && !row.channels[channel]) throw new NotFound(`notification ${id} has no outcome on ${channel}`);
      return toDeliveryStatus(row, channel);
    }),

    /**
     * The matching notifications as they are now (when following an alert or a notification),
     * then each one again whenever a projection commit changed it, until the client cancels.
     */
    streamDeliveryStatus: serverStream(log, 'StreamDeliveryStatus', async (req: notificationV1.StreamDeliveryStatusRequest, write, ctx) => {
      const filter: NotificationFilter = {
        notificationId: uuid('notification_id', req.notificationId, 'optional'),
        alertId: uuid('alert_id', req.alertId, 'optional'),
      };
      if (!feed) throw new Unavailable('delivery-status streams need the projection feed, which this server was started without');
      const signal = AbortSignal.any([ctx.signal, stopping]);
      let dirty = false;
      let wake: (() => void) | null = null;
      // Subscribed before the first read, so no commit after it is missed.
      const unsubscribe = feed.subscribe((projection) => {
        if (projection !== null && !PROJECTIONS.has(projection)) return;
        dirty = true;
        wake?.();
      });
      const onAbort = (): void => wake?.();
      signal.addEventListener('abort', onAbort);
      try {
        const following = filter.notificationId !== null || filter.alertId !== null;
        // Following everything starts from now; following an alert or a notification shows its current state first.
        let mark: NotificationMark | null = following ? null : await notificationMark(pool);
        ctx.sendHeaders();
        while (!signal.aborted) {
          if (mark !== null && !dirty) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = null;
            continue;
          }
          dirty = false;
          const changes = await notificationChanges(pool, filter, mark);
          for (const row of changes.rows) await write(toDeliveryStatus(row));
          mark = changes.mark;
        }
        if (stopping.aborted && !ctx.signal.aborted) throw new Unavailable('query-api is shutting down');
      } finally {
        signal.removeEventListener('abort', onAbort);
        unsubscribe();
      }
    }),
  };
}
