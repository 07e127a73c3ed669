import type { ProviderStatus } from '@oncall/contracts';

/**
 * The Twilio callback URLs: built by the dispatcher into what it sends, read by ingest when
 * Twilio posts to them. Twilio signs the whole URL (query included), so what the query carries
 * cannot be changed without the auth token. Pure.
 */

export const TWILIO_PATHS = {
  sms: '/api/v1/twilio/sms',
  voice: '/api/v1/twilio/voice',
  status: '/api/v1/twilio/status',
} as const;

/** What a status callback is about: one delivery of one notification. */
export type StatusRef = Readonly<{
  notificationId: string;
  alertId: string;
  serviceId: string;
  fingerprint: string;
  channel: 'sms' | 'voice';
  /** The masked destination, as the delivery events show it. */
  destination: string;
}>;

const base = (publicUrl: string): string => publicUrl.replace(/\/+$/, '');

export function statusCallbackUrl(publicUrl: string, ref: StatusRef): string {
  const q = new URLSearchParams({
    n: ref.notificationId,
    a: ref.alertId,
    s: ref.serviceId,
    f: ref.fingerprint,
    c: ref.channel,
    d: ref.destination,
  });
  return `${base(publicUrl)}${TWILIO_PATHS.status}?${q.toString()}`;
}

/** The query of a status callback URL, or null when something is missing. */
export function readStatusRef(query: Readonly<Record<string, unknown>>): StatusRef | null {
  const s = (k: string): string | null => {
    const v = query[k];
    return typeof v === 'string' && v !== '' ? v : null;
  };
  const [n, a, sv, f, c, d] = [s('n'), s('a'), s('s'), s('f'), s('c'), s('d')];
  if (n === null || a === null || sv === null || f === null || d === null || (c !== 'sms' && c !== 'voice')) return null;
  return { notificationId: n, alertId: a, serviceId: sv, fingerprint: f, channel: c, destination: d };
}

/** Where a page call posts its pressed digit: the reply code, looked up by the callee's number. */
export function gatherUrl(publicUrl: string, code: number): string {
  return `${base(publicUrl)}${TWILIO_PATHS.voice}?code=${code}`;
}

/**
 * Twilio's statuses mapped onto ours; null for the ones we do not record (queued, ringing, …).
 * `in-progress` is a call that was answered.
 */
export function providerStatusOf(twilioStatus: string): ProviderStatus | null {
  switch (twilioStatus) {
    case 'sent':
    case 'delivered':
    case 'undelivered':
    case 'failed':
    case 'completed':
    case 'busy':
    case 'no-answer':
    case 'canceled':
      return twilioStatus;
    case 'in-progress':
    case 'answered':
      return 'answered';
    default:
      return null;
  }
}
