import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Signal } from '@oncall/contracts';
import { fingerprintOfLabels } from './common.js';
import { GenericPayload, normaliseGeneric } from './generic.js';

type Json = Record<string, unknown>;
type Batch = Json & { alerts: Json[] };

const fixture = <T = Json>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/generic/${name}`, import.meta.url), 'utf8')) as T;

function normalise(raw: unknown) {
  const parsed = GenericPayload.safeParse(raw);
  if (!parsed.success) throw new Error(`payload rejected: ${parsed.error.message}`);
  return normaliseGeneric(parsed.data);
}

const one = (raw: unknown): Signal => {
  const { signals } = normalise(raw);
  expect(signals).toHaveLength(1);
  return signals[0]!;
};

/** The smallest valid alert, plus a patch. */
const alert = (patch: Json = {}): Json => ({ summary: 'Queue depth above 10k', ...patch });

describe('generic fixtures', () => {
  it.each<[string, Signal[]]>([
    [
      'single.json',
      [
        {
          // fingerprintOfLabels({ host, job, __summary }), pinned so a change of the formula shows.
          fingerprint: '5a4c0e06972b6bb8',
          status: 'firing',
          summary: 'Nightly backup of db-main failed',
          details: 'pg_dump exited with status 1: could not connect to server: Connection refused',
          severity: 'error',
          labels: { job: 'backup', host: 'db-main' },
          annotations: { runbook_url: 'https://runbooks.example.com/backup-failed' },
          startsAt: null,
          endsAt: null,
          generatorUrl: 'https://cron.example.com/jobs/backup',
          links: [
            { href: 'https://ci.example.com/jobs/backup/1432', text: 'Job log' },
            { href: 'https://status.example.com/db-main', text: 'https://status.example.com/db-main' },
          ],
          custom: {},
        },
      ],
    ],
    [
      'batch.json',
      [
        {
          fingerprint: 'disk-app-3-var',
          status: 'firing',
          summary: 'Disk /var at 95% on app-3',
          details: '',
          severity: 'warning',
          labels: { host: 'app-3', mount: '/var' },
          annotations: {},
          startsAt: null,
          endsAt: null,
          generatorUrl: null,
          links: [],
          custom: {},
        },
        {
          fingerprint: '5f1d94f90ecb2145',
          status: 'firing',
          summary: 'Certificate for api.example.com expires in 3 days',
          details: 'Not after: 2026-03-17T00:00:00Z',
          severity: 'critical',
          labels: { domain: 'api.example.com' },
          annotations: {},
          startsAt: null,
          endsAt: null,
          generatorUrl: null,
          links: [],
          custom: {},
        },
        {
          fingerprint: 'disk-app-3-var',
          status: 'resolved',
          summary: 'Disk /var at 95% on app-3',
          details: '',
          severity: 'unknown',
          labels: { host: 'app-3', mount: '/var' },
          annotations: {},
          startsAt: null,
          endsAt: null,
          generatorUrl: null,
          links: [],
          custom: {},
        },
      ],
    ],
  ])('%s normalises to the expected signals', (name, expected) => {
    const { signals, context } = normalise(fixture(name));
    expect(signals).toStrictEqual(expected);
    expect(context).toStrictEqual({});
    for (const s of signals) expect(Signal.safeParse(s).success).toBe(true);
  });

  it('a single alert and a batch of that one alert give the same signals', () => {
    const single = fixture('single.json');
    expect(normalise({ alerts: [single] })).toStrictEqual(normalise(single));
  });

  it('an empty batch gives no signals', () => {
    expect(normalise({ alerts: [] }).signals).toStrictEqual([]);
  });
});

describe('generic normalisation', () => {
  it('the smallest alert: defaults everywhere', () => {
    expect(one(alert())).toStrictEqual({
      fingerprint: fingerprintOfLabels({ __summary: 'Queue depth above 10k' }),
      status: 'firing',
      summary: 'Queue depth above 10k',
      details: '',
      severity: 'unknown',
      labels: {},
      annotations: {},
      startsAt: null,
      endsAt: null,
      generatorUrl: null,
      links: [],
      custom: {},
    });
  });

  it.each<[string, Json, Json, boolean]>([
    ['identical summary and labels', alert({ labels: { q: 'jobs' } }), alert({ labels: { q: 'jobs' } }), true],
    ['the same labels in another order', alert({ labels: { q: 'jobs', dc: 'eu' } }), alert({ labels: { dc: 'eu', q: 'jobs' } }), true],
    [
      'identical summary and labels, other details and severity',
      alert({ details: 'a', severity: 'P1' }),
      alert({ details: 'b', severity: 'low' }),
      true,
    ],
    ['a trigger and its close', alert(), alert({ action: 'close' }), true],
    ['the same dedup_key, different summaries', alert({ dedup_key: 'k' }), { summary: 'other', dedup_key: 'k' }, true],
    ['the same summary, different labels', alert({ labels: { q: 'jobs' } }), alert({ labels: { q: 'mail' } }), false],
    ['the same labels, different summaries', { summary: 'a', labels: { q: 'jobs' } }, { summary: 'b', labels: { q: 'jobs' } }, false],
    ['the same summary, one with a dedup_key', alert(), alert({ dedup_key: 'k' }), false],
  ])('fingerprint: %s', (_, a, b, same) => {
    const [fa, fb] = [one(a).fingerprint, one(b).fingerprint];
    expect(fa === fb).toBe(same);
  });

  it('a summary label cannot pose as the summary', () => {
    expect(one(alert({ labels: { summary: 'Queue depth above 10k' } })).fingerprint).not.toBe(one(alert()).fingerprint);
  });

  it.each<[string | undefined, Signal['severity']]>([
    [undefined, 'unknown'],
    ['critical', 'critical'],
    ['SEV2', 'error'],
    ['warn', 'warning'],
    ['informational', 'info'],
    ['whatever', 'unknown'],
  ])('severity %j → %s', (severity, expected) => {
    expect(one(alert(severity === undefined ? {} : { severity })).severity).toBe(expected);
  });

  it.each<[Json, Signal['status']]>([
    [{}, 'firing'],
    [{ action: 'trigger' }, 'firing'],
    [{ action: 'close' }, 'resolved'],
  ])('action %j → %s', (patch, status) => {
    expect(one(alert(patch)).status).toBe(status);
  });

  it.each<[Json, Signal['links']]>([
    [{ links: [{ href: 'https://a.example/x', text: 'X' }] }, [{ href: 'https://a.example/x', text: 'X' }]],
    [{ links: [{ href: 'https://a.example/y' }] }, [{ href: 'https://a.example/y', text: 'https://a.example/y' }]],
    [{ links: [{ href: 'https://a.example/z', text: '' }] }, [{ href: 'https://a.example/z', text: 'https://a.example/z' }]],
    [{ links: [] }, []],
  ])('links %j', (patch, links) => {
    expect(one(alert(patch)).links).toStrictEqual(links);
  });

  it.each<[Json, string | null]>([
    [{ source_url: 'https://cron.example.com/x' }, 'https://cron.example.com/x'],
    [{ source_url: '' }, null],
    [{}, null],
  ])('source_url %j → generatorUrl %j', (patch, url) => {
    expect(one(alert(patch)).generatorUrl).toBe(url);
  });

  it('unknown keys are ignored, single and batch', () => {
    const single = fixture('single.json');
    const batch = fixture<Batch>('batch.json');
    expect(normalise({ ...single, timestamp: '2026-01-01T00:00:00Z', extra: { deep: [1] } })).toStrictEqual(normalise(single));
    expect(normalise({ ...batch, version: 2, alerts: batch.alerts.map((a) => ({ ...a, colour: 'red' })) })).toStrictEqual(normalise(batch));
  });
});

describe('GenericPayload rejects bad payloads, naming the field', () => {
  const batchWith = (i: number, patch: Json, drop: string[] = []): Batch => {
    const b = fixture<Batch>('batch.json');
    const a = { ...b.alerts[i]!, ...patch };
    for (const k of drop) delete a[k];
    b.alerts[i] = a;
    return b;
  };

  it.each<[string, unknown, Array<string | number>]>([
    ['a body that is an array', [alert()], []],
    ['a body that is a string', 'Queue depth above 10k', []],
    ['a body that is null', null, []],
    ['an empty object (no summary)', {}, ['summary']],
    ['missing summary', { severity: 'critical', labels: { q: 'jobs' } }, ['summary']],
    ['an empty summary', alert({ summary: '' }), ['summary']],
    ['a summary over 1024 characters', alert({ summary: 'x'.repeat(1025) }), ['summary']],
    ['a numeric summary', alert({ summary: 42 }), ['summary']],
    ['details not a string', alert({ details: { a: 1 } }), ['details']],
    ['a numeric severity', alert({ severity: 1 }), ['severity']],
    ['a label value that is a number', alert({ labels: { x: 1 } }), ['labels', 'x']],
    ['labels as an array', alert({ labels: ['a'] }), ['labels']],
    ['an annotation value that is a boolean', alert({ annotations: { ok: true } }), ['annotations', 'ok']],
    ['an empty dedup_key', alert({ dedup_key: '' }), ['dedup_key']],
    ['a dedup_key over 255 characters', alert({ dedup_key: 'k'.repeat(256) }), ['dedup_key']],
    ['an unknown action', alert({ action: 'resolve' }), ['action']],
    ['links not an array', alert({ links: 'https://a.example' }), ['links']],
    ['a link without href', alert({ links: [{ text: 'x' }] }), ['links', 0, 'href']],
    ['a link with an empty href', alert({ links: [{ href: 'https://a.example' }, { href: '' }] }), ['links', 1, 'href']],
    ['a link text that is a number', alert({ links: [{ href: 'https://a.example', text: 1 }] }), ['links', 0, 'text']],
    ['source_url not a string', alert({ source_url: 7 }), ['source_url']],
    ['alerts not an array', { alerts: alert() }, ['alerts']],
    ['alerts null', { alerts: null }, ['alerts']],
    ['a batch with one alert missing its summary', batchWith(1, {}, ['summary']), ['alerts', 1, 'summary']],
    ['a batch with one bad label', batchWith(2, { labels: { host: 'app-3', mount: null } }), ['alerts', 2, 'labels', 'mount']],
    ['a batch with one bad action', batchWith(0, { action: 'open' }), ['alerts', 0, 'action']],
    ['a batch with one alert not an object', { alerts: [alert(), 'oops'] }, ['alerts', 1]],
  ])('%s', (_, payload, path) => {
    const result = GenericPayload.safeParse(payload);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toStrictEqual([path]);
  });

  it('a batch reports every bad alert by index', () => {
    const result = GenericPayload.safeParse({ alerts: [alert(), {}, alert({ severity: 2 })] });
    expect(result.error?.issues.map((i) => i.path)).toStrictEqual([
      ['alerts', 1, 'summary'],
      ['alerts', 2, 'severity'],
    ]);
  });

  it("issues keep zod's own messages", () => {
    const result = GenericPayload.safeParse(alert({ labels: { x: 1 } }));
    expect(result.error?.issues[0]?.message).toBe('Expected string, received number');
  });
});
