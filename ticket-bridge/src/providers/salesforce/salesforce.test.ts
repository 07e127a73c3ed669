import { createVerify, generateKeyPairSync } from 'node:crypto';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import type { TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { sessionFrom } from './auth.js';
import { alertIdFromKey, bitmapFields, caseChanges, type ChangeEvent } from './cdc.js';
import { restError, tokenError } from './errors.js';
import { jwtBearerClaims, signJwt } from './jwt.js';
import { DEFAULT_STATUS_MAP, validateSalesforceConfig } from './settings.js';
import { polledChanges, pollQuery, soqlDateTime, soqlString } from './soql.js';
import { caseState } from './status.js';
import { CDC_SCHEMA_JSON, encodeCaseChange, fieldBitmap } from './stand-in-pubsub.js';

const NOW = new Date('2026-12-06T03:00:00.000Z');
const settingsOf = { statusMap: DEFAULT_STATUS_MAP, externalIdField: 'AlertFingerprint__c' };

describe('caseState: Case Status → our state', () => {
  it.each([
    ['New', null, 'open'],
    ['Working', null, 'in_progress'],
    ['Escalated', false, 'in_progress'],
    ['Closed', true, 'closed'],
    ['Closed - Duplicate', true, 'closed'],
    ['Waiting on Customer', false, 'in_progress'],
    ['Waiting on Customer', null, 'in_progress'],
  ] as const)('%s (IsClosed %s) → %s', (status, isClosed, state) => {
    expect(caseState(status, isClosed, DEFAULT_STATUS_MAP)).toBe(state);
  });
  it('the configured map wins over IsClosed', () => {
    expect(caseState('Solved', true, { Solved: 'resolved' })).toBe('resolved');
  });
});

describe('validateSalesforceConfig', () => {
  const base: TicketProviderConfig = {
    providerId: 'sf',
    type: 'salesforce',
    name: 'Salesforce',
    settings: {},
    auth: {
      kind: 'oauth-client-credentials',
      tokenUrl: 'https://acme.my.salesforce.com/services/oauth2/token',
      clientId: 'c',
      clientSecret: { env: 'SF' },
    },
    fields: { Subject: 'alert.summary' },
    sync: {
      onAcknowledge: { transition: 'Working', comment: true },
      onResolve: { transition: 'Closed', comment: true },
      onReopen: { transition: null, comment: false },
      resolveAlertOn: ['closed'],
      mirrorComments: false,
      pollSeconds: null,
    },
    inboundSecret: null,
  };
  it.each([
    ['defaults', {}, {}, []],
    [
      'full settings',
      {
        settings: {
          instanceUrl: 'https://acme.my.salesforce.com',
          apiVersion: '62.0',
          statusMap: { Solved: 'resolved' },
          pubSub: { endpoint: 'api.pubsub.salesforce.com:7443', topic: '/data/CaseChangeEvent', tls: true },
        },
      },
      {},
      [],
    ],
    ['api version', { settings: { apiVersion: 'v62' } }, {}, [{ path: 'settings.apiVersion', message: "must look like '62.0'" }]],
    ['status map state', { settings: { statusMap: { Done: 'finished' } } }, {}, [{ path: 'settings.statusMap.Done' }]],
    [
      'pub/sub endpoint',
      { settings: { pubSub: { endpoint: 'https://api.pubsub.salesforce.com' } } },
      {},
      [{ path: 'settings.pubSub.endpoint', message: 'must be host:port, e.g. api.pubsub.salesforce.com:7443' }],
    ],
    ['pub/sub topic', { settings: { pubSub: { topic: '/event/Case' } } }, {}, [{ path: 'settings.pubSub.topic' }]],
    ['unknown setting', { settings: { project: 'OPS' } }, {}, [{ path: 'settings' }]],
    ['basic auth', { auth: { kind: 'basic', username: 'u', password: { env: 'P' } } }, {}, [{ path: 'auth.kind' }]],
    ['bad field name', {}, { 'Service c': 'service.name' }, [{ path: 'fields.Service c' }]],
    [
      'external id mapped',
      {},
      { AlertFingerprint__c: 'alert.fingerprint' },
      [{ path: 'fields.AlertFingerprint__c', message: expect.stringContaining('idempotency key') as string }],
    ],
  ] as const)('%s', (_name, patch, fields, problems) => {
    const config = { ...base, ...patch, fields: { ...base.fields, ...fields } } as TicketProviderConfig;
    expect(validateSalesforceConfig(config)).toMatchObject(problems);
  });
});

describe('JWT bearer assertion', () => {
  it('claims: iss = client id, sub = user, aud = login host, exp 3 minutes ahead', () => {
    expect(jwtBearerClaims({ clientId: '3MVG9', username: 'bot@acme.com', audience: 'https://login.salesforce.com' }, NOW)).toStrictEqual({
      iss: '3MVG9',
      sub: 'bot@acme.com',
      aud: 'https://login.salesforce.com',
      exp: NOW.getTime() / 1000 + 180,
    });
  });
  it('is an RS256 compact JWT the public key verifies', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const claims = jwtBearerClaims({ clientId: 'c', username: 'u', audience: 'a' }, NOW);
    const [header, payload, signature] = signJwt(claims, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).split('.') as [
      string,
      string,
      string,
    ];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toStrictEqual({ alg: 'RS256' });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toStrictEqual(claims);
    expect(createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
  });
});

describe('error mapping', () => {
  const sfError = (errorCode: string, message = 'm', fields: string[] = []) => JSON.stringify([{ message, errorCode, fields }]);
  it.each([
    [
      400,
      sfError('INVALID_FIELD', "No such column 'X__c' on sobject of type Case"),
      null,
      false,
      null,
      "HTTP 400 INVALID_FIELD: No such column 'X__c' on sobject of type Case",
    ],
    [400, sfError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', 'Status: bad value', ['Status']), null, false, null, '(fields: Status)'],
    [403, sfError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'), '60', true, 60_000, 'REQUEST_LIMIT_EXCEEDED'],
    [429, sfError('REQUEST_LIMIT_EXCEEDED'), null, true, null, 'HTTP 429'],
    [503, sfError('SERVER_UNAVAILABLE'), '7', true, 7000, 'SERVER_UNAVAILABLE'],
    [500, '<html>oops</html>', null, true, null, 'HTTP 500 <html>oops</html>'],
    [400, sfError('UNABLE_TO_LOCK_ROW'), null, true, null, 'UNABLE_TO_LOCK_ROW'],
    [404, sfError('NOT_FOUND', 'The requested resource does not exist'), null, false, null, 'NOT_FOUND'],
  ] as const)('REST %s %s → retryable %s', (status, body, retryAfter, retryable, retryAfterMs, text) => {
    const err = restError('create Case', { status, body, retryAfter }, NOW);
    expect(err).toMatchObject({ retryable, httpStatus: status, retryAfterMs });
    expect(err.message).toContain(text);
  });

  it.each([
    [
      400,
      { error: 'invalid_client', error_description: 'invalid client credentials' },
      false,
      'invalid_client (invalid client credentials)',
    ],
    [400, { error: 'invalid_grant', error_description: 'user hasn’t approved this consumer' }, false, 'invalid_grant'],
    [400, { error: 'unsupported_grant_type' }, false, 'unsupported_grant_type'],
    [503, { error: 'temporarily_unavailable' }, true, 'HTTP 503'],
  ] as const)('token %s %j → retryable %s', (status, body, retryable, text) => {
    const err = tokenError({ status, body: JSON.stringify(body), retryAfter: null }, NOW);
    expect(err.retryable).toBe(retryable);
    expect(err.message).toContain(text);
  });
});

describe('token response', () => {
  const body = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      access_token: 'tok',
      instance_url: 'https://acme.my.salesforce.com/',
      id: 'https://login.salesforce.com/id/00D5g000004ABCDEA2/0055g00000XYZabAAB',
      ...extra,
    });
  it('reads the org id from the identity URL and trims the instance URL', () => {
    expect(sessionFrom(body(), null, NOW)).toStrictEqual({
      accessToken: 'tok',
      instanceUrl: 'https://acme.my.salesforce.com',
      tenantId: '00D5g000004ABCDEA2',
      expiresAt: null,
    });
  });
  it('prefers the configured instance URL and honours expires_in when sent', () => {
    expect(sessionFrom(body({ expires_in: 7200 }), 'https://acme--uat.sandbox.my.salesforce.com', NOW)).toMatchObject({
      instanceUrl: 'https://acme--uat.sandbox.my.salesforce.com',
      expiresAt: NOW.getTime() + 7_200_000,
    });
  });
  it('refuses a response without a token', () => {
    expect(() => sessionFrom('{}', null, NOW)).toThrow('no access_token');
  });
});

describe('Change Data Capture events', () => {
  const fields = ['ChangeEventHeader', 'CaseNumber', 'Status', 'IsClosed', 'LastModifiedDate'];
  it.each([
    [['0x04'], ['Status']],
    [['0x14'], ['Status', 'LastModifiedDate']],
    [['0x1E'], ['CaseNumber', 'Status', 'IsClosed', 'LastModifiedDate']],
    [
      ['0x04', '3-0x01'],
      ['Status', 'IsClosed'],
    ],
    [[], []],
  ] as const)('bitmap %j → %j', (bitmaps, names) => {
    expect(bitmapFields(bitmaps, fields)).toStrictEqual(names);
  });

  const event = (header: Partial<ChangeEvent['ChangeEventHeader']>, values: Record<string, unknown>): ChangeEvent => ({
    ChangeEventHeader: {
      entityName: 'Case',
      recordIds: ['500Hs0000000001AAA'],
      changeType: 'UPDATE',
      changedFields: ['0x0C'],
      commitUser: '005Hs0000000002AAA',
      ...header,
    },
    ...values,
  });
  it.each([
    ['a close', event({}, { Status: 'Closed', IsClosed: true }), [{ status: 'Closed', state: 'closed' }]],
    [
      'a create',
      event({ changeType: 'CREATE', changedFields: [] }, { Status: 'New', AlertFingerprint__c: 'oncall-a1' }),
      [{ status: 'New', state: 'open', alertId: 'a1' }],
    ],
    ['an update leaving Status alone', event({ changedFields: ['0x10'] }, { Status: 'Closed' }), []],
    ['an update without a Status value', event({}, {}), []],
    ['a delete', event({ changeType: 'DELETE' }, { Status: 'Closed' }), []],
    ['another entity', event({ entityName: 'Account' }, { Status: 'Closed' }), []],
  ] as const)('%s', (_name, e, expected) => {
    expect(caseChanges(e, fields, 'ab12', settingsOf)).toMatchObject(expected);
  });
  it('one change per record id, with the committing user and a change id from the replay id', () => {
    const changes = caseChanges(event({ recordIds: ['500A', '500B'] }, { Status: 'Working' }), fields, '00000000000000a1', settingsOf);
    expect(changes).toStrictEqual([
      {
        ticketKey: '500A',
        alertId: null,
        status: 'Working',
        state: 'in_progress',
        actor: '005Hs0000000002AAA',
        comment: null,
        changeId: 'cdc:00000000000000a1:500A',
      },
      {
        ticketKey: '500B',
        alertId: null,
        status: 'Working',
        state: 'in_progress',
        actor: '005Hs0000000002AAA',
        comment: null,
        changeId: 'cdc:00000000000000a1:500B',
      },
    ]);
  });
  it('an Avro CaseChangeEvent decoded with its schema JSON (as GetSchema sends it) gives the close', () => {
    const payload = encodeCaseChange(
      { changeType: 'UPDATE', recordId: '500X', commitUserId: '005Y', values: { Status: 'Closed', IsClosed: true } },
      1,
      NOW.getTime(),
    );
    const type = avro.Type.forSchema(JSON.parse(CDC_SCHEMA_JSON) as avro.Schema) as avro.types.RecordType;
    const decoded = type.fromBuffer(payload) as ChangeEvent;
    expect(decoded).toMatchObject({
      Subject: null,
      Status: 'Closed',
      IsClosed: true,
      ChangeEventHeader: { changeType: 'UPDATE', commitUser: '005Y' },
    });
    expect(
      caseChanges(
        decoded,
        type.fields.map((f) => f.name),
        '01',
        settingsOf,
      ),
    ).toStrictEqual([
      { ticketKey: '500X', alertId: null, status: 'Closed', state: 'closed', actor: '005Y', comment: null, changeId: 'cdc:01:500X' },
    ]);
  });
  it('alert ids come from our idempotency keys only', () => {
    expect(alertIdFromKey('oncall-0b7c2e9a')).toBe('0b7c2e9a');
    expect(alertIdFromKey('ext-1')).toBeNull();
    expect(alertIdFromKey(null)).toBeNull();
  });
  it('the stand-in bitmap marks the schema positions', () => {
    expect(fieldBitmap(['Status'], fields)).toBe('0x04');
    expect(fieldBitmap(['CaseNumber', 'LastModifiedDate'], fields)).toBe('0x12');
  });
});

describe('SOQL', () => {
  it.each([
    ['00001026', "'00001026'"],
    ["O'Brien", "'O\\'Brien'"],
    ['back\\slash', "'back\\\\slash'"],
  ])('string %s → %s', (value, literal) => {
    expect(soqlString(value)).toBe(literal);
  });
  it('refuses control characters', () => {
    expect(() => soqlString('a\nb')).toThrow('control characters');
  });
  it('datetimes are cut to whole seconds in UTC', () => {
    expect(soqlDateTime('2026-12-06T04:00:00.750+01:00')).toBe('2026-12-06T03:00:00Z');
    expect(() => soqlDateTime('yesterday')).toThrow('not a time');
  });
  it('the poll query asks for changes after the cursor, oldest first', () => {
    expect(pollQuery('2026-12-06T03:00:00.000Z', 'AlertFingerprint__c')).toBe(
      'SELECT Id, CaseNumber, Status, IsClosed, AlertFingerprint__c, LastModifiedBy.Username, SystemModstamp FROM Case WHERE SystemModstamp > 2026-12-06T03:00:00Z ORDER BY SystemModstamp ASC LIMIT 200',
    );
  });
  it('polled Cases become changes by their last modifier; the cursor is the newest SystemModstamp', () => {
    const records = [
      {
        Id: '500A',
        Status: 'Working',
        IsClosed: false,
        SystemModstamp: '2026-12-06T03:01:00.000+0000',
        LastModifiedBy: { Username: 'a@x.com' },
        AlertFingerprint__c: 'oncall-a1',
      },
      {
        Id: '500B',
        Status: 'Closed',
        IsClosed: true,
        SystemModstamp: '2026-12-06T03:02:30.500+0000',
        LastModifiedBy: null,
        AlertFingerprint__c: null,
      },
    ];
    expect(polledChanges(records, '2026-12-06T03:00:00.000Z', settingsOf)).toStrictEqual({
      changes: [
        {
          ticketKey: '500A',
          alertId: 'a1',
          status: 'Working',
          state: 'in_progress',
          actor: 'a@x.com',
          comment: null,
          changeId: 'poll:500A:2026-12-06T03:01:00.000+0000',
        },
        {
          ticketKey: '500B',
          alertId: null,
          status: 'Closed',
          state: 'closed',
          actor: null,
          comment: null,
          changeId: 'poll:500B:2026-12-06T03:02:30.500+0000',
        },
      ],
      cursor: '2026-12-06T03:02:30.500Z',
    });
    expect(polledChanges([], '2026-12-06T03:00:00.000Z', settingsOf).cursor).toBe('2026-12-06T03:00:00.000Z');
  });
});
