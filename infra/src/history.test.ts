import { describe, expect, it } from 'vitest';
import { alertingV1 } from '@oncall/contracts/grpc';
import { UsageError } from './cli-usage.js';
import { escalationLine, formatTimeline, parseHistoryArgs } from './history.js';

const ID = '6f1d8a3e-0000-4000-8000-000000000000';
const at = (t: string) => new Date(`2026-03-01T${t}Z`);

describe('oncall history arguments', () => {
  it('reads the id (lower-cased), --json, --as-of, --log and --grpc', () => {
    expect(parseHistoryArgs([ID.toUpperCase()])).toEqual({ alertId: ID, asOf: undefined, json: false, log: false, grpc: undefined });
    expect(parseHistoryArgs([ID, '--json', '--as-of', '2026-03-01T12:00:00Z', '--grpc', 'h:1'])).toEqual({
      alertId: ID,
      asOf: new Date('2026-03-01T12:00:00Z'),
      json: true,
      log: false,
      grpc: 'h:1',
    });
    expect(parseHistoryArgs(['--log', ID]).log).toBe(true);
  });

  it.each([
    ['no id', [], 'history needs an alert id'],
    ['a malformed id', ['6f1d8a3e'], 'history: "6f1d8a3e" is not an alert id (a UUID'],
    ['two ids', [ID, ID], 'history: unexpected argument'],
    ['a bad time', [ID, '--as-of', 'yesterday'], 'history --as-of: not a time: yesterday'],
    ['--log with --grpc', [ID, '--log', '--grpc', 'h:1'], 'history: --log reads the log, not query-api'],
    ['an unknown flag', [ID, '--all'], "history: Unknown option '--all'"],
  ])('%s is a usage error', (_name, argv, message) => {
    expect(() => parseHistoryArgs(argv)).toThrow(UsageError);
    expect(() => parseHistoryArgs(argv)).toThrow(message);
  });
});

describe('oncall history output', () => {
  const state = (over: Partial<alertingV1.EscalationState>) => alertingV1.EscalationState.fromPartial({ alertId: ID, ...over });

  it.each<[string, Partial<alertingV1.EscalationState>, string]>([
    ['not routed', {}, 'escalation: not routed yet'],
    [
      'escalating',
      { policyId: 'web', currentStep: 2, nextStepAt: at('12:05:00') },
      'escalation: policy web, step 2, next step 2026-03-01 12:05:00Z',
    ],
    ['a later round', { policyId: 'web', currentStep: 1, repetition: 1 }, 'escalation: policy web, step 1 (round 2)'],
    [
      'stopped by an ack',
      { policyId: 'web', currentStep: 1, stoppedReason: 'acknowledged', reopenAt: at('13:00:00') },
      'escalation: policy web, step 1, stopped: acknowledged, reopens 2026-03-01 13:00:00Z',
    ],
    [
      'suppressed',
      { policyId: 'web', suppressedBy: 'maintenance', suppressedUntil: at('14:00:00') },
      'escalation: policy web, suppressed by maintenance until 2026-03-01 14:00:00Z',
    ],
    ['no policy', { stoppedReason: 'no-policy' }, 'escalation: no policy, stopped: no-policy'],
  ])('escalation %s', (_name, over, line) => {
    expect(escalationLine(state(over))).toBe(line);
  });

  it('a head, then one aligned line per entry with where it comes from, who and what', () => {
    const alert = alertingV1.Alert.fromPartial({
      id: ID,
      summary: 'Disk "full"',
      status: alertingV1.AlertStatus.ALERT_STATUS_ACKNOWLEDGED,
      severity: alertingV1.Severity.SEVERITY_ERROR,
      serviceId: 'checkout',
      createdAt: at('12:00:00'),
    });
    const entry = (t: string, stream: string, eventType: string, actor: string, message: string) =>
      alertingV1.TimelineEntry.fromPartial({ alertId: ID, occurredAt: at(t), stream, eventType, actor, message });
    const timeline = [
      entry('12:00:00', 'ALERTS', 'AlertTriggered', 'alertmanager', 'fired'),
      entry('12:00:01', 'ESCALATIONS', 'EscalationStepReached', '', 'step 1: alice via sms'),
      entry('12:00:02', 'DELIVERIES', 'DeliverySent', 'dispatcher', ''),
      entry('12:01:00', 'ALERTS', 'AlertAcknowledged', 'user:alice', 'acknowledged via cli'),
    ];
    expect(formatTimeline({ alert, escalation: state({ policyId: 'web', currentStep: 1, stoppedReason: 'acknowledged' }), timeline })).toBe(
      `alert ${ID} "Disk \\"full\\""\n` +
        '  acknowledged, error, service checkout, created 2026-03-01 12:00:00Z\n' +
        '  escalation: policy web, step 1, stopped: acknowledged\n' +
        '\n' +
        '2026-03-01 12:00:00Z  alert       AlertTriggered         by alertmanager  fired\n' +
        '2026-03-01 12:00:01Z  escalation  EscalationStepReached  step 1: alice via sms\n' +
        '2026-03-01 12:00:02Z  delivery    DeliverySent           by dispatcher\n' +
        '2026-03-01 12:01:00Z  alert       AlertAcknowledged      by user:alice  acknowledged via cli\n',
    );
    expect(formatTimeline({ alert, escalation: state({}), timeline: [] })).toMatch(/\n\nno timeline entries\n$/);
  });
});
