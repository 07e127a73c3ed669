import { describe, expect, it } from 'vitest';
import type { Signal } from '@oncall/contracts';
import {
  AlertCommandError,
  decide,
  evolve,
  type AlertCommand,
  type AlertErrorCode,
  type DecidedEvent,
  type OpenAlert,
} from './alert.js';

const ALERT_ID = '11111111-1111-4111-8111-111111111111';
const NEW_ID = '22222222-2222-4222-8222-222222222222';
const OTHER_ID = '33333333-3333-4333-8333-333333333333';
const REF = { alertId: ALERT_ID, serviceId: 'svc', fingerprint: 'fp-1' };
const ENDS_AT = '2026-01-01T01:00:00.000Z';

const signal = (over: Partial<Signal> = {}): Signal => ({
  fingerprint: 'fp-1',
  status: 'firing',
  summary: 'disk full',
  details: 'db1 at 99%',
  severity: 'critical',
  labels: { alertname: 'DiskFull', host: 'db1' },
  annotations: { runbook: 'http://rb/disk' },
  startsAt: '2026-01-01T00:00:00.000Z',
  endsAt: null,
  generatorUrl: 'http://prom/graph',
  ...over,
});

const report = (s: Signal): AlertCommand => ({ type: 'ReportSignal', data: { serviceId: 'svc', source: 'alertmanager', signal: s } });
const ack = (alertId = ALERT_ID): AlertCommand => ({ type: 'AcknowledgeAlert', data: { ...REF, alertId, userId: 'u1', note: 'on it' } });
const resolve = (alertId = ALERT_ID): AlertCommand => ({ type: 'ResolveAlert', data: { ...REF, alertId, userId: 'u1', note: 'fixed' } });

const { fingerprint: _fp, status: _st, endsAt: _end, ...content } = signal();
const triggered: DecidedEvent = { type: 'AlertTriggered', data: { ...REF, source: 'alertmanager', ...content } };
const acknowledged: DecidedEvent = { type: 'AlertAcknowledged', data: { ...REF, userId: 'u1', note: 'on it' } };
const resolvedBySource: DecidedEvent = {
  type: 'AlertResolved',
  data: { ...REF, by: 'source', userId: null, note: '', endsAt: ENDS_AT },
};

/** Folds `given` with evolve, then decides `when`; ctx hands out NEW_ID and counts the calls. */
function given(...events: DecidedEvent[]) {
  const state = events.reduce<OpenAlert | undefined>((s, e) => evolve(s, e), undefined);
  return {
    when(command: AlertCommand) {
      let ids = 0;
      const newAlertId = () => {
        ids++;
        return NEW_ID;
      };
      const run = () => decide(command, state, { newAlertId });
      return {
        then(expected: DecidedEvent[], newIds = 0) {
          expect(run()).toStrictEqual(expected);
          expect(ids).toBe(newIds);
        },
        thenThrows(code: AlertErrorCode) {
          let caught: unknown;
          try {
            run();
          } catch (err) {
            caught = err;
          }
          expect(caught).toBeInstanceOf(AlertCommandError);
          expect((caught as AlertCommandError).code).toBe(code);
        },
      };
    },
  };
}

describe('alert decider: signals', () => {
  it('given no alert, when a firing signal, then AlertTriggered with a new id', () => {
    given().when(report(signal())).then([{ type: 'AlertTriggered', data: { ...triggered.data, alertId: NEW_ID } }], 1);
  });

  it.each<[string, Partial<Signal>, string[]]>([
    ['identical content', {}, []],
    ['same labels in another key order', { labels: { host: 'db1', alertname: 'DiskFull' } }, []],
    ['a label value', { labels: { alertname: 'DiskFull', host: 'db2' } }, ['labels']],
    ['an added label', { labels: { alertname: 'DiskFull', host: 'db1', dc: 'eu' } }, ['labels']],
    ['a removed label', { labels: { alertname: 'DiskFull' } }, ['labels']],
    ['a renamed label key', { labels: { alertname: 'DiskFull', node: 'db1' } }, ['labels']],
    ['an annotation', { annotations: { runbook: 'http://rb/other' } }, ['annotations']],
    ['the summary', { summary: 'disk nearly full' }, ['summary']],
    ['the details', { details: 'db1 at 98%' }, ['details']],
    ['the severity', { severity: 'warning' }, ['severity']],
    ['summary and severity', { summary: 'x', severity: 'info' }, ['summary', 'severity']],
  ])('given a triggered alert, when a repeat with %s changed, then changed = %j', (_, over, changed) => {
    const s = signal(over);
    const expected: DecidedEvent[] = changed.length
      ? [
          {
            type: 'AlertUpdated',
            data: { ...REF, summary: s.summary, details: s.details, severity: s.severity, labels: s.labels, annotations: s.annotations, changed },
          },
        ]
      : [];
    given(triggered).when(report(s)).then(expected);
  });

  it('given an update, when the updated content repeats, then nothing', () => {
    const updated: DecidedEvent = { type: 'AlertUpdated', data: { ...triggered.data, summary: 'new', changed: ['summary'] } };
    given(triggered, updated).when(report(signal({ summary: 'new' }))).then([]);
  });

  it.each([
    ['triggered', [triggered]],
    ['acknowledged', [triggered, acknowledged]],
  ])('given a %s alert, when a resolved signal, then AlertResolved by the source with endsAt', (_, history) => {
    given(...history).when(report(signal({ status: 'resolved', endsAt: ENDS_AT }))).then([resolvedBySource]);
  });

  it('given no alert, when a resolved signal, then nothing', () => {
    given().when(report(signal({ status: 'resolved', endsAt: ENDS_AT }))).then([]);
  });

  it('given a resolved alert, when it fires again, then a new alert with a new id', () => {
    expect(evolve(evolve(undefined, triggered), resolvedBySource)).toBeUndefined();
    given(triggered, resolvedBySource).when(report(signal())).then([{ type: 'AlertTriggered', data: { ...triggered.data, alertId: NEW_ID } }], 1);
  });
});

describe('alert decider: user commands', () => {
  it('given a triggered alert, when acknowledged, then AlertAcknowledged', () => {
    given(triggered).when(ack()).then([acknowledged]);
  });

  it('given an acknowledged alert, when acknowledged again, then nothing', () => {
    given(triggered, acknowledged).when(ack()).then([]);
  });

  it.each([
    ['triggered', [triggered]],
    ['acknowledged', [triggered, acknowledged]],
  ])('given a %s alert, when resolved by a user, then AlertResolved by the user', (_, history) => {
    given(...history)
      .when(resolve())
      .then([{ type: 'AlertResolved', data: { ...REF, by: 'user', userId: 'u1', note: 'fixed', endsAt: null } }]);
  });

  it.each<[string, DecidedEvent[], AlertCommand, AlertErrorCode]>([
    ['ack on no alert', [], ack(), 'illegal_state'],
    ['resolve on no alert', [], resolve(), 'illegal_state'],
    ['ack on a resolved alert', [triggered, resolvedBySource], ack(), 'illegal_state'],
    ['ack of another alert id', [triggered], ack(OTHER_ID), 'not_found'],
    ['resolve of another alert id', [triggered, acknowledged], resolve(OTHER_ID), 'not_found'],
  ])('%s throws %s', (_, history, command, code) => {
    given(...history).when(command).thenThrows(code);
  });
});
