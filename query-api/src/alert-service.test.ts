import { describe, expect, it } from 'vitest';
import { alertingV1 } from '@oncall/contracts';
import { commandForStatus, snoozeSeconds, toCommand, toFilter, viaOf } from './alert-service.js';
import { InvalidArgument } from './errors.js';

const { AlertStatus, Severity } = alertingV1;
const request = (r: Parameters<typeof alertingV1.ListAlertsRequest.fromPartial>[0]) => alertingV1.ListAlertsRequest.fromPartial(r);

/** The field named by the InvalidArgument that toFilter throws for `r`. */
function invalidField(r: alertingV1.ListAlertsRequest): string {
  let caught: unknown;
  try {
    toFilter(r);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidArgument);
  return (caught as InvalidArgument).field;
}

describe('toFilter', () => {
  it('an empty request gives an open filter with the default limit', () => {
    expect(toFilter(request({}))).toStrictEqual({
      serviceIds: [],
      statuses: [],
      severities: [],
      labelSelector: {},
      createdAfter: undefined,
      createdBefore: undefined,
      limit: 1000,
    });
  });

  it.each<[number, number]>([
    [0, 1000],
    [1, 1],
    [250, 250],
    [10_000, 10_000],
  ])('limit %i → %i', (limit, expected) => {
    expect(toFilter(request({ limit })).limit).toBe(expected);
  });

  it('passes service ids, label selector and time bounds through', () => {
    const after = new Date('2026-01-01T00:00:00Z');
    const before = new Date('2026-02-01T00:00:00Z');
    const f = toFilter(request({ serviceIds: ['a', 'b'], labelSelector: { env: 'prod' }, createdAfter: after, createdBefore: before }));
    expect(f).toMatchObject({ serviceIds: ['a', 'b'], labelSelector: { env: 'prod' }, createdAfter: after, createdBefore: before });
  });

  it('maps statuses and severities to read-model words', () => {
    const f = toFilter(
      request({
        statuses: [
          AlertStatus.ALERT_STATUS_TRIGGERED,
          AlertStatus.ALERT_STATUS_ACKNOWLEDGED,
          AlertStatus.ALERT_STATUS_SNOOZED,
          AlertStatus.ALERT_STATUS_RESOLVED,
        ],
        severities: [Severity.SEVERITY_CRITICAL, Severity.SEVERITY_ERROR, Severity.SEVERITY_WARNING, Severity.SEVERITY_INFO],
      }),
    );
    expect(f.statuses).toStrictEqual(['triggered', 'acknowledged', 'snoozed', 'resolved']);
    expect(f.severities).toStrictEqual(['critical', 'error', 'warning', 'info']);
  });

  it('filters on unknown severity with SEVERITY_UNSPECIFIED', () => {
    expect(toFilter(request({ severities: [Severity.SEVERITY_UNSPECIFIED] })).severities).toStrictEqual(['unknown']);
  });

  it.each<[string, alertingV1.ListAlertsRequest, string]>([
    ['a negative limit', request({ limit: -1 }), 'limit'],
    ['a limit over 10000', request({ limit: 10_001 }), 'limit'],
    ['an unspecified status', request({ statuses: [AlertStatus.ALERT_STATUS_UNSPECIFIED] }), 'statuses[0]'],
    ['an unrecognised status', request({ statuses: [AlertStatus.ALERT_STATUS_TRIGGERED, AlertStatus.UNRECOGNIZED] }), 'statuses[1]'],
    [
      'a status number out of range',
      request({ statuses: [AlertStatus.ALERT_STATUS_RESOLVED, 99 as alertingV1.AlertStatus] }),
      'statuses[1]',
    ],
    ['an unrecognised severity', request({ severities: [Severity.SEVERITY_INFO, Severity.UNRECOGNIZED] }), 'severities[1]'],
  ])('rejects %s naming the field %s', (_, r, field) => {
    expect(invalidField(r)).toBe(field);
  });
});

/** The field named by the InvalidArgument that `run` throws. */
function fieldOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgument);
    return (err as InvalidArgument).field;
  }
  throw new Error('expected InvalidArgument');
}

describe('alert command requests', () => {
  const id = '0b49c0f2-5a7e-4e8c-abd4-bbea11dfa803';
  const ok = { alertId: id, userId: 'alice', note: '', requestId: '' };

  it('validates the common fields', () => {
    expect(toCommand('acknowledge', { ...ok, alertId: id.toUpperCase() })).toEqual({
      alertId: id,
      command: 'acknowledge',
      userId: 'alice',
      note: '',
      requestId: '',
      snoozeSeconds: null,
    });
  });

  it.each<[string, Partial<typeof ok>, string]>([
    ['no alert id', { alertId: '' }, 'alert_id'],
    ['a bad alert id', { alertId: 'alert-1' }, 'alert_id'],
    ['no user id', { userId: '' }, 'user_id'],
    ['a blank user id', { userId: '  ' }, 'user_id'],
    ['a long note', { note: 'x'.repeat(4097) }, 'note'],
    ['a long request id', { requestId: 'r'.repeat(257) }, 'request_id'],
  ])('rejects %s', (_, change, field) => {
    expect(fieldOf(() => toCommand('resolve', { ...ok, ...change }))).toBe(field);
  });

  it.each<[{ seconds: number; nanos: number } | undefined, number | null]>([
    [{ seconds: 60, nanos: 0 }, 60],
    [{ seconds: 3599, nanos: 600_000_000 }, 3600],
    [{ seconds: 30 * 86_400, nanos: 0 }, 30 * 86_400],
    [undefined, null],
    [{ seconds: 59, nanos: 0 }, null],
    [{ seconds: 30 * 86_400 + 1, nanos: 0 }, null],
  ])('snooze duration %j → %s seconds', (duration, seconds) => {
    if (seconds === null) expect(fieldOf(() => snoozeSeconds(duration))).toBe('duration');
    else expect(snoozeSeconds(duration)).toBe(seconds);
  });

  it.each<[alertingV1.AlertStatus, string | null]>([
    [AlertStatus.ALERT_STATUS_TRIGGERED, 'unacknowledge'],
    [AlertStatus.ALERT_STATUS_ACKNOWLEDGED, 'acknowledge'],
    [AlertStatus.ALERT_STATUS_RESOLVED, 'resolve'],
    [AlertStatus.ALERT_STATUS_SNOOZED, null],
    [AlertStatus.ALERT_STATUS_UNSPECIFIED, null],
    [42 as alertingV1.AlertStatus, null],
  ])('UpdateAlertStatus to %s is %s', (status, command) => {
    if (command === null) expect(fieldOf(() => commandForStatus(status))).toBe('status');
    else expect(commandForStatus(status)).toBe(command);
  });
});

describe('x-oncall-via', () => {
  it.each([
    [null, 'api'],
    ['', 'api'],
    ['cli', 'cli'],
    ['web', 'web'],
  ] as const)('%j → %s', (header, via) => {
    expect(viaOf(header)).toBe(via);
  });
  it.each(['system', 'CLI', 'carrier-pigeon'])('%s is refused, naming the header', (header) => {
    expect(() => viaOf(header)).toThrow(InvalidArgument);
    expect(() => viaOf(header)).toThrow(/^x-oncall-via: must be one of api, cli, slack/);
  });
});
