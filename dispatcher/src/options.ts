import type { ContactChannel } from '@oncall/contracts';
import type { BucketConfig } from './domain/limits.js';

export type DispatcherOptions = Readonly<{
  /** Attempts per delivery before NotificationFailed (and the fallback). */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** A page older than this when first tried is recorded as failed (expired), not sent. */
  staleAfterMs: number;
  /** Per destination (channel + address); critical notifications bypass it. */
  perDestination: Readonly<Partial<Record<ContactChannel, BucketConfig>>>;
  /** Per provider (channel); waits rather than bundles. */
  perProvider: Readonly<Partial<Record<ContactChannel, BucketConfig>>>;
  /** How long a rate-limited destination collects notifications into one bundled message. */
  bundleWindowMs: number;
  /** A claim not refreshed for this long belongs to a process that stopped mid-send and is taken over. */
  claimStaleMs: number;
  /** How long JetStream waits for an ack before redelivering (set when the consumer is created). */
  ackWaitMs: number;
  concurrency: number;
  /** ONCALL_PUBLIC_URL: the base of the links in every message. */
  publicUrl: string | null;
  /** ONCALL_ACTION_SECRET: signs the action link of every message (with publicUrl). */
  actionSecret: string | null;
  /** ONCALL_CONSOLE_URL: the NOC console, where every message's "Open" link points (else publicUrl). */
  consoleUrl: string | null;
  /** No provider configured for a channel: print the page on the console instead of failing it (ONCALL_CONSOLE_CHANNEL). */
  consoleChannel: boolean;
}>;

export const DEFAULT_OPTIONS: DispatcherOptions = {
  maxAttempts: 5,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  staleAfterMs: 60 * 60_000,
  perDestination: {
    sms: { capacity: 3, perMinute: 2 },
    voice: { capacity: 2, perMinute: 1 },
    email: { capacity: 10, perMinute: 20 },
    slack: { capacity: 10, perMinute: 30 },
    teams: { capacity: 10, perMinute: 30 },
  },
  perProvider: {
    slack: { capacity: 50, perMinute: 3000 },
    sms: { capacity: 50, perMinute: 3000 },
    voice: { capacity: 20, perMinute: 600 },
  },
  bundleWindowMs: 10_000,
  claimStaleMs: 15_000,
  ackWaitMs: 15_000,
  concurrency: 256,
  publicUrl: null,
  actionSecret: null,
  consoleUrl: null,
  consoleChannel: false,
};
