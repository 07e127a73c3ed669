import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { alertingV1 } from '@oncall/contracts/grpc';
import { AlertBytes } from './alert-bytes.js';
import { toProtoAlert } from './mapping.js';
import { ALERT_STATUSES, type AlertRow } from './read-model/alerts.js';

/** What ts-proto writes for the row: the bytes ListAlerts sent before AlertBytes. */
const tsProto = (row: AlertRow): Buffer => Buffer.from(alertingV1.Alert.encode(toProtoAlert(row)).finish());

const T = Date.parse('2026-10-01T00:00:02.5Z');

const ROW: AlertRow = {
  id: '6f1c1a52-6c1e-4c43-9a59-3c2f8b1a7e01',
  service_id: 'svc-7',
  fingerprint: 'fp-1',
  status: 'acknowledged',
  source: 'alertmanager',
  summary: 'InstanceDown on ams2-edge-4',
  details: 'InstanceDown has been firing for more than 2 minutes',
  severity: 'critical',
  source_severity: 'warning',
  labels: { alertname: 'InstanceDown', site: 'ams2', '10': 'numeric keys first', device: 'ams2-edge-4' },
  annotations: { summary: 'down', runbook_url: 'https://runbooks.example.net/instancedown' },
  generator_url: 'http://prometheus.example.net/graph',
  created_at: T,
  updated_at: T + 300_000,
  acknowledged_at: T + 120_000,
  acknowledged_by: 'user-3',
  resolved_at: null,
  resolved_by: null,
  snoozed_until: null,
  snoozed_by: null,
  escalated_at: T + 60_001,
  escalated_by: 'user-4',
  external_ticket_id: 'EXT-1',
  repeat_count: 3,
  last_event_seq: 2 ** 40 + 7,
  policy_id: 'policy-2',
  suppressed_by: 'maintenance',
  suppressed_until: T + 3_600_000,
  escalation_step: 1,
  escalation_round: 2,
  next_escalation_at: T + 900_000,
  escalation_stopped_reason: null,
  ticket_key: 'OPS-3',
  ticket_url: 'https://jira.example.net/browse/OPS-3',
  site: 'ams2',
  group_key: 'svc-7/3',
  incident_id: 'inc-1',
  inhibited: true,
  inhibited_by: '0b1c1a52-6c1e-4c43-9a59-3c2f8b1a7e02',
  inhibited_rule: 'site-down',
  flapping: 'started',
  tier: 'gold',
  sla_deadline: T + 600_000,
  sla_breached_at: 0,
};

/** A row as the projector leaves a fresh alert: nothing routed, every optional value null. */
const BARE: AlertRow = {
  ...ROW,
  labels: {},
  annotations: {},
  generator_url: null,
  acknowledged_at: null,
  acknowledged_by: null,
  escalated_at: null,
  escalated_by: null,
  external_ticket_id: null,
  repeat_count: 0,
  last_event_seq: 0,
  policy_id: null,
  suppressed_by: null,
  suppressed_until: null,
  escalation_step: null,
  escalation_round: null,
  next_escalation_at: null,
  ticket_key: null,
  ticket_url: null,
  site: null,
  group_key: null,
  incident_id: null,
  inhibited: null,
  inhibited_by: null,
  inhibited_rule: null,
  flapping: null,
  tier: null,
  sla_deadline: null,
  sla_breached_at: null,
};

const long = (n: number): string => 'x'.repeat(n);

describe('AlertBytes', () => {
  it.each<[string, AlertRow]>([
    ['every field set', ROW],
    ['every optional field null', BARE],
    ['a source and severities the API does not know', { ...ROW, source: 'nagios', severity: 'fatal', source_severity: 'unknown' }],
    ['strings of 127 and 128 bytes (a one- and a two-byte length)', { ...ROW, summary: long(127), details: long(128) }],
    ['a map entry of 128 bytes and more', { ...ROW, labels: { a: long(124), b: long(300) }, annotations: { [long(20_000)]: 'v' } }],
    [
      'UTF-8 of two, three and four bytes, and a lone surrogate',
      { ...ROW, summary: 'Störung – 東京 🚨', details: 'a\uD800b', labels: { é: 'ü' } },
    ],
    ['a long non-ASCII string', { ...ROW, details: 'ß'.repeat(5000) }],
    ['times with whole seconds, zero and the largest date', { ...ROW, created_at: 1_000, updated_at: 0, resolved_at: 8.64e15 }],
    ['a time before 1970 (ts-proto encodes the row)', { ...ROW, acknowledged_at: -1_500 }],
    ['a negative count (ts-proto encodes the row)', { ...ROW, repeat_count: -1 }],
    ['a sequence past 2^53 (ts-proto encodes the row)', { ...ROW, last_event_seq: 2 ** 53 + 2 }],
  ])('writes what ts-proto writes: %s', (_, row) => {
    const [bytes] = new AlertBytes().encodeAll([row]);
    expect(bytes!.equals(tsProto(row))).toBe(true);
  });

  it('gives each alert of a batch its own bytes, across a buffer that fills up', () => {
    // A batch's buffer starts at ~1 KB per alert: the 100 KB alert makes it grow mid-batch.
    const rows = [ROW, BARE, { ...ROW, details: long(100_000) }, ROW, { ...BARE, id: 'last' }];
    const encoded = new AlertBytes().encodeAll(rows);
    expect(encoded.map((b) => b.toString('hex'))).toEqual(rows.map((r) => tsProto(r).toString('hex')));
    expect(alertingV1.Alert.decode(encoded[4]!).id).toBe('last');
  });

  it('keeps the bytes of an earlier batch when it encodes the next', () => {
    const encoder = new AlertBytes();
    const [first] = encoder.encodeAll([ROW]);
    const copy = Buffer.from(first!);
    encoder.encodeAll([BARE, BARE, BARE]);
    expect(first!.equals(copy)).toBe(true);
  });

  it('writes what ts-proto writes for any row', () => {
    const text = fc.string({ unit: 'binary', maxLength: 200 });
    const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
    const time = fc.oneof(fc.integer({ min: -1e12, max: 8.64e15 }), fc.constant(0));
    const row: fc.Arbitrary<AlertRow> = fc.record({
      id: fc.uuid(),
      service_id: text,
      fingerprint: text,
      status: fc.constantFrom(...ALERT_STATUSES),
      source: fc.constantFrom('alertmanager', 'grafana', 'generic', 'pagerduty', 'heartbeat', 'manual', 'other'),
      summary: text,
      details: fc.oneof(text, fc.string({ maxLength: 2000 })),
      severity: fc.constantFrom('critical', 'error', 'warning', 'info', 'unknown', 'other'),
      source_severity: fc.constantFrom('critical', 'error', 'warning', 'info', 'unknown', 'other'),
      labels: fc.dictionary(text, text, { maxKeys: 8 }),
      annotations: fc.dictionary(text, fc.string({ maxLength: 300 }), { maxKeys: 4 }),
      generator_url: nullable(text),
      created_at: time,
      updated_at: time,
      acknowledged_at: nullable(time),
      acknowledged_by: nullable(text),
      resolved_at: nullable(time),
      resolved_by: nullable(text),
      snoozed_until: nullable(time),
      snoozed_by: nullable(text),
      escalated_at: nullable(time),
      escalated_by: nullable(text),
      external_ticket_id: nullable(text),
      repeat_count: fc.integer({ min: -5, max: 2 ** 31 - 1 }),
      last_event_seq: fc.oneof(fc.nat(), fc.maxSafeNat()),
      policy_id: nullable(text),
      suppressed_by: nullable(text),
      suppressed_until: nullable(time),
      escalation_step: nullable(fc.integer({ min: -3, max: 100 })),
      escalation_round: nullable(fc.integer({ min: -3, max: 100 })),
      next_escalation_at: nullable(time),
      escalation_stopped_reason: nullable(text),
      ticket_key: nullable(text),
      ticket_url: nullable(text),
      site: nullable(text),
      group_key: nullable(text),
      incident_id: nullable(text),
      inhibited: nullable(fc.boolean()),
      inhibited_by: nullable(text),
      inhibited_rule: nullable(text),
      flapping: nullable(text),
      tier: nullable(text),
      sla_deadline: nullable(time),
      sla_breached_at: nullable(time),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 5 }), (rows) => {
        const encoded = new AlertBytes().encodeAll(rows);
        expect(encoded.map((b) => b.toString('hex'))).toEqual(rows.map((r) => tsProto(r).toString('hex')));
      }),
      { numRuns: 300 },
    );
  });
});
