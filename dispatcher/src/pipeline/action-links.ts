import type { ContactChannel, Surface } from '@oncall/contracts';
import { ACTION_LINK_TTL_SECONDS, actionUrl } from '@oncall/shared';
import type { NotificationRequested } from '../domain/plan.js';

/** Where people acting from a link were paged: the surface their commands are recorded with. */
const SURFACE: Readonly<Record<ContactChannel, Surface>> = {
  email: 'email',
  sms: 'sms',
  voice: 'voice',
  slack: 'slack',
  teams: 'teams',
  webhook: 'web',
};

export type ActionLinks = Readonly<{ publicUrl: string; secret: string; ttlSeconds?: number }>;

/**
 * The signed action link of one notification on one channel: for the paged user, or view-only
 * (no user) when the step notified a Slack channel or a webhook.
 */
export function notificationActionUrl(links: ActionLinks, n: NotificationRequested, channel: ContactChannel, nowMs: number): string {
  const a = n.alert;
  return actionUrl(
    links.publicUrl,
    {
      alertId: a.alertId,
      serviceId: a.serviceId,
      fingerprint: a.fingerprint,
      userId: n.recipient.type === 'user' ? n.recipient.userId : null,
      expiresAt: Math.floor(nowMs / 1000) + (links.ttlSeconds ?? ACTION_LINK_TTL_SECONDS),
      via: SURFACE[channel],
    },
    links.secret,
  );
}
