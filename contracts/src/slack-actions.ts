import { z } from 'zod';

/**
 * The Slack message's interactive parts, as the dispatcher renders them and ingest reads them
 * back from Slack's interaction payloads: action ids, and the button value naming the alert on
 * the command path (alert id, service, fingerprint) as compact JSON.
 */
export const SLACK_ACTION = {
  acknowledge: 'ack',
  resolve: 'resolve',
  escalate: 'escalate',
  snooze: 'snooze',
  open: 'open',
} as const;

/** Slack's limit on a button's `value`. */
export const SLACK_VALUE_MAX = 2000;

/** The snooze menu: option value `snooze:<seconds>` (an option's value is at most 150 characters). */
export const SLACK_SNOOZE_OPTIONS: readonly { label: string; seconds: number }[] = [
  { label: '15 minutes', seconds: 15 * 60 },
  { label: '1 hour', seconds: 60 * 60 },
  { label: '4 hours', seconds: 4 * 60 * 60 },
  { label: '24 hours', seconds: 24 * 60 * 60 },
];

export const SlackAlertTarget = z.object({ a: z.string().uuid(), s: z.string().min(1), f: z.string().min(1) });
export type SlackAlertTarget = Readonly<{ alertId: string; serviceId: string; fingerprint: string }>;

/** The button value for an alert, or null when it would pass Slack's limit (a huge fingerprint). */
export function encodeSlackTarget(t: SlackAlertTarget): string | null {
  const value = JSON.stringify({ a: t.alertId, s: t.serviceId, f: t.fingerprint });
  return value.length <= SLACK_VALUE_MAX ? value : null;
}

/** The alert a button value names, or null when it is not one of ours. */
export function decodeSlackTarget(value: string): SlackAlertTarget | null {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return null;
  }
  const parsed = SlackAlertTarget.safeParse(raw);
  return parsed.success ? { alertId: parsed.data.a, serviceId: parsed.data.s, fingerprint: parsed.data.f } : null;
}

export const snoozeOptionValue = (seconds: number): string => `snooze:${seconds}`;

/** Seconds of a snooze menu option, or null when it is not one of the menu's. */
export function snoozeSecondsOf(value: string): number | null {
  const m = /^snooze:(\d+)$/.exec(value);
  const seconds = m ? Number(m[1]) : NaN;
  return SLACK_SNOOZE_OPTIONS.some((o) => o.seconds === seconds) ? seconds : null;
}
