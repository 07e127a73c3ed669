import {
  bearerToken,
  FailurePlan,
  recordOf,
  Recorder,
  sendFailure,
  sendJson,
  startHttpServer,
  type HttpFailure,
  type RecordedRequest,
} from './http.js';

/** A Web API call the fake received, with form or JSON arguments decoded (`blocks` parsed). */
export interface SlackCall {
  method: string;
  /** Bearer token of the request, or the `token` argument. */
  token: string | null;
  args: Record<string, unknown>;
  request: RecordedRequest;
}

/** An HTTP failure, or Slack's usual HTTP 200 `{ ok: false, error }`. */
export type SlackFailure = HttpFailure | { platformError: string };

export interface SlackFakeOptions {
  /** Accepted bot token; other tokens get `invalid_auth`. Default `xoxb-fake-token`. */
  token?: string;
  /** When given, `chat.postMessage` to any other channel gets `channel_not_found`. */
  channels?: readonly string[];
}

export interface SlackFake {
  /** Base URL for `WebClient`'s `slackApiUrl`, ending in `/api/`. */
  readonly apiUrl: string;
  readonly token: string;
  readonly calls: Recorder<SlackCall>;
  /** What was posted to a response_url this fake handed out (`responseUrl(id)`), JSON decoded. */
  readonly responses: Recorder<{ id: string; body: Record<string, unknown> }>;
  /** A URL acting as Slack's `response_url` of an interaction. */
  responseUrl(id: string): string;
  /** The message as it stands now (after chat.update), by channel and ts. */
  message(channel: string, ts: string): { text: string; blocks: unknown } | undefined;
  /** Answer the next `times` calls with `failure`. */
  failNext(failure: SlackFailure, times?: number): void;
  reset(): void;
  close(): Promise<void>;
}

/**
 * Slack's Web API as far as notifiers use it: `POST /api/chat.postMessage` (form or JSON body),
 * Bearer token check, `{ ok: true, channel, ts }` or `{ ok: false, error }`. A user id (U…/W…)
 * as channel opens a DM, answered with a D… channel like Slack does. `conversations.history`
 * (with message metadata on `include_all_metadata`) and `conversations.open` serve the
 * notifier's lookup of a message it may have sent before a crash. `chat.update` edits a posted
 * message; `responseUrl(id)` stands in for an interaction's `response_url`.
 */
export async function startSlackFake(opts: SlackFakeOptions = {}): Promise<SlackFake> {
  const token = opts.token ?? 'xoxb-fake-token';
  const channels = opts.channels === undefined ? null : new Set(opts.channels);
  const calls = new Recorder<SlackCall>();
  const responses = new Recorder<{ id: string; body: Record<string, unknown> }>();
  const failures = new FailurePlan<SlackFailure>();
  let seq = 0;
  /** What was posted, by channel (a DM under its D… id), for conversations.history. */
  const history = new Map<string, Array<{ ts: string; text: string; metadata: unknown; blocks: unknown }>>();
  const dmOf = (user: string) => `D${user.slice(1)}`;

  const server = await startHttpServer((req, res, body) => {
    const hook = /^\/response\/([^/?]+)$/.exec(req.url ?? '');
    if (hook !== null && req.method === 'POST') {
      responses.push({ id: decodeURIComponent(hook[1] ?? ''), body: JSON.parse(body || '{}') as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const args = parseArgs(req.headers['content-type'] ?? '', body);
    const callToken = bearerToken(req) ?? (typeof args.token === 'string' ? args.token : null);
    calls.push({ method, token: callToken, args, request: recordOf(req, body) });
    const failure = failures.take();
    if (failure !== undefined) {
      if ('platformError' in failure) return sendJson(res, 200, { ok: false, error: failure.platformError });
      return sendFailure(req, res, failure, () => ({ ok: false, error: 'fatal_error' }));
    }
    if (callToken === null) return sendJson(res, 200, { ok: false, error: 'not_authed' });
    if (callToken !== token) return sendJson(res, 200, { ok: false, error: 'invalid_auth' });
    const channel = typeof args.channel === 'string' ? args.channel : '';
    if (method === 'conversations.open') {
      const users = typeof args.users === 'string' ? args.users : '';
      if (!/^[UW]\w+$/.test(users)) return sendJson(res, 200, { ok: false, error: 'user_not_found' });
      return sendJson(res, 200, { ok: true, channel: { id: dmOf(users) } });
    }
    if (method === 'conversations.history') {
      // Newest first, from `oldest` on; metadata only with include_all_metadata, as Slack does.
      const oldest = Number(args.oldest ?? 0);
      const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
      const messages = (history.get(channel) ?? [])
        .filter((m) => Number(m.ts) >= oldest)
        .reverse()
        .map((m) => ({
          type: 'message',
          ts: m.ts,
          text: m.text,
          ...(withMetadata && m.metadata !== undefined && { metadata: m.metadata }),
        }));
      if (!history.has(channel)) return sendJson(res, 200, { ok: false, error: 'channel_not_found' });
      return sendJson(res, 200, { ok: true, messages, has_more: false });
    }
    if (method === 'chat.update') {
      // Slack edits a message the app posted: message_not_found for any other ts.
      const ts = typeof args.ts === 'string' ? args.ts : '';
      const found = history.get(channel)?.find((m) => m.ts === ts);
      if (found === undefined) return sendJson(res, 200, { ok: false, error: 'message_not_found' });
      if (typeof args.text === 'string') found.text = args.text;
      if (args.blocks !== undefined) found.blocks = args.blocks;
      return sendJson(res, 200, { ok: true, channel, ts, text: found.text });
    }
    if (method !== 'chat.postMessage') return sendJson(res, 200, { ok: false, error: 'unknown_method' });
    if (channel === '' || (channels !== null && !channels.has(channel)))
      return sendJson(res, 200, { ok: false, error: 'channel_not_found' });
    if (typeof args.text !== 'string' && args.blocks === undefined) return sendJson(res, 200, { ok: false, error: 'no_text' });
    seq += 1;
    const ts = `${Math.floor(Date.now() / 1000)}.${String(seq).padStart(6, '0')}`;
    const answeredChannel = /^[UW]/.test(channel) ? dmOf(channel) : channel;
    const posted = history.get(answeredChannel) ?? [];
    posted.push({ ts, text: typeof args.text === 'string' ? args.text : '', metadata: args.metadata, blocks: args.blocks });
    history.set(answeredChannel, posted);
    return sendJson(res, 200, { ok: true, channel: answeredChannel, ts, message: { type: 'message', text: args.text, ts } });
  });

  return {
    apiUrl: `http://127.0.0.1:${server.port}/api/`,
    token,
    calls,
    responses,
    responseUrl: (id) => `http://127.0.0.1:${server.port}/response/${encodeURIComponent(id)}`,
    message: (channel, ts) => {
      const m = history.get(channel)?.find((x) => x.ts === ts);
      return m && { text: m.text, blocks: m.blocks };
    },
    failNext: (failure, times = 1) => failures.add(failure, times),
    reset: () => {
      calls.clear();
      responses.clear();
      failures.clear();
      history.clear();
    },
    close: () => server.close(),
  };
}

function parseArgs(contentType: string, body: string): Record<string, unknown> {
  const args: Record<string, unknown> = contentType.includes('application/json')
    ? (JSON.parse(body || '{}') as Record<string, unknown>)
    : Object.fromEntries(new URLSearchParams(body));
  for (const key of ['blocks', 'attachments', 'metadata']) {
    const value = args[key];
    if (typeof value === 'string') args[key] = JSON.parse(value) as unknown;
  }
  return args;
}
