import { describe, expect, it } from 'vitest';
import { alertingV1 } from '@oncall/contracts/grpc';
import { commandForStatus, snoozeSeconds, toCommand, viaOf } from './alert-service.js';
import { InvalidArgument } from './errors.js';

const { AlertStatus } = alertingV1;
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
