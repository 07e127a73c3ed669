import type { ContactChannel } from '@oncall/contracts';

/** Rendered Slack message: `text` is the notification/fallback text, `blocks` Block Kit. */
export interface SlackMessage {
  text: string;
  blocks: unknown[];
}
/** Rendered Teams message: one Adaptive Card (the card object itself, not the attachment). */
export interface TeamsMessage {
  card: object;
}
export interface EmailMessage {
  subject: string;
  html: string;
  text: string;
}
export interface SmsMessage {
  body: string;
  /** Where the provider reports the message's later status (Twilio StatusCallback). */
  statusCallback?: string;
}
/** TwiML the call plays, e.g. `<Response><Say>…</Say></Response>`. */
export interface VoiceMessage {
  twiml: string;
  /** Where the provider reports the call's later status (answered, completed, busy, no-answer). */
  statusCallback?: string;
}
/** Body and headers of a webhook POST, as the renderer produced them. */
export interface WebhookMessage {
  body: string;
  headers: Record<string, string>;
}

/** The rendered content each channel takes. */
export interface ChannelMessages {
  slack: SlackMessage;
  teams: TeamsMessage;
  email: EmailMessage;
  sms: SmsMessage;
  voice: VoiceMessage;
  webhook: WebhookMessage;
}

export interface NotifyOptions {
  /** Stable per notification and channel; sent where the provider has a place for it. */
  idempotencyKey: string;
  /** Aborting ends the call with `DeliveryError{ reason: 'timeout', retryable: true }`. */
  signal?: AbortSignal;
}

export interface NotifyResult {
  /** The provider's id of what it accepted (Slack ts, Twilio SID, Message-ID), if it gives one. */
  providerMessageId: string | null;
}

/**
 * One integration: talks to its provider once per call. It does not retry, deduplicate or
 * template; every failure is a `DeliveryError` with a closed `reason` and `retryable`.
 */
export interface Notifier<C> {
  readonly channel: ContactChannel;
  notify(message: C, destination: string, opts: NotifyOptions): Promise<NotifyResult>;
  /**
   * Optional, for providers without idempotency keys: whether a message sent with
   * `idempotencyKey` to `destination` since `sinceMs` is there already (a process stopped between
   * sending it and recording it). Null when none is found; a DeliveryError when it cannot tell.
   */
  find?(destination: string, idempotencyKey: string, sinceMs: number): Promise<NotifyResult | null>;
}

/** The notifiers a dispatcher has configured, by channel. */
export type Notifiers = { [K in ContactChannel]?: Notifier<ChannelMessages[K]> };
