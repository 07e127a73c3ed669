import { createHash } from 'node:crypto';
import {
  AuthenticationHandler,
  AuthenticationHandlerOptions,
  Client,
  GraphClientError,
  GraphError,
  HTTPMessageHandler,
  TelemetryHandler,
  type AuthenticationProvider,
  type FetchOptions,
} from '@microsoft/microsoft-graph-client';
import { classifyTransportFailure, DeliveryError, httpDeliveryError, sanitizeCause } from './errors.js';
import type { Notifier, NotifyOptions, NotifyResult, TeamsMessage } from './types.js';
import type { TokenSource } from './graph-token.js';

export interface TeamsNotifierConfig {
  /**
   * A static Graph access token, or a function returning a current one; or `tokens`, an OAuth
   * client-credentials source (graph-token.ts): its token is refreshed before expiry, and a 401
   * gets one new token and one more try.
   */
  token: string | (() => Promise<string>) | TokenSource;
  /** Graph base URL, default `https://graph.microsoft.com`. Must be https: the SDK sends no token over http. */
  baseUrl?: string;
  /** Per-request timeout, default 10 s. */
  timeoutMs?: number;
  /**
   * Options merged into every fetch. Node's fetch takes an undici `dispatcher` here, which is how
   * tests trust the local fake's self-signed certificate.
   */
  fetchOptions?: Omit<FetchOptions, 'dispatcher'> & { dispatcher?: unknown };
}

/** An `AuthenticationProvider` handing the Graph SDK a token it was given. */
export function staticTokenProvider(token: string | (() => Promise<string>)): AuthenticationProvider {
  return { getAccessToken: typeof token === 'string' ? async () => token : token };
}

const SEGMENT = '[^/\\s?#%]+';
const TEAM_CHANNEL = new RegExp(`^team:(${SEGMENT})/channel:(${SEGMENT})$`);
const CHAT = new RegExp(`^${SEGMENT}$`);
const DEFAULT_GRAPH_HOSTS = new Set([
  'graph.microsoft.com',
  'graph.microsoft.us',
  'dod-graph.microsoft.us',
  'graph.microsoft.de',
  'microsoftgraph.chinacloudapi.cn',
]);

/** Graph resource path for a destination: a chat id, or `team:<teamId>/channel:<channelId>`. */
export function teamsMessagePath(destination: string): string | null {
  const channel = TEAM_CHANNEL.exec(destination);
  if (channel !== null) return `/teams/${channel[1] ?? ''}/channels/${channel[2] ?? ''}/messages`;
  if (destination.startsWith('team:')) return null;
  return CHAT.test(destination) ? `/chats/${destination}/messages` : null;
}

class TeamsNotifierImpl implements Notifier<TeamsMessage> {
  readonly channel = 'teams' as const;
  private readonly client: Client;
  private readonly timeoutMs: number;
  private readonly staticSecrets: string[] = [];
  private readonly tokens: TokenSource | null;

  private get secrets(): string[] {
    return [...this.staticSecrets, ...(this.tokens?.secrets() ?? [])];
  }

  constructor(config: TeamsNotifierConfig) {
    const baseUrl = (config.baseUrl ?? 'https://graph.microsoft.com').replace(/\/+$/, '');
    const host = new URL(baseUrl).hostname;
    const configured = config.token;
    this.tokens = typeof configured === 'object' ? configured : null;
    const token = typeof configured === 'object' ? async () => configured.get() : configured;
    if (typeof token === 'string') this.staticSecrets.push(token);
    const auth = staticTokenProvider(
      typeof token === 'string'
        ? token
        : async () => {
            const current = await token();
            if (!this.secrets.includes(current)) this.staticSecrets.push(current);
            return current;
          },
    );
    this.timeoutMs = config.timeoutMs ?? 10_000;
    this.client = Client.initWithMiddleware({
      baseUrl,
      defaultVersion: 'v1.0',
      // The SDK attaches the token only to Graph hosts and these, and only over https.
      ...(DEFAULT_GRAPH_HOSTS.has(host) ? {} : { customHosts: new Set([host]) }),
      ...(config.fetchOptions === undefined ? {} : { fetchOptions: config.fetchOptions as FetchOptions }),
      // The default chain minus RetryHandler (retries belong to the pipeline) and RedirectHandler.
      middleware: [new AuthenticationHandler(auth), new TelemetryHandler(), new HTTPMessageHandler()],
    });
  }

  async notify(message: TeamsMessage, destination: string, opts: NotifyOptions): Promise<NotifyResult> {
    const path = teamsMessagePath(destination);
    if (path === null) {
      throw new DeliveryError({ channel: 'teams', reason: 'invalid_destination', retryable: false, providerCode: 'destination_format' });
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal === undefined ? timeout : AbortSignal.any([timeout, opts.signal]);
    // Deterministic, so a retried notification posts the same attachment id.
    const attachmentId = createHash('sha256').update(opts.idempotencyKey).digest('hex').slice(0, 32);
    const chatMessage = {
      body: { contentType: 'html', content: `<attachment id="${attachmentId}"></attachment>` },
      attachments: [
        {
          id: attachmentId,
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: JSON.stringify(message.card),
          name: null,
          thumbnailUrl: null,
        },
      ],
    };
    try {
      const created = (await this.post(path, chatMessage, signal, true)) as { id?: unknown } | undefined;
      return { providerMessageId: typeof created?.id === 'string' ? created.id : null };
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      throw this.toDeliveryError(err);
    }
  }

  /**
   * One post; with client credentials the token is fetched here (so a 401 names the token it
   * refused), and a 401 drops that token and tries once more with a new one: a token revoked or
   * expired early is not a delivery failure.
   */
  private async post(path: string, body: object, signal: AbortSignal, may401Again: boolean): Promise<unknown> {
    const request = this.client.api(path).option('signal', signal);
    if (!this.tokens) return request.post(body);
    const token = await this.tokens.get();
    try {
      return await request.middlewareOptions([new AuthenticationHandlerOptions(staticTokenProvider(token))]).post(body);
    } catch (err) {
      if (!(may401Again && err instanceof GraphError && err.statusCode === 401)) throw err;
      this.tokens.invalidate(token);
      return this.post(path, body, signal, false);
    }
  }

  private toDeliveryError(err: unknown): DeliveryError {
    if (err instanceof GraphError && err.statusCode > 0) {
      return httpDeliveryError('teams', err.statusCode, err.headers?.get('retry-after') ?? null, {
        providerCode: err.code,
        cause: sanitizeCause(err, this.secrets),
      });
    }
    // No HTTP answer: the SDK reports the fetch failure as a GraphError with status -1.
    if (err instanceof GraphError) return classifyTransportFailure('teams', err, this.secrets);
    const cause = sanitizeCause(err, this.secrets);
    const reason = err instanceof GraphClientError ? 'bad_request' : 'unknown';
    return new DeliveryError({ channel: 'teams', reason, retryable: false, cause });
  }
}

/**
 * Posts an Adaptive Card to a Teams chat (`/chats/{id}/messages`) or channel
 * (`/teams/{team}/channels/{channel}/messages`) through Microsoft Graph.
 */
export function teamsNotifier(config: TeamsNotifierConfig): Notifier<TeamsMessage> {
  return new TeamsNotifierImpl(config);
}
