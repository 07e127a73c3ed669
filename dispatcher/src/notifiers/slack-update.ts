import { WebAPIPlatformError, WebClient, type ChatUpdateArguments } from '@slack/web-api';
import { leanFetchWith } from './request-fetch.js';
import { sdkJson, silentLogger } from './slack.js';
import type { SlackMessage } from './types.js';

/** Why an edit did not happen: `gone` (message or channel no longer there, edit not allowed) is final; `retry` is worth another go. */
export class SlackUpdateError extends Error {
  override readonly name = 'SlackUpdateError';
  constructor(
    readonly reason: 'gone' | 'retry',
    readonly providerCode: string | null,
    options?: ErrorOptions,
  ) {
    super(`chat.update failed: ${providerCode ?? 'transport'} (${reason})`, options);
  }
}

/** Edits messages the app posted (`chat.update`, scope chat:write). */
export interface SlackMessageEditor {
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
}

const GONE = new Set([
  'message_not_found',
  'channel_not_found',
  'cant_update_message',
  'edit_window_closed',
  'is_archived',
  'not_in_channel',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'invalid_blocks',
  'msg_too_long',
]);

export function slackMessageEditor(config: { token: string; apiUrl?: string; timeoutMs?: number }): SlackMessageEditor {
  const apiUrl = config.apiUrl ?? 'https://slack.com/api/';
  const client = new WebClient(config.token, {
    slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    // No queue inside the SDK (the editor runs one edit per alert at a time, and few at once).
    maxRequestConcurrency: Number.POSITIVE_INFINITY,
    timeout: config.timeoutMs ?? 10_000,
    // undici's request instead of Node's fetch, answered without a WHATWG Response (request-fetch.ts),
    // through a pool of its own: an edit never waits for a socket behind a storm's pages.
    fetch: leanFetchWith(128),
    logger: silentLogger,
    allowAbsoluteUrls: false,
  });
  return {
    async update(channel, ts, message) {
      try {
        // blocks as the JSON text the SDK would send: see sdkJson.
        await client.chat.update({ channel, ts, text: message.text, blocks: sdkJson(message.blocks) } as unknown as ChatUpdateArguments);
      } catch (err) {
        if (err instanceof WebAPIPlatformError) {
          const code = err.data.error;
          throw new SlackUpdateError(GONE.has(code) ? 'gone' : 'retry', code);
        }
        throw new SlackUpdateError('retry', null, { cause: err instanceof Error ? new Error(err.message) : undefined });
      }
    },
  };
}
