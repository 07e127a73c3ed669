import type { ContactChannel, EventData } from '@oncall/contracts';

export type NotificationRequested = EventData<'NotificationRequested'>;

/** One message to one address on one channel; `fallback` is tried when it fails for good. */
export type Delivery = Readonly<{
  channel: ContactChannel;
  address: string;
  /** Stable per (notification, channel): notificationId already names alert, step, page and recipient. */
  idempotencyKey: string;
  fallback: Readonly<{ channel: ContactChannel; address: string }> | null;
}>;

/**
 * Which messages a notification becomes. A channel or webhook recipient is one message. A user
 * gets one per contact method, except that a phone call is the fallback of a failed SMS when
 * the user has both (a page arrives once, not as a text and a call); resolution notices are never
 * phone calls. Pure.
 */
export function planDeliveries(n: NotificationRequested): Delivery[] {
  const key = (channel: ContactChannel) => `${n.notificationId}:${channel}`;
  switch (n.recipient.type) {
    case 'slack':
      return [{ channel: 'slack', address: n.recipient.channel, idempotencyKey: key('slack'), fallback: null }];
    case 'webhook':
      return [{ channel: 'webhook', address: n.recipient.url, idempotencyKey: key('webhook'), fallback: null }];
    case 'user':
      break;
    default: {
      const _never: never = n.recipient;
      return _never;
    }
  }
  const voice = n.contacts.find((c) => c.channel === 'voice');
  const sms = n.contacts.some((c) => c.channel === 'sms');
  const out: Delivery[] = [];
  const seen = new Set<ContactChannel>();
  for (const c of n.contacts) {
    if (seen.has(c.channel)) continue;
    seen.add(c.channel);
    if (c.channel === 'voice' && (sms || n.kind === 'resolved')) continue;
    const fallback = c.channel === 'sms' && voice && n.kind === 'page' ? { channel: voice.channel, address: voice.address } : null;
    out.push({ channel: c.channel, address: c.address, idempotencyKey: key(c.channel), fallback });
  }
  return out;
}

/** The delivery that replaces a failed one (SMS → voice), with its own idempotency key. */
export function fallbackOf(n: NotificationRequested, d: Delivery): Delivery | null {
  if (!d.fallback) return null;
  return { ...d.fallback, idempotencyKey: `${n.notificationId}:${d.fallback.channel}`, fallback: null };
}

/** What operators see of an address: phone numbers and mailboxes partly masked. */
export function maskAddress(channel: ContactChannel, address: string): string {
  switch (channel) {
    case 'sms':
    case 'voice':
      return address.length > 4 ? `${'•'.repeat(Math.max(0, address.length - 4))}${address.slice(-4)}` : address;
    case 'email': {
      const [local = '', domain = ''] = address.split('@');
      return `${local.slice(0, 1)}•••@${domain}`;
    }
    case 'webhook':
      try {
        return new URL(address).host;
      } catch {
        return 'webhook';
      }
    default:
      return address;
  }
}
