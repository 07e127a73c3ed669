import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import { Agent } from 'undici';
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

/** A Graph call the fake received. */
export interface GraphCall {
  kind: 'chat' | 'channel' | 'mail';
  /** `/chats/{chatId}/messages` */
  chatId?: string;
  /** `/teams/{teamId}/channels/{channelId}/messages` */
  teamId?: string;
  channelId?: string;
  /** `/users/{userId}/sendMail` */
  userId?: string;
  token: string | null;
  /** The JSON body. */
  body: unknown;
  request: RecordedRequest;
}

export interface GraphFakeOptions {
  /** Accepted access token; default `graph-fake-token`. */
  token?: string;
  /**
   * The app registration the token endpoint (`/{tenantId}/oauth2/v2.0/token`, client
   * credentials) knows; tokens it issues are accepted until `revokeIssuedTokens()`.
   */
  app?: { tenantId: string; clientId: string; clientSecret: string; expiresInSeconds?: number };
}

/** A token request the fake's token endpoint received (the secret is not kept). */
export interface TokenRequest {
  tenantId: string;
  clientId: string;
  grantType: string;
  scope: string;
  /** The access token issued, or null when the request was refused. */
  issued: string | null;
}

export interface GraphFake {
  /** `https://127.0.0.1:PORT` (the SDK appends `/v1.0`). */
  readonly baseUrl: string;
  /** Host for the SDK's `customHosts`. */
  readonly host: string;
  readonly token: string;
  /** PEM of the self-signed certificate the fake serves. */
  readonly ca: string;
  /** The same PEM in a file, for `NODE_EXTRA_CA_CERTS` of a child process. */
  readonly caFile: string;
  /**
   * A new undici Agent trusting `ca`, owned (and closed) by the caller: pass it as
   * `fetchOptions: { dispatcher }` to the Graph SDK (Node's fetch takes it), since
   * NODE_EXTRA_CA_CERTS is only read at process start.
   */
  trustingDispatcher(): Agent;
  readonly calls: Recorder<GraphCall>;
  /** Requests to the token endpoint (with `app`). */
  readonly tokenRequests: Recorder<TokenRequest>;
  /** Issued tokens stop working (as when Entra ID revokes them): the next Graph call answers 401. */
  revokeIssuedTokens(): void;
  failNext(failure: HttpFailure, times?: number): void;
  reset(): void;
  close(): Promise<void>;
}

interface Pems {
  key: string;
  cert: string;
}
let pems: Promise<Pems> | null = null;

/** One certificate per process for 127.0.0.1 and localhost (EC: generated in milliseconds). */
function certificate(): Promise<Pems> {
  pems ??= selfsigned
    .generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
      extensions: [
        { name: 'basicConstraints', cA: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    })
    .then((generated) => ({ key: generated.private, cert: generated.cert }));
  return pems;
}

const GRAPH_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'InvalidAuthenticationToken',
  403: 'Forbidden',
  404: 'NotFound',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  503: 'ServiceNotAvailable',
};

function graphError(status: number, message = 'fake Graph error'): unknown {
  return {
    error: {
      code: GRAPH_CODES[status] ?? 'UnknownError',
      message,
      innerError: { date: new Date().toISOString(), 'request-id': randomUUID(), 'client-request-id': randomUUID() },
    },
  };
}

const CHAT = /^\/v1\.0\/chats\/([^/]+)\/messages$/;
const CHANNEL = /^\/v1\.0\/teams\/([^/]+)\/channels\/([^/]+)\/messages$/;
const MAIL = /^\/v1\.0\/users\/([^/]+)\/sendMail$/;
const TOKEN = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;

/**
 * Microsoft Graph over HTTPS with a self-signed certificate (the SDK sends no token over plain
 * http): chat and channel messages (201 with an id) and `sendMail` (202, no JSON content type).
 */
export async function startGraphFake(opts: GraphFakeOptions = {}): Promise<GraphFake> {
  const token = opts.token ?? 'graph-fake-token';
  const { key, cert } = await certificate();
  const dir = await mkdtemp(join(tmpdir(), 'oncall-graph-fake-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, cert);
  const calls = new Recorder<GraphCall>();
  const tokenRequests = new Recorder<TokenRequest>();
  const issued = new Set<string>();
  const failures = new FailurePlan<HttpFailure>();

  /** Client credentials grant, as Entra ID answers it (form post in, JSON out; errors as OAuth error JSON). */
  const tokenEndpoint = (tenantId: string, body: string, res: Parameters<typeof sendJson>[0]): void => {
    const form = new URLSearchParams(body);
    const app = opts.app;
    const request = {
      tenantId,
      clientId: form.get('client_id') ?? '',
      grantType: form.get('grant_type') ?? '',
      scope: form.get('scope') ?? '',
    };
    const ok =
      app !== undefined &&
      tenantId === app.tenantId &&
      request.clientId === app.clientId &&
      form.get('client_secret') === app.clientSecret &&
      request.grantType === 'client_credentials' &&
      request.scope === 'https://graph.microsoft.com/.default';
    if (!ok) {
      tokenRequests.push({ ...request, issued: null });
      return sendJson(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
    }
    const accessToken = `graph-app-token-${tokenRequests.items.length + 1}-${randomUUID()}`;
    issued.add(accessToken);
    tokenRequests.push({ ...request, issued: accessToken });
    return sendJson(res, 200, {
      token_type: 'Bearer',
      expires_in: app.expiresInSeconds ?? 3599,
      ext_expires_in: 3599,
      access_token: accessToken,
    });
  };

  const server = await startHttpServer(
    (req, res, body) => {
      const path = decodeURI((req.url ?? '').split('?')[0] ?? '');
      const tokenPath = TOKEN.exec(path);
      if (tokenPath?.[1] !== undefined && req.method === 'POST') return tokenEndpoint(tokenPath[1], body, res);
      const chat = CHAT.exec(path);
      const channel = CHANNEL.exec(path);
      const mail = MAIL.exec(path);
      const route = chat !== null ? 'chat' : channel !== null ? 'channel' : mail !== null ? 'mail' : null;
      let parsed: unknown = null;
      try {
        parsed = body === '' ? null : (JSON.parse(body) as unknown);
      } catch {
        parsed = body;
      }
      const callToken = bearerToken(req);
      if (route !== null) {
        calls.push({
          kind: route,
          ...(chat?.[1] === undefined ? {} : { chatId: chat[1] }),
          ...(channel?.[1] === undefined || channel[2] === undefined ? {} : { teamId: channel[1], channelId: channel[2] }),
          ...(mail?.[1] === undefined ? {} : { userId: mail[1] }),
          token: callToken,
          body: parsed,
          request: recordOf(req, body),
        });
      }
      const failure = failures.take();
      if (failure !== undefined) return sendFailure(req, res, failure, (status) => graphError(status));
      if (callToken !== token && (callToken === null || !issued.has(callToken)))
        return sendJson(res, 401, graphError(401, 'Access token validation failure.'));
      if (route === null || req.method !== 'POST') return sendJson(res, 404, graphError(404, 'Resource not found'));
      if (typeof parsed !== 'object' || parsed === null) return sendJson(res, 400, graphError(400, 'Invalid JSON body'));
      if (route === 'mail') {
        res.writeHead(202, { 'content-length': '0' });
        res.end();
        return;
      }
      const id = String(Date.now()) + String(calls.items.length).padStart(4, '0');
      return sendJson(res, 201, {
        ...parsed,
        '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#${path.slice('/v1.0/'.length)}/$entity`,
        id,
        messageType: 'message',
        createdDateTime: new Date().toISOString(),
        ...(chat?.[1] === undefined ? {} : { chatId: chat[1] }),
        ...(channel === null ? {} : { channelIdentity: { teamId: channel[1], channelId: channel[2] } }),
      });
    },
    { tls: { key, cert } },
  );

  return {
    baseUrl: `https://127.0.0.1:${server.port}`,
    host: '127.0.0.1',
    token,
    ca: cert,
    caFile,
    trustingDispatcher: () => new Agent({ connect: { ca: cert } }),
    calls,
    tokenRequests,
    revokeIssuedTokens: () => issued.clear(),
    failNext: (failure, times = 1) => failures.add(failure, times),
    reset: () => {
      calls.clear();
      tokenRequests.clear();
      failures.clear();
    },
    close: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
