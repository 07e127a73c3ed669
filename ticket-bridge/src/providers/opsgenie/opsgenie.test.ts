import type { TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { describe, expect, it } from 'vitest';
import { InboundRejected, ProviderError, type InboundRequest, type TicketAlert } from '../types.js';
import { DEFAULT_RATE_LIMIT_BACKOFF_MS, opsgenieError } from './errors.js';
import { parseOpsgenieCall, verifyOpsgenieCall } from './inbound.js';
import { alertActions, alertBody, alertRef, alertState, webhookChange, type WebhookPayload } from './mapping.js';
import { OpsgenieSettings, validateOpsgenieConfig } from './settings.js';

const settings = OpsgenieSettings.parse({
  tags: ['oncall'],
  responders: [{ type: 'team', name: 'NOC' }],
  webUrl: 'https://acme.app.opsgenie.com/',
});
const ALERT_ID = '0b0f8a7e-2d1c-4d55-9a43-000000000001';
const alert: TicketAlert = {
  alertId: ALERT_ID,
  serviceId: 'svc-db',
  serviceName: 'Database',
  fingerprint: 'f1',
  summary: 'Disk full',
  details: '95% used',
  severity: 'critical',
  status: 'triggered',
  labels: {},
  annotations: {},
  links: [],
  startsAt: null,
  url: 'https://oncall.example.com/alerts/1',
};

function config(over: Partial<TicketProviderConfig> = {}): TicketProviderConfig {
  return {
    providerId: 'opsgenie',
    type: 'opsgenie',
    name: 'Opsgenie',
    settings: {},
    auth: { kind: 'genie-key', key: { env: 'OPSGENIE_KEY' } },
    fields: { message: 'alert.summary', priority: '"P1"' },
    sync: {
      onAcknowledge: { transition: 'acknowledge', comment: false },
      onResolve: { transition: 'close', comment: true },
      onReopen: { transition: null, comment: true },
      resolveAlertOn: ['closed'],
      mirrorComments: true,
      pollSeconds: null,
    },
    inboundSecret: { env: 'OPSGENIE_INBOUND' },
    ...over,
  };
}

function thrown(fn: () => unknown): ProviderError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a ProviderError');
}

describe('Opsgenie settings', () => {
  it.each([
    [{}, []],
    [{ apiUrl: 'https://api.eu.opsgenie.com', kind: 'alert', inboundHeader: 'X-Token' }, []],
    [{ apiUrl: 'api.opsgenie.com' }, ['settings.apiUrl']],
    [{ kind: 'incident' }, ['settings.kind']],
    [{ responders: [{ type: 'team' }] }, ['settings.responders.0']],
    [{ inboundHeader: 'X Token' }, ['settings.inboundHeader']],
    [{ colour: 'red' }, ['settings']],
  ])('settings %j → problems at %j', (s, paths) => {
    expect(validateOpsgenieConfig(config({ settings: s })).map((p) => p.path)).toEqual(paths);
  });

  it('refuses other auth, fields the Alert API lacks or the bridge sets, and no inbound secret', () => {
    expect(validateOpsgenieConfig(config({ auth: { kind: 'bearer', token: { env: 'T' } } })).map((p) => p.path)).toEqual(['auth.kind']);
    expect(validateOpsgenieConfig(config({ fields: { message: 'x', alias: 'y', summary: 'z' } })).map((p) => p.message)).toEqual([
      'alias is set by the bridge, not the mapping',
      'Opsgenie alerts have no field summary (one of message, description, priority, tags, details, entity, note)',
    ]);
    expect(validateOpsgenieConfig(config({ inboundSecret: null })).map((p) => p.path)).toEqual(['inboundSecret']);
  });
});

describe('Opsgenie mapping', () => {
  it('builds the alert with the alias, priority, tags, details and responders', () => {
    expect(
      alertBody(
        settings,
        alert,
        { message: 'Disk full', priority: 'P1', tags: ['db', 'oncall'], details: { team: 'dba' } },
        `oncall-${ALERT_ID}`,
      ),
    ).toEqual({
      message: 'Disk full',
      alias: `oncall-${ALERT_ID}`,
      description: '95% used',
      priority: 'P1',
      tags: ['oncall', 'db'],
      details: { team: 'dba', oncallAlertId: ALERT_ID, oncallService: 'Database', oncallUrl: 'https://oncall.example.com/alerts/1' },
      responders: [{ type: 'team', name: 'NOC' }],
      source: 'oncall',
      user: 'oncall',
    });
  });

  it('cuts a message to the 130 characters Opsgenie takes', () => {
    const body = alertBody(settings, alert, { message: 'x'.repeat(200) }, 'oncall-a');
    expect((body.message as string).length).toBe(130);
    expect(body.message).toMatch(/…$/);
  });

  it.each([
    [{ message: ' ' }, /message is required/],
    [{ message: 'x', priority: 'critical' }, /priority must be one of P1 to P5, got "critical"/],
    [{ message: 'x', tags: 'db' }, /tags must be a list of strings/],
    [{ message: 'x', details: ['a'] }, /details must be a map of strings/],
    [{ message: { text: 'x' } }, /message must be a string, got object/],
  ])('refuses %j, not retryable', (fields, message) => {
    const err = thrown(() => alertBody(settings, alert, fields, 'oncall-a'));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(message);
  });

  it.each([
    [
      { kind: 'acknowledged', transition: 'acknowledge', comment: null },
      [{ action: 'acknowledge', body: { user: 'oncall', source: 'oncall' } }],
    ],
    [
      { kind: 'resolved', transition: 'Close', comment: 'Resolved by Ann' },
      [{ action: 'close', body: { user: 'oncall', source: 'oncall', note: 'Resolved by Ann' } }],
    ],
    [
      { kind: 'reopened', transition: 'unacknowledge', comment: null },
      [{ action: 'unacknowledge', body: { user: 'oncall', source: 'oncall' } }],
    ],
    [{ kind: 'comment', transition: null, comment: 'hi' }, [{ action: 'notes', body: { user: 'oncall', source: 'oncall', note: 'hi' } }]],
    [{ kind: 'comment', transition: null, comment: null }, []],
  ] as const)('change %j → %j', (change, calls) => {
    expect(alertActions(settings, change)).toEqual(calls);
  });

  it('refuses a transition Opsgenie alerts do not have', () => {
    expect(thrown(() => alertActions(settings, { kind: 'resolved', transition: 'resolve', comment: null })).message).toMatch(
      /no transition "resolve"/,
    );
  });

  it('makes refs with the tiny id as key and a link when webUrl is set', () => {
    expect(alertRef(settings, { id: 'abc', tinyId: '42', alias: 'oncall-a', status: 'open', acknowledged: false })).toEqual({
      key: '42',
      externalId: 'abc',
      url: 'https://acme.app.opsgenie.com/alert/detail/abc/details',
    });
    expect(alertRef(OpsgenieSettings.parse({}), { id: 'abc', status: 'open', acknowledged: false })).toEqual({
      key: 'abc',
      externalId: 'abc',
      url: null,
    });
  });

  it.each([
    [
      { status: 'open', acknowledged: false },
      { state: 'open', status: 'open' },
    ],
    [
      { status: 'open', acknowledged: true },
      { state: 'in_progress', status: 'acknowledged' },
    ],
    [
      { status: 'closed', acknowledged: true },
      { state: 'closed', status: 'closed' },
    ],
  ])('alert %j is %j', (a, s) => {
    expect(alertState(a)).toEqual(s);
  });
});

describe('Opsgenie webhooks', () => {
  const payload = (action: string, extra: Partial<WebhookPayload['alert']> = {}): WebhookPayload => ({
    action,
    alert: {
      alertId: 'og-1',
      alias: `oncall-${ALERT_ID}`,
      tinyId: '42',
      username: 'ann@example.com',
      updatedAt: 1765000000000000000,
      ...extra,
    },
    source: { name: '', type: 'web' },
  });

  it.each([
    ['Acknowledge', null, { status: 'acknowledged', state: 'in_progress', comment: null }],
    ['UnAcknowledge', null, { status: 'open', state: 'open', comment: null }],
    ['Close', null, { status: 'closed', state: 'closed', comment: null }],
  ])('%s → %j', (action, current, expected) => {
    expect(webhookChange(payload(action), current)).toEqual({
      ticketKey: 'og-1',
      alertId: ALERT_ID,
      actor: 'ann@example.com',
      changeId: `og-1:${action}:1765000000000000000`,
      ...expected,
    });
  });

  it('reports a note with the alert state it was asked, and ignores actions that are neither', () => {
    expect(webhookChange(payload('AddNote', { note: 'on it' }), { state: 'in_progress', status: 'acknowledged' })).toMatchObject({
      state: 'in_progress',
      comment: 'on it',
    });
    expect(webhookChange(payload('AddTags'), null)).toBeNull();
    expect(webhookChange(payload('Create'), null)).toBeNull();
    expect(webhookChange(payload('Close', { alias: 'someone-else' }), null)?.alertId).toBeNull();
  });

  function request(headers: Record<string, string>, query = ''): InboundRequest {
    return { method: 'POST', path: '/api/v1/tickets/opsgenie/events', headers, query: new URLSearchParams(query), body: Buffer.from('{}') };
  }

  it.each([
    [{ 'x-oncall-token': 't0ken' }, ''],
    [{ 'X-Oncall-Token': 't0ken' }, ''],
    [{}, 'token=t0ken'],
  ])('accepts the token in %j / ?%s', (headers, query) => {
    expect(() => verifyOpsgenieCall('t0ken', 'X-Oncall-Token', request(headers, query))).not.toThrow();
  });

  it.each([
    [{}, '', /missing X-Oncall-Token/],
    [{ 'x-oncall-token': 't0ke' }, '', /does not match/],
    [{ 'x-other': 't0ken' }, '', /missing/],
    [{}, 'token=wrong', /does not match/],
  ])('refuses %j / ?%s with 401', (headers, query, message) => {
    let err: unknown;
    try {
      verifyOpsgenieCall('t0ken', 'X-Oncall-Token', request(headers, query));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InboundRejected);
    expect((err as InboundRejected).httpStatus).toBe(401);
    expect((err as InboundRejected).message).toMatch(message);
  });

  it.each([
    ['nope', /not JSON/],
    ['{"action":"Close"}', /alert: Required/],
    ['{"action":"Close","alert":{"alertId":""}}', /alert.alertId/],
  ])('refuses body %s with 400', (raw, message) => {
    expect(() => parseOpsgenieCall(Buffer.from(raw))).toThrow(message);
  });
});

describe('Opsgenie errors', () => {
  const now = new Date('2026-12-06T03:00:00Z');
  it.each([
    [
      429,
      null,
      '{"message":"You are making too many requests!","took":0.0,"requestId":"r"}',
      true,
      DEFAULT_RATE_LIMIT_BACKOFF_MS,
      /rate limit reached \(HTTP 429\): You are making/,
    ],
    [429, '3', '', true, 3000, /rate limit/],
    [502, null, '', true, null, /failing \(HTTP 502\)$/],
    [
      401,
      null,
      '{"message":"Could not authenticate","took":0.0,"requestId":"r"}',
      false,
      null,
      /refused the API key \(HTTP 401\): Could not authenticate: check/,
    ],
    [
      403,
      null,
      '{"message":"You are not authorized","took":0.0,"requestId":"r"}',
      false,
      null,
      /HTTP 403\): You are not authorized: the integration needs create and update rights/,
    ],
    [
      422,
      null,
      '{"message":"Request body is not processable.","errors":{"message":"Message can not be empty."}}',
      false,
      null,
      /HTTP 422\): Request body is not processable. \(message: Message can not be empty.\)/,
    ],
  ])('HTTP %i (Retry-After %s) → retryable %s after %s ms', (status, retryAfter, text, retryable, afterMs, message) => {
    const err = opsgenieError(status, retryAfter, text, now);
    expect([err.retryable, err.retryAfterMs, err.httpStatus]).toEqual([retryable, afterMs, status]);
    expect(err.message).toMatch(message);
  });
});
