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
  const failures = new FailurePlan<HttpFailure>();

  const server = await startHttpServer(
    (req, res, body) => {
      const path = decodeURI((req.url ?? '').split('?')[0] ?? '');
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
      if (callToken !== token) return sendJson(res, 401, graphError(401, 'Access token validation failure.'));
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
    failNext: (failure, times = 1) => failures.add(failure, times),
    reset: () => {
      calls.clear();
      failures.clear();
    },
    close: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
