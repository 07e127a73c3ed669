import { randomUUID } from 'node:crypto';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import {
  CONSUMERS,
  decodeEvent,
  encodeEvent,
  makeEvent,
  partitionOf,
  stableUuid,
  STREAMS,
  subjects,
  type ContactChannel,
  type ContactMethod,
} from '@oncall/contracts';
import { notificationV1 } from '@oncall/contracts/grpc';
import { toDeliveryStatus } from '../delivery-mapping.js';
import { CHANNEL_TYPES } from '../domain/destinations.js';
import { adHocRequest, type AdHocNotification } from '../domain/notification-request.js';
import { DeadlineExceeded, FailedPrecondition, NotFound, Unavailable } from '../errors.js';
import type { CallContext } from '../handlers.js';
import { getNotification, type NotificationRow } from '../read-model/notifications.js';
import { getTemplateVersion } from '../read-model/templates.js';
import type { WriteDeps } from './write-deps.js';

export type AdHocNotificationsDeps = WriteDeps;

/** A destination as registered (DestinationRegistered): where an owner receives a channel. */
export type RegisteredDestination = Readonly<{ ownerId: string; channel: ContactChannel; address: string }>;

/**
 * SendNotification and RegisterDestination. A notification is a NotificationRequested on the
 * ESCALATIONS stream, which the dispatcher already sends through its pipeline (render, rate
 * limits, retries, idempotency per notification and channel); the answer waits until
 * `projector-escalations-v1` shows it, so GetDeliveryStatus sees it at once. Destinations are
 * configuration events on `config.destination.<owner>.<channel>`, read back from their subject.
 */
export class AdHocNotifications {
  private readonly js: JetStreamClient;
  private jsm: JetStreamManager | undefined;

  constructor(private readonly deps: AdHocNotificationsDeps) {
    this.js = jetstream(deps.nc);
  }

  async send(n: AdHocNotification, ctx: CallContext): Promise<notificationV1.SendNotificationResponse> {
    const { pool, now } = this.deps;
    const notificationId = n.requestId === null ? randomUUID() : stableUuid(`query-api:send-notification:${n.requestId}`);
    const templateVersion = await this.templateVersion(n);
    const contacts: ContactMethod[] = [];
    for (const d of n.destinations) {
      const address = d.address ?? (await this.registered(d.ownerId, d.channel))?.address;
      if (address === undefined) throw new NotFound(`${d.field}: no destination registered for ${d.ownerId} on ${d.channel}`);
      contacts.push({ channel: d.channel, address });
    }
    const owners = [...new Set(n.destinations.map((d) => d.ownerId).filter((o) => o !== ''))];
    const answer = (row: NotificationRow) =>
      response(
        row,
        contacts,
        n.destinations.map((d) => d.ownerId),
      );

    // A retry of a request already taken (also after the stream's duplicate window).
    const existing = n.requestId === null ? null : await getNotification(pool, notificationId);
    if (existing) return answer(existing);

    const at = new Date(now()).toISOString();
    const data = adHocRequest(n, {
      notificationId,
      contacts,
      recipientId: owners.length === 1 ? owners[0]! : '',
      templateVersion,
      now: at,
    });
    const id = stableUuid(`query-api:notification-requested:${notificationId}`);
    const event = makeEvent('NotificationRequested', data, { id, occurredAt: at, causationId: null, correlationId: notificationId });
    const subject = subjects.escalation(partitionOf(data.serviceId, notificationId, this.deps.partitions), notificationId);
    let seq: number;
    try {
      seq = (await this.js.publish(subject, encodeEvent(event), { msgID: id })).seq;
    } catch (cause) {
      throw new Unavailable('the escalations stream did not accept the notification', { cause });
    }
    const timeout = AbortSignal.timeout(Math.max(0, Math.min(this.deps.timeoutMs, (ctx.deadline ?? Infinity) - now())));
    try {
      await this.deps.feed.waitFor(CONSUMERS.projectorEscalations, seq, AbortSignal.any([ctx.signal, timeout]));
    } catch (err) {
      if (timeout.aborted && !ctx.signal.aborted)
        throw new DeadlineExceeded(`notification ${notificationId} was accepted but is not visible yet; it will be sent`, { cause: err });
      throw err;
    }
    const row = await getNotification(pool, notificationId);
    if (!row) throw new NotFound(`notification ${notificationId} not found`);
    return answer(row);
  }

  /** The version the dispatcher renders with (null: the built-in default); NOT_FOUND for an unknown template or version. */
  private async templateVersion(n: AdHocNotification): Promise<number | null> {
    if (n.templateId === null) return null;
    const row = await getTemplateVersion(this.deps.pool, n.templateId, n.templateVersion);
    if (!row) throw new NotFound(`template ${n.templateId}${n.templateVersion === 0 ? '' : ` version ${n.templateVersion}`} not found`);
    return row.version;
  }

  /**
   * Registers (or replaces) a destination. Registering what is already registered appends
   * nothing; two registrations at once are ordered by the subject's last sequence.
   */
  async register(d: RegisteredDestination, registeredBy: string | null): Promise<RegisteredDestination> {
    const subject = subjects.destination(d.ownerId, d.channel);
    for (let attempt = 0; attempt < 3; attempt++) {
      const last = await this.last(subject);
      if (last?.address === d.address) return d;
      const id = stableUuid(`query-api:destination:${subject}:${last?.seq ?? 0}:${d.address}`);
      const event = makeEvent(
        'DestinationRegistered',
        { ownerId: d.ownerId, channel: d.channel, address: d.address, registeredBy },
        { id, occurredAt: new Date(this.deps.now()).toISOString(), causationId: null, correlationId: id },
      );
      try {
        await this.js.publish(subject, encodeEvent(event), { msgID: id, expect: { lastSubjectSequence: last?.seq ?? 0 } });
        return d;
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) continue; // another registration came first
        throw new Unavailable('the configuration stream did not accept the destination', { cause: err });
      }
    }
    throw new FailedPrecondition(`destination ${d.ownerId}/${d.channel} is being changed by others at the same time; try again`);
  }

  /** The destination registered for an owner and channel, or null. */
  async registered(ownerId: string, channel: ContactChannel): Promise<RegisteredDestination | null> {
    const last = await this.last(subjects.destination(ownerId, channel));
    return last && { ownerId, channel, address: last.address };
  }

  private async last(subject: string): Promise<{ seq: number; address: string } | null> {
    const jsm = (this.jsm ??= await jetstreamManager(this.deps.nc));
    try {
      const m = await jsm.direct.getMessage(STREAMS.config, { last_by_subj: subject });
      if (!m) return null;
      const e = decodeEvent(m.data);
      return e.type === 'DestinationRegistered' ? { seq: m.seq, address: e.data.address } : null;
    } catch (cause) {
      throw new Unavailable('the configuration stream could not be read', { cause });
    }
  }
}

/** The notification and one status per destination: its channel's outcome, or PENDING before one. */
function response(
  row: NotificationRow,
  contacts: readonly ContactMethod[],
  owners: readonly string[],
): notificationV1.SendNotificationResponse {
  const all = toDeliveryStatus(row);
  return {
    notificationId: row.notification_id,
    deliveries: contacts.map((c, i) =>
      row.channels[c.channel]
        ? toDeliveryStatus(row, c.channel)
        : {
            ...all,
            deliveryId: c.channel,
            destination: { userId: owners[i] ?? '', channel: CHANNEL_TYPES.get(c.channel) ?? 0, channelAddress: c.address },
            state: notificationV1.DeliveryState.DELIVERY_STATE_PENDING,
            attempts: 0,
            providerMessageId: '',
            failureReason: '',
            channels: [],
          },
    ),
  };
}
