import { describe, expect, it } from 'vitest';
import { UsageError } from './cli-usage.js';
import { formatPreview, formatProviders, formatTicket, parseTicketArgs } from './tickets.js';

const ALERT = '6f1d8a3e-0000-4000-8000-000000000000';

describe('oncall ticket arguments', () => {
  it.each([
    [['preview', 'jira'], { kind: 'preview', providerId: 'jira', alertId: '', json: false, grpc: undefined }],
    [['preview', 'jira', '--alert', ALERT.toUpperCase(), '--json'], { kind: 'preview', providerId: 'jira', alertId: ALERT, json: true }],
    [['providers', '--grpc', 'h:1'], { kind: 'providers', json: false, grpc: 'h:1' }],
    [['show', ALERT, '-p', 'sn'], { kind: 'show', alertId: ALERT, providerId: 'sn' }],
  ])('%j', (args, expected) => expect(parseTicketArgs(args)).toMatchObject(expected));

  it.each([
    [[], 'ticket: use preview, providers or show; oncall ticket --help'],
    [['close'], 'ticket: use preview, providers or show; oncall ticket --help'],
    [['preview'], 'ticket preview: give one provider id, e.g. oncall ticket preview jira --alert <alert-id>'],
    [['preview', 'jira', '--alert', 'x'], 'ticket preview: --alert must be an alert id (a UUID), not "x"'],
    [['providers', 'jira'], 'ticket providers: takes no arguments but --json and --grpc'],
    [['show'], 'ticket show: give one alert id'],
    [['show', ALERT, '--bogus'], "ticket show: Unknown option '--bogus'; oncall ticket show --help"],
  ])('%j is a usage error', (args, message) => expect(() => parseTicketArgs(args)).toThrow(new UsageError(message)));
});

describe('oncall ticket output', () => {
  it('preview: the outcome, then the mapped fields', () => {
    expect(formatPreview('jira', { ok: true, error: '', fieldsJson: '{"summary":"Disk full","labels":["oncall"]}', latencyMs: 31 })).toBe(
      'jira: ok (31 ms)\n{\n  "summary": "Disk full",\n  "labels": [\n    "oncall"\n  ]\n}\n',
    );
    expect(formatPreview('sn', { ok: false, error: 'HTTP 401: bad credentials', fieldsJson: '', latencyMs: 8 })).toBe(
      'sn: failed (8 ms): HTTP 401: bad credentials\n',
    );
  });

  it('providers: a table with health', () => {
    const text = formatProviders([
      {
        providerId: 'jira',
        type: 'jira',
        name: 'Jira',
        fields: ['summary'],
        resolveAlertOn: [],
        health: {
          status: 'failing',
          lastSuccessAt: new Date('2026-12-06T03:00:00Z'),
          lastFailureAt: new Date('2026-12-06T03:10:00Z'),
          lastError: 'HTTP 429',
          failed: 0,
          retrying: 3,
        },
      },
    ]);
    expect(text.split('\n')[1]).toBe(
      'jira      jira  failing  2026-12-06T03:00:00.000Z  2026-12-06T03:10:00.000Z  0/3              HTTP 429',
    );
    expect(formatProviders([])).toContain('no ticket providers configured');
  });

  it('a ticket not created yet says why', () => {
    expect(
      formatTicket({
        ticketId: '',
        alertId: ALERT,
        providerId: 'sn',
        providerType: 'servicenow',
        key: '',
        externalId: '',
        url: '',
        status: 'retrying',
        state: '',
        closed: false,
        linked: false,
        syncStatus: 'retrying',
        lastError: 'HTTP 503',
        retryAt: new Date('2026-12-06T03:11:00Z'),
        attempts: 2,
        createdAt: undefined,
        updatedAt: undefined,
      }),
    ).toBe(
      'ticket:   (not created yet)\nprovider: sn (servicenow)\nstatus:   retrying\nsync:     retrying, 2 attempts\nerror:    HTTP 503 (retry at 2026-12-06T03:11:00.000Z)\n',
    );
  });
});
