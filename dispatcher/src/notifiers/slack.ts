import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  LogLevel,
  type ChatPostMessageArguments,
  type FetchFunction,
  type Logger as SlackLogger,
} from '@slack/web-api';
import { leanFetch } from './request-fetch.js';
import { combinedSignal, currentCall, withCall, type CallState } from './call-context.js';
import { classifyTransportFailure, DeliveryError, httpDeliveryError, sanitizeCause, type DeliveryReason } from './errors.js';
import type { Notifier, NotifyOptions, NotifyResult, SlackMessage } from './types.js';

export interface SlackNotifierConfig {
  /** Bot token (`xoxb-…`) with `chat:write`; `im:write` is not needed to post to a user id. */
  token: string;
  /** Web API base URL, default `https://slack.com/api/`; a trailing slash is added if missing. */
  apiUrl?: string;
  /** Per-request timeout, default 10 s. */
  timeoutMs?: number;
  /** Transport override (proxies, tests); default `leanFetch` (fetch semantics over undici's request, a plain answer object). */
  fetch?: FetchFunction;
}

/**
 * Slack Web API platform errors (HTTP 200, `ok: false`) that are not simply "unknown".
 * https://api.slack.com/methods/chat.postMessage#errors
 */
const PLATFORM_ERRORS: Readonly<Record<string, { reason: DeliveryReason; retryable: boolean }>> = {
  ratelimited: { reason: 'rate_limited', retryable: true },
  rate_limited: { reason: 'rate_limited', retryable: true },
  message_limit_exceeded: { reason: 'rate_limited', retryable: true },
  not_authed: { reason: 'unauthorized', retryable: false },
  invalid_auth: { reason: 'unauthorized', retryable: false },
  account_inactive: { reason: 'unauthorized', retryable: false },
  token_revoked: { reason: 'unauthorized', retryable: false },
  token_expired: { reason: 'unauthorized', retryable: false },
  no_permission: { reason: 'unauthorized', retryable: false },
  missing_scope: { reason: 'unauthorized', retryable: false },
  not_allowed_token_type: { reason: 'unauthorized', retryable: false },
  access_denied: { reason: 'unauthorized', retryable: false },
  ekm_access_denied: { reason: 'unauthorized', retryable: false },
  team_access_not_granted: { reason: 'unauthorized', retryable: false },
  restricted_action: { reason: 'unauthorized', retryable: false },
  restricted_action_read_only_channel: { reason: 'unauthorized', retryable: false },
  restricted_action_thread_only_channel: { reason: 'unauthorized', retryable: false },
  channel_not_found: { reason: 'invalid_destination', retryable: false },
  not_in_channel: { reason: 'invalid_destination', retryable: false },
  is_archived: { reason: 'invalid_destination', retryable: false },
  user_not_found: { reason: 'invalid_destination', retryable: false },
  cannot_dm_bot: { reason: 'invalid_destination', retryable: false },
  messages_tab_disabled: { reason: 'invalid_destination', retryable: false },
  msg_too_long: { reason: 'bad_request', retryable: false },
  no_text: { reason: 'bad_request', retryable: false },
  invalid_blocks: { reason: 'bad_request', retryable: false },
  invalid_blocks_format: { reason: 'bad_request', retryable: false },
  too_many_attachments: { reason: 'bad_request', retryable: false },
  invalid_arguments: { reason: 'bad_request', retryable: false },
  invalid_arg_name: { reason: 'bad_request', retryable: false },
  invalid_array_arg: { reason: 'bad_request', retryable: false },
  invalid_charset: { reason: 'bad_request', retryable: false },
  invalid_form_data: { reason: 'bad_request', retryable: false },
  invalid_post_type: { reason: 'bad_request', retryable: false },
  missing_post_type: { reason: 'bad_request', retryable: false },
  invalid_json: { reason: 'bad_request', retryable: false },
  json_not_object: { reason: 'bad_request', retryable: false },
  internal_error: { reason: 'provider_unavailable', retryable: true },
  fatal_error: { reason: 'provider_unavailable', retryable: true },
  service_unavailable: { reason: 'provider_unavailable', retryable: true },
  team_added_to_org: { reason: 'provider_unavailable', retryable: true },
  request_timeout: { reason: 'timeout', retryable: true },
};

/** Message metadata event type of our notifications (their idempotency key is its payload). */
const METADATA_EVENT = 'oncall_notification';
/** The idempotency key in a message's metadata payload. */
const keyOf = (payload: unknown): unknown =>
  typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).idempotency_key : undefined;
/** Pages of 200 messages `find` reads back at most. */
const FIND_PAGES = 5;

/**
 * An object argument of a Web API call as the JSON text the SDK would send for it. The SDK
 * form-encodes every object argument as `JSON.stringify(value)` and passes strings through, so the
 * request is the same; but before that it logs the body at debug level whatever the logger's
 * level (`JSON.stringify(redact(body))`, redact copying every nested object), which for a page's
 * blocks cost more CPU than the request itself. A string is not walked.
 */
export const sdkJson = (value: unknown): string => JSON.stringify(value);

/** The SDK logs request failures and missing-fallback warnings on the console; the pipeline logs instead. */
export const silentLogger: SlackLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

class SlackNotifierImpl implements Notifier<SlackMessage> {
  readonly channel = 'slack' as const;
  private readonly client: WebClient;
  private readonly secrets: readonly string[];

  constructor(config: SlackNotifierConfig) {
    const apiUrl = config.apiUrl ?? 'https://slack.com/api/';
    const fetchImpl: FetchFunction = config.fetch ?? leanFetch;
    // The SDK takes no per-call signal and its rate-limit error keeps only integer seconds: this
    // fetch joins the caller's signal and records the answer for the call in progress.
    const contextFetch: FetchFunction = async (url, init) => {
      const signal = combinedSignal(init?.signal);
      const response = await fetchImpl(url, { ...init, signal });
      const call = currentCall();
      if (call !== undefined) call.response = { status: response.status, retryAfter: response.headers.get('retry-after') };
      return response;
    };
    this.secrets = [config.token];
    this.client = new WebClient(config.token, {
      slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
      // Retries and rate-limit waits belong to the pipeline's retry stage.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      // No queue inside the SDK: a queued call would run in another call's context.
      maxRequestConcurrency: Number.POSITIVE_INFINITY,
      timeout: config.timeoutMs ?? 10_000,
      fetch: contextFetch,
      logger: silentLogger,
      allowAbsoluteUrls: false,
    });
  }

  async notify(message: SlackMessage, destination: string, opts: NotifyOptions): Promise<NotifyResult> {
    const call: CallState = opts.signal === undefined ? {} : { signal: opts.signal };
    const args = {
      channel: destination,
      text: message.text,
      ...(message.blocks.length > 0 ? { blocks: sdkJson(message.blocks) } : {}),
      // Slack takes no idempotency key; the message carries ours, so `find` can tell it was sent.
      metadata: sdkJson({ event_type: METADATA_EVENT, event_payload: { idempotency_key: opts.idempotencyKey } }),
    } as unknown as ChatPostMessageArguments;
    try {
      const result = await withCall(call, () => this.client.chat.postMessage(args));
      const ts = result.ts ?? null;
      return { providerMessageId: ts === null ? null : `${result.channel ?? destination}/${ts}` };
    } catch (err) {
      throw this.toDeliveryError(err, call);
    }
  }

  /**
   * Looks for a message with our idempotency key in the destination's history since `sinceMs`
   * (`conversations.history` with metadata: scopes channels:history, groups:history, im:history).
   * Where the app may not read the history, it cannot tell: null, and the page goes out again.
   */
  async find(destination: string, idempotencyKey: string, sinceMs: number): Promise<NotifyResult | null> {
    const call: CallState = {};
    try {
      return await withCall(call, async () => {
        const channel = /^[UW]/.test(destination)
          ? ((await this.client.conversations.open({ users: destination })).channel?.id ?? destination)
          : destination;
        let cursor: string | undefined;
        for (let page = 0; page < FIND_PAGES; page++) {
          const history = await this.client.conversations.history({
            channel,
            oldest: (sinceMs / 1000).toFixed(6),
            include_all_metadata: true,
            limit: 200,
            ...(cursor !== undefined && { cursor }),
          });
          for (const m of history.messages ?? []) {
            if (m.metadata?.event_type === METADATA_EVENT && keyOf(m.metadata.event_payload) === idempotencyKey && m.ts) {
              return { providerMessageId: `${channel}/${m.ts}` };
            }
          }
          cursor = history.response_metadata?.next_cursor || undefined;
          if (!history.has_more || cursor === undefined) break;
        }
        return null;
      });
    } catch (err) {
      if (err instanceof WebAPIPlatformError) return null;
      throw this.toDeliveryError(err, call);
    }
  }

  private toDeliveryError(err: unknown, call: CallState): DeliveryError {
    const cause = sanitizeCause(err, this.secrets);
    if (err instanceof WebAPIPlatformError) {
      const code = err.data.error;
      const known = PLATFORM_ERRORS[code] ?? { reason: 'unknown', retryable: false };
      return new DeliveryError({ channel: 'slack', ...known, providerCode: code, cause });
    }
    if (err instanceof WebAPIRateLimitedError) {
      return httpDeliveryError('slack', 429, call.response?.retryAfter ?? String(err.retryAfter), { cause });
    }
    if (err instanceof WebAPIHTTPError) {
      return httpDeliveryError('slack', err.statusCode, err.headers['retry-after'] ?? null, { cause });
    }
    if (err instanceof WebAPIRequestError) return classifyTransportFailure('slack', err.original, this.secrets);
    // A 429 whose Retry-After is an HTTP date: the SDK gives up on it with a plain Error.
    if (call.response !== undefined && call.response.status !== 200) {
      return httpDeliveryError('slack', call.response.status, call.response.retryAfter, { cause });
    }
    return new DeliveryError({ channel: 'slack', reason: 'unknown', retryable: false, cause });
  }
}

/** Posts with `chat.postMessage` to a channel id or a user id (a DM from the app). */
export function slackNotifier(config: SlackNotifierConfig): Notifier<SlackMessage> {
  return new SlackNotifierImpl(config);
}
