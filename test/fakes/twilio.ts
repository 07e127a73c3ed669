import { createHmac, randomBytes } from 'node:crypto';
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

/** What our server answered a request the fake posted to it. */
export interface InboundAnswer {
  status: number;
  contentType: string | null;
  body: string;
}

/** How the fake signs what it posts: as Twilio does, not at all, or with a wrong signature. */
export type Signing = 'twilio' | 'none' | 'forged';

export interface TwilioFake {
  /** Base URL to send `https://api.twilio.com` requests to. */
  readonly baseUrl: string;
  /** The fake's own phone number (the `From` of our messages, the `To` of replies). */
  readonly number: string;
  /**
   * Posts a form to one of our webhook URLs as Twilio does: `application/x-www-form-urlencoded`,
   * `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, url + each param name and value, names sorted)).
   */
  post(url: string, params: Record<string, string>, signing?: Signing): Promise<InboundAnswer>;
  /** An inbound SMS from `from` to the fake's number, posted to `url` (the Messaging webhook). */
  sms(url: string, from: string, body: string, signing?: Signing): Promise<InboundAnswer>;
  /** The digit pressed on `call` (a Calls.json request): posted to its TwiML's `<Gather action>`. */
  press(call: TwilioCall, digits: string, signing?: Signing): Promise<InboundAnswer>;
  /** A status callback of a message or call the fake accepted, posted to its `StatusCallback`. */
  report(call: TwilioCall, status: string, extra?: Record<string, string>): Promise<InboundAnswer>;
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
  const number = '+15005550006';
  /** The SID the fake answered each accepted request with, by the request. */
  const sids = new WeakMap<TwilioCall, string>();
  let current: TwilioCall | undefined;
  const failures = new FailurePlan<TwilioFailure>();

  const server = await startHttpServer((req, res, body) => {
    const route = ROUTE.exec((req.url ?? '').split('?')[0] ?? '');
    const auth = basicAuth(req.headers.authorization);
    const params = Object.fromEntries(new URLSearchParams(body));
    current = undefined;
    if (route !== null && req.method === 'POST') {
      current = {
        kind: route[2] === 'Messages' ? 'message' : 'call',
        accountSid: route[1] ?? '',
        auth,
        params,
        request: recordOf(req, body),
      };
      calls.push(current);
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
      if (current !== undefined) sids.set(current, sid);
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
    if (current !== undefined) sids.set(current, sid);
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

  const post = async (url: string, params: Record<string, string>, signing: Signing = 'twilio'): Promise<InboundAnswer> => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (signing === 'twilio') headers['x-twilio-signature'] = twilioSignature(authToken, url, params);
    if (signing === 'forged') headers['x-twilio-signature'] = twilioSignature('not-the-auth-token', url, params);
    const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
    return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
  };
  const sidOf = (call: TwilioCall): string => {
    const sid = sids.get(call);
    if (sid === undefined) throw new Error('the fake did not accept this request, so it has no SID');
    return sid;
  };

  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    number,
    post,
    sms: (url, from, body, signing) =>
      post(
        url,
        { AccountSid: accountSid, MessageSid: `SM${randomBytes(16).toString('hex')}`, From: from, To: number, Body: body, NumMedia: '0' },
        signing,
      ),
    press: (call, digits, signing) => {
      const action = /<Gather[^>]*\saction="([^"]+)"/.exec(call.params.Twiml ?? '')?.[1];
      if (action === undefined) throw new Error('the call has no <Gather action>');
      const url = action.replace(/&amp;/g, '&');
      const params = {
        AccountSid: accountSid,
        CallSid: sidOf(call),
        From: call.params.From ?? number,
        To: call.params.To ?? '',
        Direction: 'outbound-api',
        CallStatus: 'in-progress',
        Digits: digits,
      };
      return post(url, params, signing);
    },
    report: (call, status, extra = {}) => {
      const url = call.params.StatusCallback;
      if (url === undefined) throw new Error('the request had no StatusCallback');
      const sid = sidOf(call);
      const base: Record<string, string> =
        call.kind === 'message'
          ? { MessageSid: sid, SmsSid: sid, MessageStatus: status, SmsStatus: status }
          : { CallSid: sid, CallStatus: status, Direction: 'outbound-api' };
      return post(url, { AccountSid: accountSid, From: call.params.From ?? number, To: call.params.To ?? '', ...base, ...extra });
    },
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

/** Twilio's request signature: base64(HMAC-SHA1(authToken, url + sorted params as name+value)). */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + (params[key] ?? ''), url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}
