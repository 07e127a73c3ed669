import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AlertmanagerPayload, normaliseAlertmanager } from './alertmanager.js';
import { fingerprintOfLabels } from './common.js';

type Json = Record<string, unknown> & { alerts: Array<Record<string, unknown>> };

const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/alertmanager/${name}`, import.meta.url), 'utf8')) as Json;

/** Parses a raw payload and normalises its single alert. */
function normaliseOne(raw: unknown) {
  const parsed = AlertmanagerPayload.safeParse(raw);
  if (!parsed.success) throw new Error(`fixture rejected: ${parsed.error.message}`);
  const { signals, context } = normaliseAlertmanager(parsed.data);
  expect(signals).toHaveLength(1);
  return { signal: signals[0]!, context };
}

describe('alertmanager fixtures (v0.25)', () => {
  it.each(['v0.25-firing.json', 'v0.25-resolved.json'])('%s is accepted', (name) => {
    expect(AlertmanagerPayload.safeParse(fixture(name)).success).toBe(true);
  });

  it('firing: normalised signal', () => {
    const { signal } = normaliseOne(fixture('v0.25-firing.json'));
    expect(signal).toStrictEqual({
      fingerprint: '3803e91d9c8292eb',
      status: 'firing',
      summary: 'run-123 stuck',
      details: '',
      severity: 'critical',
      labels: { alertname: 'RunStuck', run_id: 'run-123', service: 'orchestrator', severity: 'page' },
      annotations: { runbook_url: 'http://example.invalid/rb', summary: 'run-123 stuck' },
      startsAt: '2026-11-23T11:37:58.000Z',
      endsAt: null,
      generatorUrl: 'http://127.0.0.1:3000/runs/run-123',
      links: [],
      custom: {},
    });
  });

  it('resolved: status and endsAt as an ISO string', () => {
    const { signal } = normaliseOne(fixture('v0.25-resolved.json'));
    expect(signal.fingerprint).toBe('3803e91d9c8292eb');
    expect(signal.status).toBe('resolved');
    expect(signal.endsAt).toBe('2026-11-23T11:38:15.000Z');
  });

  it('context keeps the group key, truncation and common labels', () => {
    const { context } = normaliseOne(fixture('v0.25-firing.json'));
    expect(context).toMatchObject({
      receiver: 'hook',
      status: 'firing',
      groupKey: '{}:{alertname="RunStuck", service="orchestrator"}',
      truncatedAlerts: 0,
      commonLabels: { alertname: 'RunStuck', run_id: 'run-123', service: 'orchestrator', severity: 'page' },
      externalURL: 'http://vm:9093',
    });
  });
});

describe('alertmanager normalisation fallbacks', () => {
  const withAlert = (patch: Record<string, unknown>, drop: string[] = []): Json => {
    const p = fixture('v0.25-firing.json');
    const alert = { ...p.alerts[0]!, ...patch };
    for (const k of drop) delete alert[k];
    return { ...p, alerts: [alert] };
  };

  it('an alert without a fingerprint gets the fingerprint of its labels', () => {
    const p = withAlert({}, ['fingerprint']);
    const { signal } = normaliseOne(p);
    expect(signal.fingerprint).toBe(fingerprintOfLabels(p.alerts[0]!.labels as Record<string, string>));
  });

  it.each<[string, Record<string, string>, string]>([
    ['description', { description: 'd' }, 'd'],
    ['message', { message: 'm' }, 'm'],
    ['the alert name', {}, 'RunStuck'],
  ])('summary falls back to %s', (_, annotations, summary) => {
    expect(normaliseOne(withAlert({ annotations })).signal.summary).toBe(summary);
  });

  it.each<[string, Record<string, string>, string]>([
    ['priority when severity is missing', { alertname: 'A', priority: 'P3' }, 'warning'],
    ['unknown without either label', { alertname: 'A' }, 'unknown'],
  ])('severity: %s', (_, labels, severity) => {
    expect(normaliseOne(withAlert({ labels })).signal.severity).toBe(severity);
  });

  it('an empty generatorURL becomes null', () => {
    expect(normaliseOne(withAlert({ generatorURL: '' })).signal.generatorUrl).toBeNull();
  });
});

describe('AlertmanagerPayload rejects bad payloads, naming the field', () => {
  const mutate = (f: (p: Json) => void): Json => {
    const p = fixture('v0.25-firing.json');
    f(p);
    return p;
  };

  it.each<[string, Json, Array<string | number>]>([
    ['wrong version', mutate((p) => (p.version = '3')), ['version']],
    [
      'a label value that is a number',
      mutate((p) => ((p.alerts[0]!.labels as Record<string, unknown>).x = 1)),
      ['alerts', 0, 'labels', 'x'],
    ],
    ['missing alerts', mutate((p) => delete (p as Partial<Json>).alerts), ['alerts']],
    ['an invalid payload status', mutate((p) => (p.status = 'pending')), ['status']],
    ['an invalid alert status', mutate((p) => (p.alerts[0]!.status = 'pending')), ['alerts', 0, 'status']],
    ['startsAt not a date', mutate((p) => (p.alerts[0]!.startsAt = 'yesterday')), ['alerts', 0, 'startsAt']],
  ])('%s', (_, payload, path) => {
    const result = AlertmanagerPayload.safeParse(payload);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toStrictEqual([path]);
  });
});
