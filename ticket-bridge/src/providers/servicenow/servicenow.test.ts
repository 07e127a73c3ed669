import type { TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { describe, expect, it } from 'vitest';
import { InboundRejected, ProviderError, type InboundRequest } from '../types.js';
import { serviceNowError } from './errors.js';
import { signServiceNowCall, verifyServiceNowCall, parseServiceNowCall } from './inbound.js';
import { formatCursor, inboundChange, incidentBody, parseCursor, pollStep, updateBody, type IncidentRecord } from './mapping.js';
import { ServiceNowSettings, stateOf, transitionCode, validateServiceNowConfig } from './settings.js';

const settings = ServiceNowSettings.parse({
  instanceUrl: 'https://acme.service-now.com/',
  assignmentGroup: 'NOC',
  stateMap: { '-5': 'in_progress' },
});
const SYS_ID = 'a'.repeat(32);

function config(over: Partial<TicketProviderConfig> = {}): TicketProviderConfig {
  return {
    providerId: 'snow',
    type: 'servicenow',
    name: 'ServiceNow',
    settings: { instanceUrl: 'https://acme.service-now.com' },
    auth: { kind: 'basic', username: 'oncall.integration', password: { env: 'SN_PASSWORD' } },
    fields: { short_description: 'alert.summary' },
    sync: {
      onAcknowledge: { transition: 'In Progress', comment: true },
      onResolve: { transition: 'Resolved', comment: true },
      onReopen: { transition: 'In Progress', comment: true },
      resolveAlertOn: ['resolved', 'closed'],
      mirrorComments: true,
      pollSeconds: null,
    },
    inboundSecret: { env: 'SN_INBOUND' },
    ...over,
  };
}

function record(over: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    sys_id: SYS_ID,
    number: 'INC0010001',
    state: '6',
    sys_updated_by: 'jane.doe',
    sys_updated_on: '2026-12-06 03:00:00',
    sys_mod_count: '3',
    correlation_id: 'oncall-0b0f8a7e-2d1c-4d55-9a43-000000000001',
    ...over,
  };
}

describe('ServiceNow settings', () => {
  it.each([
    [{ instanceUrl: 'https://acme.service-now.com' }, []],
    [{}, ['settings.instanceUrl']],
    [{ instanceUrl: 'not a url' }, ['settings.instanceUrl']],
    [{ instanceUrl: 'https://x', table: 'Incident; drop' }, ['settings.table']],
    [{ instanceUrl: 'https://x', stateMap: { Resolved: 'resolved' } }, ['settings.stateMap.Resolved']],
    [{ instanceUrl: 'https://x', stateMap: { '6': 'done' } }, ['settings.stateMap.6']],
    [{ instanceUrl: 'https://x', colour: 'red' }, ['settings']],
  ])('settings %j → problems at %j', (s, paths) => {
    expect(validateServiceNowConfig(config({ settings: s })).map((p) => p.path)).toEqual(paths);
  });

  it('refuses auth ServiceNow does not speak, a token URL that is not oauth_token.do, and fields the bridge sets', () => {
    expect(validateServiceNowConfig(config({ auth: { kind: 'genie-key', key: { env: 'K' } } })).map((p) => p.path)).toEqual(['auth.kind']);
    const oauth = config({
      auth: { kind: 'oauth-client-credentials', tokenUrl: 'https://acme.service-now.com/token', clientId: 'c', clientSecret: { env: 'S' } },
    });
    expect(validateServiceNowConfig(oauth).map((p) => p.path)).toEqual(['auth.tokenUrl']);
    expect(validateServiceNowConfig(config({ fields: { short_description: 'x', correlation_id: 'y' } })).map((p) => p.path)).toEqual([
      'fields.correlation_id',
    ]);
  });

  it('wants an inbound secret unless it polls', () => {
    expect(validateServiceNowConfig(config({ inboundSecret: null })).map((p) => p.path)).toEqual(['inboundSecret']);
    const polling = config({ inboundSecret: null });
    polling.sync.pollSeconds = 60;
    expect(validateServiceNowConfig(polling)).toEqual([]);
  });

  it.each([
    ['Resolved', '6'],
    ['in progress', '2'],
    ['7', '7'],
    ['-5', '-5'],
    ['Done', null],
    ['99', null],
  ])('transition %s → state code %s', (transition, code) => {
    expect(transitionCode(settings, transition)).toBe(code);
  });

  it.each([
    ['1', 'open'],
    ['2', 'in_progress'],
    ['3', 'in_progress'],
    ['6', 'resolved'],
    ['7', 'closed'],
    ['8', 'closed'],
    ['-5', 'in_progress'],
    ['42', null],
  ])('state code %s → %s', (code, state) => {
    expect(stateOf(settings, code)).toBe(state);
  });
});

describe('ServiceNow mapping', () => {
  it('builds the incident from fields, settings and the correlation', () => {
    expect(incidentBody(settings, { short_description: 'Disk full', urgency: 1, impact: '2', description: null }, 'oncall-a1')).toEqual({
      assignment_group: 'NOC',
      short_description: 'Disk full',
      urgency: '1',
      impact: '2',
      correlation_id: 'oncall-a1',
      correlation_display: 'oncall',
    });
  });

  it.each([
    [{ short_description: '' }, /short_description is required/],
    [{ short_description: 'x', urgency: 4 }, /urgency must be 1, 2 or 3, got "4"/],
    [{ short_description: 'x', impact: 'high' }, /impact must be 1, 2 or 3/],
    [{ short_description: 'x', u_tags: ['a'] }, /u_tags must be a string, number or boolean, got a list/],
  ])('refuses %j, not retryable', (fields, message) => {
    let thrown: unknown;
    try {
      incidentBody(settings, fields, 'oncall-a1');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ProviderError);
    expect((thrown as ProviderError).retryable).toBe(false);
    expect((thrown as ProviderError).message).toMatch(message);
  });

  it.each([
    [
      { kind: 'acknowledged', transition: 'In Progress', comment: 'Acked by Ann' },
      { state: '2', work_notes: 'Acked by Ann' },
    ],
    [
      { kind: 'resolved', transition: 'Resolved', comment: 'Resolved by Ann' },
      { state: '6', close_code: 'Solution provided', close_notes: 'Resolved by Ann', work_notes: 'Resolved by Ann' },
    ],
    [
      { kind: 'resolved', transition: '7', comment: null },
      { state: '7', close_code: 'Solution provided', close_notes: 'Resolved in oncall: the alert was resolved.' },
    ],
    [{ kind: 'comment', transition: null, comment: 'note' }, { work_notes: 'note' }],
    [{ kind: 'comment', transition: null, comment: null }, {}],
  ] as const)('change %j → PATCH %j', (change, body) => {
    expect(updateBody(settings, change)).toEqual(body);
  });

  it('refuses a transition to a state ServiceNow does not have', () => {
    expect(() => updateBody(settings, { kind: 'resolved', transition: 'Done', comment: null })).toThrow(/no state "Done"/);
  });

  it.each([
    [
      record(),
      {
        ticketKey: 'INC0010001',
        alertId: '0b0f8a7e-2d1c-4d55-9a43-000000000001',
        status: 'Resolved',
        state: 'resolved',
        actor: 'jane.doe',
        comment: null,
        changeId: `${SYS_ID}#3`,
      },
    ],
    [
      record({ state: '2', correlation_id: '', sys_mod_count: undefined, work_notes: 'looking' }),
      {
        ticketKey: 'INC0010001',
        alertId: null,
        status: 'In Progress',
        state: 'in_progress',
        actor: 'jane.doe',
        comment: 'looking',
        changeId: `${SYS_ID}@2026-12-06 03:00:00`,
      },
    ],
    [record({ state: '42' }), null],
  ])('record %j → change %j', (r, change) => {
    expect(inboundChange(settings, r)).toEqual(change);
  });
});

describe('ServiceNow errors', () => {
  const now = new Date('2026-12-06T03:00:00Z');
  const body = JSON.stringify({
    error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' },
    status: 'failure',
  });
  it.each([
    [429, '7', '', true, 7000, /rate limit/],
    [429, 'Sun, 06 Dec 2026 03:00:30 GMT', '', true, 30000, /rate limit/],
    [503, null, '<html>', true, null, /failing \(HTTP 503\)$/],
    [401, null, body, false, null, /credentials \(HTTP 401\): User Not Authenticated: Required to provide Auth information: check/],
    [
      403,
      null,
      '{"error":{"message":"Operation Failed","detail":"Data Policy Exception"},"status":"failure"}',
      false,
      null,
      /HTTP 403\): Operation Failed: Data Policy Exception/,
    ],
    [
      400,
      null,
      '{"error":{"message":"Invalid field","detail":""},"status":"failure"}',
      false,
      null,
      /rejected the request \(HTTP 400\): Invalid field$/,
    ],
  ])('HTTP %i (Retry-After %s) → retryable %s after %s ms', (status, retryAfter, text, retryable, afterMs, message) => {
    const err = serviceNowError(status, retryAfter, text, now);
    expect([err.retryable, err.retryAfterMs, err.httpStatus]).toEqual([retryable, afterMs, status]);
    expect(err.message).toMatch(message);
  });
});

describe('ServiceNow inbound calls', () => {
  const now = new Date('2026-12-06T03:00:00Z');
  const seconds = now.getTime() / 1000;
  const body = Buffer.from(JSON.stringify(record()));
  function request(headers: Record<string, string>, raw = body): InboundRequest {
    return { method: 'POST', path: '/api/v1/tickets/snow/events', headers, query: new URLSearchParams(), body: raw };
  }
  const signed = { 'x-oncall-timestamp': String(seconds), 'x-oncall-signature': signServiceNowCall('s3cret', seconds, body) };

  it('accepts a call signed with the secret inside the window', () => {
    expect(() => verifyServiceNowCall('s3cret', request(signed), now)).not.toThrow();
    expect(() =>
      verifyServiceNowCall(
        's3cret',
        request({ 'X-Oncall-Timestamp': signed['x-oncall-timestamp'], 'X-Oncall-Signature': signed['x-oncall-signature'] }),
        now,
      ),
    ).not.toThrow();
  });

  it.each([
    ['no headers', {}, body, /missing/],
    ['another secret', { ...signed, 'x-oncall-signature': signServiceNowCall('other', seconds, body) }, body, /does not match/],
    ['a changed body', signed, Buffer.from(JSON.stringify(record({ state: '7' }))), /does not match/],
    ['a replayed timestamp', { ...signed, 'x-oncall-timestamp': String(seconds + 1) }, body, /does not match/],
    [
      'an old call',
      { 'x-oncall-timestamp': String(seconds - 301), 'x-oncall-signature': signServiceNowCall('s3cret', seconds - 301, body) },
      body,
      /5 minutes/,
    ],
    ['a bad timestamp', { ...signed, 'x-oncall-timestamp': 'soon' }, body, /unix seconds/],
  ])('refuses %s with 401', (_case, headers, raw, message) => {
    let thrown: unknown;
    try {
      verifyServiceNowCall('s3cret', request(headers, raw), now);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InboundRejected);
    expect((thrown as InboundRejected).httpStatus).toBe(401);
    expect((thrown as InboundRejected).message).toMatch(message);
  });

  it.each([
    ['not json', /not JSON/],
    [JSON.stringify({ ...record(), sys_id: 'x' }), /sys_id: sys_id is 32 hex digits/],
    [JSON.stringify({ ...record(), sys_updated_on: '2026-12-06T03:00:00Z' }), /sys_updated_on/],
  ])('refuses body %s with 400', (raw, message) => {
    expect(() => parseServiceNowCall(Buffer.from(raw))).toThrow(message);
  });
});

describe('ServiceNow polling cursor', () => {
  const at = (time: string, mod: string): IncidentRecord =>
    record({ sys_updated_on: time, sys_mod_count: mod, sys_id: mod.padStart(32, '0') });

  it('round-trips and refuses a cursor that is not a ServiceNow time', () => {
    expect(parseCursor('2026-12-06 03:00:00')).toEqual({ time: '2026-12-06 03:00:00', seen: [] });
    expect(parseCursor(formatCursor({ time: '2026-12-06 03:00:00', seen: ['a#1', 'b#2'] }))).toEqual({
      time: '2026-12-06 03:00:00',
      seen: ['a#1', 'b#2'],
    });
    expect(() => parseCursor('yesterday')).toThrow(/not 'YYYY-MM-DD HH:mm:ss'/);
  });

  it('skips what it reported at the cursor second and carries the ids of the last second', () => {
    const a = at('2026-12-06 03:00:00', '1');
    const b = at('2026-12-06 03:00:00', '2');
    const c = at('2026-12-06 03:00:05', '3');
    const first = pollStep({ time: '2026-12-06 02:59:00', seen: [] }, [a]);
    expect(first.fresh).toEqual([a]);
    const second = pollStep(first.cursor, [a, b]);
    expect(second.fresh).toEqual([b]);
    expect(second.cursor.seen).toEqual([`${a.sys_id}#1`, `${b.sys_id}#2`]);
    const third = pollStep(second.cursor, [a, b, c]);
    expect(third.fresh).toEqual([c]);
    expect(third.cursor).toEqual({ time: '2026-12-06 03:00:05', seen: [`${c.sys_id}#3`] });
    expect(pollStep(third.cursor, [])).toEqual({ fresh: [], cursor: third.cursor });
  });
});
