import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { combinedSignal, currentCall, withCall, type CallState } from './call-context.js';
import { classifyTransportFailure, DeliveryError, httpDeliveryError, sanitizeCause } from './errors.js';
import type { Notifier, NotifyOptions, NotifyResult, SmsMessage, VoiceMessage } from './types.js';

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  /** E.164 caller id for calls and sender for SMS. */
  from: string;
  /** Sends SMS through a Messaging Service instead of `from` when set. */
  messagingServiceSid?: string;
  /**
   * Base URL every `https://*.twilio.com` request is sent to instead (a local fake, a proxy):
   * the SDK's edge/region settings cannot point anywhere but twilio.com.
   */
  apiUrl?: string;
  /** Per-request timeout, default 10 s. */
  timeoutMs?: number;
}

const TWILIO_URL = /^https:\/\/(?:[a-z0-9-]+\.)*twilio\.com(?::\d+)?(?=\/|$)/i;

/** Rewrites a twilio.com URL onto `baseUrl`, keeping path and query. */
export function rewriteTwilioUrl(uri: string, baseUrl: string): string {
  return uri.replace(TWILIO_URL, baseUrl.replace(/\/+$/, ''));
}

/**
 * The SDK's HTTP client with three additions: twilio.com URLs go to `apiUrl` when set, the
 * caller's AbortSignal reaches axios, and the answer's status and Retry-After are recorded for
 * the call (RestException keeps neither header).
 */
class TwilioRequestClient extends twilio.RequestClient {
  constructor(
    private readonly apiUrl: string | null,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs, autoRetry: false });
    this.axios.interceptors.request.use((config) => {
      const signal = combinedSignal(config.signal as AbortSignal | undefined);
      if (signal !== undefined) config.signal = signal;
      return config;
    });
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const uri = this.apiUrl === null ? opts.uri : rewriteTwilioUrl(opts.uri, this.apiUrl);
    const response = await super.request<TData>({ ...opts, uri });
    const call = currentCall();
    if (call !== undefined) {
      const headers = response.headers as Record<string, unknown> | undefined;
      const retryAfter = headers?.['retry-after'];
      call.response = { status: response.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : null };
    }
    return response;
  }
}

/** Twilio error codes that mean the number itself is wrong or unreachable, whatever the HTTP status. */
const DESTINATION_CODES = new Set([21211, 21214, 21217, 21401, 21407, 21408, 21421, 21610, 21612, 21614, 13223, 13224]);

class TwilioChannel {
  constructor(
    private readonly client: twilio.Twilio,
    private readonly secrets: readonly string[],
  ) {}

  async send<T extends { sid: string }>(
    channel: 'sms' | 'voice',
    opts: NotifyOptions,
    create: (client: twilio.Twilio) => Promise<T>,
  ): Promise<NotifyResult> {
    const call: CallState = opts.signal === undefined ? {} : { signal: opts.signal };
    try {
      const created = await withCall(call, () => create(this.client));
      return { providerMessageId: created.sid };
    } catch (err) {
      throw this.toDeliveryError(channel, err, call);
    }
  }

  private toDeliveryError(channel: 'sms' | 'voice', err: unknown, call: CallState): DeliveryError {
    if (err instanceof twilio.RestException) {
      const cause = sanitizeCause(err, this.secrets);
      const providerCode = err.code === undefined ? null : String(err.code);
      if (err.code !== undefined && DESTINATION_CODES.has(err.code)) {
        return new DeliveryError({ channel, reason: 'invalid_destination', retryable: false, status: err.status, providerCode, cause });
      }
      return httpDeliveryError(channel, err.status, call.response?.retryAfter ?? null, { providerCode, cause });
    }
    // axios failed before any answer (connection refused, reset, timeout, abort).
    if (isAxiosError(err)) return classifyTransportFailure(channel, err, this.secrets);
    return new DeliveryError({ channel, reason: 'unknown', retryable: false, cause: sanitizeCause(err, this.secrets) });
  }
}

function isAxiosError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { isAxiosError?: unknown }).isAxiosError === true;
}

class TwilioSmsNotifierImpl implements Notifier<SmsMessage> {
  readonly channel = 'sms' as const;
  constructor(
    private readonly twilioChannel: TwilioChannel,
    private readonly config: TwilioConfig,
  ) {}

  notify(message: SmsMessage, destination: string, opts: NotifyOptions): Promise<NotifyResult> {
    const sender =
      this.config.messagingServiceSid === undefined ? { from: this.config.from } : { messagingServiceSid: this.config.messagingServiceSid };
    return this.twilioChannel.send('sms', opts, (client) =>
      client.messages.create({
        to: destination,
        body: message.body,
        ...sender,
        ...(message.statusCallback === undefined ? {} : { statusCallback: message.statusCallback }),
      }),
    );
  }
}

class TwilioVoiceNotifierImpl implements Notifier<VoiceMessage> {
  readonly channel = 'voice' as const;
  constructor(
    private readonly twilioChannel: TwilioChannel,
    private readonly config: TwilioConfig,
  ) {}

  notify(message: VoiceMessage, destination: string, opts: NotifyOptions): Promise<NotifyResult> {
    return this.twilioChannel.send('voice', opts, (client) =>
      client.calls.create({
        to: destination,
        from: this.config.from,
        twiml: message.twiml,
        ...(message.statusCallback === undefined
          ? {}
          : { statusCallback: message.statusCallback, statusCallbackEvent: ['answered', 'completed'], statusCallbackMethod: 'POST' }),
      }),
    );
  }
}

/**
 * SMS (`messages.create`) and voice (`calls.create` with inline TwiML) through one Twilio
 * client. Twilio's REST API takes no idempotency key: the pipeline's dedup stage is the guard.
 */
export function twilioNotifiers(config: TwilioConfig): { sms: Notifier<SmsMessage>; voice: Notifier<VoiceMessage> } {
  const httpClient = new TwilioRequestClient(config.apiUrl ?? null, config.timeoutMs ?? 10_000);
  const client = twilio(config.accountSid, config.authToken, { httpClient, autoRetry: false, logLevel: 'info' });
  const basic = Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64');
  const shared = new TwilioChannel(client, [config.authToken, basic]);
  return { sms: new TwilioSmsNotifierImpl(shared, config), voice: new TwilioVoiceNotifierImpl(shared, config) };
}
