import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../errors.js';
import { MANUAL_LIMITS, toManualAlert } from './manual-alert.js';

const base = {
  serviceId: 'checkout',
  summary: 'Fibre cut',
  details: '',
  severity: 4,
  labels: {},
  annotations: {},
  dedupKey: '',
  createdByUserId: '',
  requestId: '',
};

const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

describe('toManualAlert', () => {
  it('takes a minimal request: empty optional fields are null', () => {
    expect(toManualAlert(base)).toStrictEqual({
      serviceId: 'checkout',
      summary: 'Fibre cut',
      details: '',
      severity: 'critical',
      labels: {},
      annotations: {},
      dedupKey: null,
      createdByUserId: null,
      requestId: null,
    });
  });

  it.each([
    [1, 'info'],
    [2, 'warning'],
    [3, 'error'],
    [4, 'critical'],
  ])('severity %i is %s', (severity, word) => {
    expect(toManualAlert({ ...base, severity }).severity).toBe(word);
  });

  it.each<[string, Partial<typeof base>, string]>([
    ['a missing service', { serviceId: '' }, 'service_id'],
    ['a blank service', { serviceId: '   ' }, 'service_id'],
    ['a service id with a subject wildcard', { serviceId: 'check.*' }, 'service_id'],
    ['an upper-case service id', { serviceId: 'Checkout' }, 'service_id'],
    ['a missing summary', { summary: '' }, 'summary'],
    ['a blank summary', { summary: ' \n ' }, 'summary'],
    ['a huge summary', { summary: 'x'.repeat(MANUAL_LIMITS.summary + 1) }, 'summary'],
    ['huge details', { details: 'x'.repeat(MANUAL_LIMITS.details + 1) }, 'details'],
    ['severity unspecified', { severity: 0 }, 'severity'],
    ['an unknown severity number', { severity: 9 }, 'severity'],
    ['a negative severity', { severity: -1 }, 'severity'],
    ['too many labels', { labels: many(MANUAL_LIMITS.mapEntries + 1) }, 'labels'],
    ['an empty label key', { labels: { '': 'x' } }, 'labels'],
    ['a label key with a line break', { labels: { 'a\nb': 'x' } }, 'labels[a\nb]'],
    ['a huge label key', { labels: { ['k'.repeat(MANUAL_LIMITS.key + 1)]: 'x' } }, `labels[${'k'.repeat(64)}]`],
    ['a huge label value', { labels: { site: 'x'.repeat(MANUAL_LIMITS.labelValue + 1) } }, 'labels[site]'],
    ['too many annotations', { annotations: many(MANUAL_LIMITS.mapEntries + 1) }, 'annotations'],
    ['a huge annotation', { annotations: { runbook: 'x'.repeat(MANUAL_LIMITS.annotationValue + 1) } }, 'annotations[runbook]'],
    ['a huge dedup key', { dedupKey: 'd'.repeat(MANUAL_LIMITS.dedupKey + 1) }, 'dedup_key'],
    ['a dedup key with a tab', { dedupKey: 'a\tb' }, 'dedup_key'],
    ['a huge user id', { createdByUserId: 'u'.repeat(MANUAL_LIMITS.userId + 1) }, 'created_by_user_id'],
    ['a huge request id', { requestId: 'r'.repeat(MANUAL_LIMITS.requestId + 1) }, 'request_id'],
    ['a request id with a DEL character', { requestId: 'a\u007fb' }, 'request_id'],
  ])('refuses %s, naming %s', (_, over, field) => {
    let err: unknown;
    try {
      toManualAlert({ ...base, ...over });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgument);
    expect((err as InvalidArgument).field).toBe(field);
  });

  it('keeps multi-line summaries and details, and the limits themselves', () => {
    const at = toManualAlert({
      ...base,
      summary: 's'.repeat(MANUAL_LIMITS.summary),
      details: 'line 1\nline 2',
      labels: many(MANUAL_LIMITS.mapEntries),
      dedupKey: 'core-switch-1',
      createdByUserId: 'alice',
      requestId: 'r-1',
    });
    expect(at).toMatchObject({ details: 'line 1\nline 2', dedupKey: 'core-switch-1', createdByUserId: 'alice', requestId: 'r-1' });
    expect(Object.keys(at.labels)).toHaveLength(MANUAL_LIMITS.mapEntries);
  });
});
