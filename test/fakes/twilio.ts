import { randomBytes } from 'node:crypto';
import { FailurePlan, recordOf, Recorder, sendFailure, sendJson, startHttpServer, type HttpFailure, type RecordedRequest } from './http.js';

/** A Messages.json or Calls.json request the fake received. */
export interface TwilioCall {
  kind: 'message' | 'call';
  /** Account SID from the URL path. */
  accountSid: string;
  /** Basic auth user and password, or null without Basic auth. */
  auth: { user: string; password: string } | null;
  /** The form body (`To`, `From`, `Body`, `Twiml`, …). */
  params: Record<string, string>;
  request: RecordedRequest;
}

export interface TwilioFakeOptions {
  accountSid?: string;
  authToken?: string;
}

/** An HTTP failure; without a body the fake answers Twilio's `{ code, message, more_info, status }` with `code` (default by status). */
export type TwilioFailure = HttpFailure | { status: number; code: number; headers?: Record<string, string> };

export interface TwilioFake {
  /** Base URL to send `https://api.twilio.com` requests to. */
  readonly baseUrl: string;
  readonly accountSid: string;
  readonly authToken: string;
  readonly calls: Recorder<TwilioCall>;
  failNext(failure: TwilioFailure, times?: number): void;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_CODES: Record<number, number> = { 400: 21201, 401: 20003, 403: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503 };
const E164 = /^\+[1-9]\d{1,14}$/;
const ROUTE = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/;

function twilioError(status: number, code: number, message: string): unknown {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/**
 * The Twilio REST API as far as notifiers use it: `POST /2010-04-01/Accounts/{sid}/Messages.json`
 * and `/Calls.json` with Basic auth (account SID and auth token) and a form body, answering 201
 * with a `SM…`/`CA…` SID, or Twilio's error JSON (20003 bad credentials, 21211 invalid To, …).
 */
export async function startTwilioFake(opts: TwilioFakeOptions = {}): Promise<TwilioFake> {
  const accountSid = opts.accountSid ?? `AC${'0'.repeat(32)}`;
  const authToken = opts.authToken ?? 'twilio-fake-auth-token';
  const calls = new Recorder<TwilioCall>();
  const failures = new FailurePlan<TwilioFailure>();

  const server = await startHttpServer((req, res, body) => {
    const route = ROUTE.exec((req.url ?? '').split('?')[0] ?? '');
    const auth = basicAuth(req.headers.authorization);
    const params = Object.fromEntries(new URLSearchParams(body));
    if (route !== null && req.method === 'POST') {
      calls.push({
        kind: route[2] === 'Messages' ? 'message' : 'call',
        accountSid: route[1] ?? '',
        auth,
        params,
        request: recordOf(req, body),
      });
    }
    const failure = failures.take();
    if (failure !== undefined) {
      if ('code' in failure) {
        return sendJson(res, failure.status, twilioError(failure.status, failure.code, 'injected failure'), failure.headers);
      }
      return sendFailure(req, res, failure, (status) => twilioError(status, DEFAULT_CODES[status] ?? 20500, 'injected failure'));
    }
    if (auth === null || auth.user !== accountSid || auth.password !== authToken) {
      return sendJson(res, 401, twilioError(401, 20003, 'Authenticate'), { 'www-authenticate': 'Basic realm="Twilio API"' });
    }
    if (route === null || req.method !== 'POST') return sendJson(res, 404, twilioError(404, 20404, 'The requested resource was not found'));
    if (route[1] !== accountSid) return sendJson(res, 403, twilioError(403, 20003, 'Permission denied'));
    const to = params.To ?? '';
    if (to === '') return sendJson(res, 400, twilioError(400, 21604, "A 'To' phone number is required."));
    if (!E164.test(to)) return sendJson(res, 400, twilioError(400, 21211, "The 'To' number is not a valid phone number."));
    const now = new Date().toUTCString();
    if (route[2] === 'Messages') {
      if (params.From === undefined && params.MessagingServiceSid === undefined) {
        return sendJson(res, 400, twilioError(400, 21603, "The 'From' phone number is required."));
      }
      if ((params.Body ?? '') === '') return sendJson(res, 400, twilioError(400, 21602, 'Message body is required.'));
      const sid = `SM${randomBytes(16).toString('hex')}`;
      return sendJson(res, 201, {
        sid,
        account_sid: accountSid,
        to,
        from: params.From ?? null,
        messaging_service_sid: params.MessagingServiceSid ?? null,
        body: params.Body,
        status: 'queued',
        num_segments: '1',
        direction: 'outbound-api',
        api_version: '2010-04-01',
        date_created: now,
        date_updated: now,
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
      });
    }
    if (params.From === undefined) return sendJson(res, 400, twilioError(400, 21213, 'Caller phone number is required.'));
    if (params.Twiml === undefined && params.Url === undefined)
      return sendJson(res, 400, twilioError(400, 21205, 'Url parameter is required.'));
    const sid = `CA${randomBytes(16).toString('hex')}`;
    return sendJson(res, 201, {
      sid,
      account_sid: accountSid,
      to,
      from: params.From,
      status: 'queued',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: now,
      date_updated: now,
      uri: `/2010-04-01/Accounts/${accountSid}/Calls/${sid}.json`,
    });
  });

  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    accountSid,
    authToken,
    calls,
    failNext: (failure, times = 1) => failures.add(failure, times),
    reset: () => {
      calls.clear();
      failures.clear();
    },
    close: () => server.close(),
  };
}

function basicAuth(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (match?.[1] === undefined) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
