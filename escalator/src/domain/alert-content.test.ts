import type { AlertSnapshot } from '@oncall/contracts';
import { describe, expect, it } from 'vitest';
import { alertWith, compactAlert, SharedStrings } from './alert-content.js';

/** A fresh copy of every string, as a decoder makes them. */
const copy = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

const alert = (n: number): AlertSnapshot => ({
  alertId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  serviceId: copy('edge-network'),
  serviceName: copy('edge-network'),
  fingerprint: `fp-${n}`,
  status: 'triggered',
  summary: copy(`InstanceDown on fra1-edge-0${n}`),
  details: copy('InstanceDown on a router behind fra1-core-1'),
  severity: 'critical',
  labels: { alertname: copy('InstanceDown'), site: copy('fra1'), instance: copy(`10.0.0.${n}:9100`) },
  annotations: {
    summary: copy(`InstanceDown on fra1-edge-0${n}`),
    description: copy('InstanceDown on a router behind fra1-core-1'),
    runbook_url: copy('https://runbooks.example.net/instancedown'),
  },
  links: [],
  source: 'alertmanager',
  triggeredAt: '2026-12-06T08:00:00.000Z',
});

describe('compactAlert', () => {
  it('keeps the alert as it is, key order included', () => {
    const a = alert(1);
    const compact = compactAlert(a, a);
    expect(compact).toStrictEqual(a);
    expect(Object.keys(compact.labels)).toStrictEqual(Object.keys(a.labels));
    expect(JSON.stringify(compact)).toBe(JSON.stringify(a));
  });

  it('takes the content from the second argument (an update)', () => {
    const a = alert(1);
    const updated = { ...alert(2), severity: 'warning' as const, links: [{ href: 'https://x.example', text: 'x' }] };
    const compact = compactAlert(a, updated);
    expect(compact).toStrictEqual({
      ...a,
      summary: updated.summary,
      details: updated.details,
      severity: 'warning',
      labels: updated.labels,
      annotations: updated.annotations,
      links: updated.links,
    });
  });

  it('gives alerts without labels, annotations or links shared empty values', () => {
    const bare = { ...alert(1), labels: {}, annotations: {}, summary: 's', details: '' };
    const [a, b] = [compactAlert(bare, bare), compactAlert(bare, bare)];
    expect(a).toStrictEqual(bare);
    expect(a.labels).toBe(b.labels);
    expect(a.annotations).toBe(b.annotations);
    expect(a.links).toBe(b.links);
  });

  it('keeps labels that are not a map as they are (the rules refuse such an alert)', () => {
    const broken = { ...alert(1), labels: null as unknown as Record<string, string> };
    expect(compactAlert(broken, broken).labels).toBeNull();
  });
});

describe('alertWith', () => {
  it.each<[string, Partial<Pick<AlertSnapshot, 'status' | 'serviceName'>>]>([
    ['a status', { status: 'acknowledged' }],
    ['a service name', { serviceName: 'Edge network' }],
    ['both', { status: 'resolved', serviceName: 'Edge network' }],
    ['nothing', {}],
  ])('changes %s and nothing else, sharing the content', (_, changes) => {
    const a = compactAlert(alert(1), alert(1));
    const changed = alertWith(a, changes);
    expect(changed).toStrictEqual({ ...a, ...changes });
    expect(changed.labels).toBe(a.labels);
  });
});

describe('SharedStrings', () => {
  // Which of two equal strings is kept cannot be seen from JavaScript; how many are kept can.
  it('keeps each string once, and forgets them all past its bound', () => {
    const strings = new SharedStrings(3);
    for (const s of ['a', 'b', 'a', 'a', 'b']) strings.of(copy(s));
    expect(strings.size).toBe(2);
    strings.of('c');
    expect(strings.size).toBe(3);
    strings.of('d');
    expect(strings.size).toBe(1);
    expect(strings.of('e')).toBe('e');
  });

  it('copies a map with its keys in order', () => {
    const map = { z: copy('1'), a: copy('2') };
    const strings = new SharedStrings();
    const shared = strings.map(map);
    expect(shared).toStrictEqual(map);
    expect(strings.size).toBe(2);
    expect(shared).not.toBe(map);
    expect(Object.keys(shared)).toStrictEqual(['z', 'a']);
  });
});
