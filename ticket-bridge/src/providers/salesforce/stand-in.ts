import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { checkTokenRequest, newToken, type StandInApp } from './stand-in-oauth.js';
import { ApiError, caseStore, EXTERNAL_ID, idOf } from './stand-in-cases.js';
import { startPubSubStandIn } from './stand-in-pubsub.js';
import { parseSoql, SoqlError } from './stand-in-soql.js';

export type { StandInCase, StandInComment } from './stand-in-cases.js';

export interface SalesforceStandInOptions extends Partial<StandInApp> {
  clientId: string;
  clientSecret: string;
  /** Case Status picklist (restricted) and which of its values are closed ones. */
  statuses?: readonly string[];
  closedStatuses?: readonly string[];
  now?: () => Date;
}

/**
 * A local Salesforce: the OAuth token endpoint (client credentials and JWT bearer, RS256 checked
 * against the uploaded certificate), REST `/services/data/vNN.0` for Case (create, upsert by the
 * External ID AlertFingerprint__c, read, patch, describe, SOQL query), CaseComment and User with
 * Salesforce's error shapes, and the Pub/Sub API (gRPC) carrying Change Data Capture events for
 * every Case change.
 */
export async function startSalesforceStandIn(opts: SalesforceStandInOptions) {
  const now = opts.now ?? (() => new Date());
  const statuses = opts.statuses ?? ['New', 'Working', 'Escalated', 'Closed'];
  const app: StandInApp = {
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    runAsUsername: opts.runAsUsername ?? 'integration@example.com',
    jwt: opts.jwt ?? null,
  };
  const orgId = '00DHs0000000001AAA';
  const users = new Map<string, string>(); // Id → Username
  const userId = (username: string) => {
    for (const [id, name] of users) if (name === username) return id;
    const id = idOf('005', users.size + 1);
    users.set(id, username);
    return id;
  };
  const tokens = new Map<string, string>(); // token → user Id
  const tokenRequests: { grantType: string | null; ok: boolean }[] = [];
  const requests: { method: string; path: string }[] = [];
  let hanging = 0;
  const faults: { status: number; errorCode: string; retryAfter: string | null }[] = [];
  let url = '';

  const pubSub = await startPubSubStandIn({
    now,
    authorised: (metadata: grpc.Metadata) => {
      const token = String(metadata.get('accesstoken')[0] ?? '');
      if (!tokens.has(token)) return 'Invalid or expired access token';
      if (String(metadata.get('instanceurl')[0] ?? '') !== url) return 'instanceurl does not match the token';
      if (String(metadata.get('tenantid')[0] ?? '') !== orgId) return 'tenantid does not match the token';
      return null;
    },
  });

  const store = caseStore({
    statuses,
    closedStatuses: opts.closedStatuses ?? ['Closed'],
    now,
    publish: (change) => pubSub.publish(change),
    usernameOf: (id) => users.get(id),
  });

  const route = (method: string, path: string, search: URLSearchParams, body: unknown, byId: string): [number, unknown] => {
    const fields = search.get('fields')?.split(',') ?? ['Id', 'CaseNumber', 'Status', 'Subject'];
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/limits') return [200, { DailyApiRequests: { Max: 15000, Remaining: 15000 - requests.length } }];
    if (method === 'GET' && path === '/sobjects/Case/describe') {
      return [
        200,
        {
          name: 'Case',
          fields: [...store.caseFields.values()].map(({ picklist, ...f }) => ({
            ...f,
            updateable: f.createable,
            picklistValues: (picklist ?? []).map((value) => ({ value, active: true })),
          })),
        },
      ];
    }
    if (method === 'GET' && path === '/query') {
      try {
        return [200, store.query(parseSoql(search.get('q') ?? ''))];
      } catch (err) {
        if (err instanceof SoqlError) throw new ApiError(400, err.errorCode, err.message);
        throw err;
      }
    }
    if ((m = /^\/sobjects\/Case\/(\w+__c)\/([^/]+)$/.exec(path))) {
      const [, field, value] = m as unknown as [string, string, string];
      if (field !== EXTERNAL_ID)
        throw new ApiError(400, 'INVALID_FIELD', `Provided external ID field does not exist or is not accessible: ${field}`);
      const key = decodeURIComponent(value);
      const existing = store.cases.find((c) => c.fields[EXTERNAL_ID] === key);
      if (method === 'GET')
        return existing
          ? [200, store.pick(existing, fields)]
          : [404, [{ errorCode: 'NOT_FOUND', message: `Provided external ID field does not exist or is not accessible: ${key}` }]];
      if (method !== 'PATCH') throw new ApiError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are GET,PATCH`);
      const values = store.caseValues(body, EXTERNAL_ID);
      if (existing) {
        store.updateCase(existing, values, byId);
        return [200, { id: existing.Id, success: true, errors: [], created: false }];
      }
      const created = store.createCase({ ...values, [EXTERNAL_ID]: key }, byId);
      return [201, { id: created.Id, success: true, errors: [], created: true }];
    }
    if (method === 'POST' && path === '/sobjects/Case') {
      const c = store.createCase(store.caseValues(body, null), byId);
      return [201, { id: c.Id, success: true, errors: [] }];
    }
    if ((m = /^\/sobjects\/Case\/(500\w{12,15})$/.exec(path))) {
      const c = store.caseById(m[1]!);
      if (method === 'GET') return [200, store.pick(c, fields)];
      if (method === 'PATCH') {
        store.updateCase(c, store.caseValues(body, null), byId);
        return [204, null];
      }
    }
    if (method === 'POST' && path === '/sobjects/CaseComment') {
      const comment = store.addComment(body, byId);
      return [201, { id: comment.Id, success: true, errors: [] }];
    }
    if (method === 'GET' && (m = /^\/sobjects\/User\/(005\w{12,15})$/.exec(path))) {
      const username = users.get(m[1]!);
      if (username === undefined) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
      return [200, { attributes: { type: 'User' }, Id: m[1], Username: username }];
    }
    throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
  };

  const token = (req: IncomingMessage, raw: string): [number, unknown] => {
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return [400, { error: 'invalid_request', error_description: 'must be application/x-www-form-urlencoded' }];
    }
    const auth = req.headers.authorization;
    let basic: { id: string; secret: string } | null = null;
    if (auth?.startsWith('Basic ')) {
      const [id = '', secret = ''] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      basic = { id, secret };
    }
    const form = new URLSearchParams(raw);
    const outcome = checkTokenRequest(app, form, basic, now().getTime());
    tokenRequests.push({ grantType: form.get('grant_type'), ok: outcome.ok });
    if (!outcome.ok) return [400, { error: outcome.error, error_description: outcome.description }];
    const issued = newToken();
    const uid = userId(outcome.username);
    tokens.set(issued, uid);
    return [
      200,
      {
        access_token: issued,
        instance_url: url,
        id: `${url}/id/${orgId}/${uid}`,
        token_type: 'Bearer',
        issued_at: String(now().getTime()),
        scope: 'api',
      },
    ];
  };

  /** null = never answer (a hung Salesforce). */
  const handle = (req: IncomingMessage, raw: string): [number, unknown, Record<string, string>?] | null => {
    const target = new URL(req.url ?? '/', url);
    if (req.method === 'POST' && target.pathname === '/services/oauth2/token') return token(req, raw);
    const api = /^\/services\/data\/v(\d+)\.0(\/.*)$/.exec(target.pathname);
    if (!api || Number(api[1]) < 40) return [404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]];
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const byId = bearer === undefined ? undefined : tokens.get(bearer);
    if (byId === undefined) return [401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]];
    requests.push({ method: req.method ?? '', path: api[2]! });
    if (hanging > 0) {
      hanging--;
      return null;
    }
    const fault = faults.shift();
    if (fault)
      return [
        fault.status,
        [{ message: 'Service temporarily unavailable', errorCode: fault.errorCode }],
        fault.retryAfter === null ? {} : { 'retry-after': fault.retryAfter },
      ];
    let body: unknown;
    if (req.method === 'POST' || req.method === 'PATCH') {
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
        return [
          415,
          [
            {
              errorCode: 'UNSUPPORTED_MEDIA_TYPE',
              message: `Content-Type header specified in HTTP request is not supported: ${req.headers['content-type']}`,
            },
          ],
        ];
      }
      try {
        body = JSON.parse(raw);
      } catch {
        return [400, [{ errorCode: 'JSON_PARSER_ERROR', message: 'The request body is not JSON' }]];
      }
    }
    try {
      return route(req.method ?? '', api[2]!, target.searchParams, body, byId);
    } catch (err) {
      if (err instanceof ApiError) return [err.status, [{ message: err.message, errorCode: err.errorCode, fields: err.fields }]];
      throw err;
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = handle(req, Buffer.concat(chunks).toString());
      if (answer === null) return;
      const [status, body, headers = {}] = answer;
      res.writeHead(status, body === null ? headers : { 'content-type': 'application/json;charset=UTF-8', ...headers });
      res.end(body === null ? undefined : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const byNumber = (caseNumber: string) => {
    const c = store.cases.find((x) => x.CaseNumber === caseNumber);
    if (!c) throw new Error(`stand-in has no Case ${caseNumber}`);
    return c;
  };

  return {
    url,
    tokenUrl: `${url}/services/oauth2/token`,
    pubSubAddress: pubSub.address,
    orgId,
    cases: store.cases,
    comments: store.comments,
    tokenRequests,
    /** REST calls that carried a valid token (path after /services/data/vNN.0). */
    requests,
    /** A person changes a Case's status in Salesforce (a CDC event follows). */
    setStatus(caseNumber: string, status: string, by: string) {
      store.updateCase(byNumber(caseNumber), { Status: status }, userId(by));
    },
    closeCase(caseNumber: string, by: string) {
      store.updateCase(byNumber(caseNumber), { Status: 'Closed' }, userId(by));
    },
    /** Every issued token stops working (session timeout): the next call gets 401 INVALID_SESSION_ID. */
    expireTokens() {
      tokens.clear();
    },
    /** The next `count` authenticated REST calls answer `status` (503 SERVER_UNAVAILABLE, 403 REQUEST_LIMIT_EXCEEDED, …). */
    failNext(count: number, fault: { status: number; errorCode: string; retryAfter?: string }) {
      for (let i = 0; i < count; i++)
        faults.push({ status: fault.status, errorCode: fault.errorCode, retryAfter: fault.retryAfter ?? null });
    },
    /** The next `count` authenticated REST calls get no answer at all (the caller's timeout must end them). */
    hangNext(count: number) {
      hanging += count;
    },
    dropSubscribers: () => pubSub.dropSubscribers(),
    subscriberCount: () => pubSub.subscriberCount(),
    async close() {
      await pubSub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type SalesforceStandIn = Awaited<ReturnType<typeof startSalesforceStandIn>>;
