import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Signal } from '@oncall/contracts';
import { normalisePagerDuty, PagerDutyEvent } from './pagerduty.js';

type Json = Record<string, unknown>;
type Event = Json & { payload?: Json };

const fixture = (name: string): Event =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/pagerduty/${name}`, import.meta.url), 'utf8')) as Event;

const FALLBACK = 'c0ffee0000000000000000000000000000000000000000000000000000000000';

function normalise(raw: unknown, fallback = FALLBACK) {
  const parsed = PagerDutyEvent.safeParse(raw);
  if (!parsed.success) throw new Error(`payload rejected: ${parsed.error.message}`);
  return normalisePagerDuty(parsed.data, fallback);
}

const one = (raw: unknown): Signal => {
  const { signals } = normalise(raw);
  expect(signals).toHaveLength(1);
  return signals[0]!;
};

/** The documented trigger example with a patch on the event and on its payload. */
function trigger(patch: Json = {}, payloadPatch: Json = {}, drop: string[] = []): Event {
  const e = fixture('trigger.json');
  const out: Event = { ...e, payload: { ...e.payload, ...payloadPatch }, ...patch };
  for (const k of drop) delete out.payload![k];
  return out;
}

type Expected = { signal: Signal; context: Json; dedupKey: string };

describe('pagerduty fixtures (Events API v2)', () => {
  it.each<[string, Expected]>([
    [
      'trigger.json',
      {
        dedupKey: 'srv01/mysql',
        context: { client: 'Sample Monitoring Service', client_url: 'https://monitoring.example.com' },
        signal: {
          fingerprint: 'srv01/mysql',
          status: 'firing',
          summary: 'DISK at 99% on machine prod-datapipe03.example.com',
          details: '',
          severity: 'critical',
          labels: {
            source: 'prod-datapipe03.example.com',
            component: 'mysql',
            group: 'prod-datapipe',
            class: 'disk',
            'free space': '1%',
            'ping time': '1500ms',
            'load avg': '0.75',
          },
          annotations: { summary: 'DISK at 99% on machine prod-datapipe03.example.com' },
          startsAt: '2015-07-17T08:42:58.315Z',
          endsAt: null,
          generatorUrl: 'https://monitoring.example.com',
          links: [
            { href: 'https://example.com/', text: 'Link text' },
            { href: 'https://example.com/', text: 'Example text' },
          ],
          custom: { custom_details: { 'free space': '1%', 'ping time': '1500ms', 'load avg': 0.75 } },
        },
      },
    ],
    [
      'trigger-minimal.json',
      {
        dedupKey: FALLBACK,
        context: {},
        signal: {
          fingerprint: FALLBACK,
          status: 'firing',
          summary: 'Example alert on host1.example.com',
          details: '',
          severity: 'warning',
          labels: { source: 'host1.example.com' },
          annotations: { summary: 'Example alert on host1.example.com' },
          startsAt: null,
          endsAt: null,
          generatorUrl: null,
          links: [],
          custom: {},
        },
      },
    ],
    [
      'acknowledge.json',
      {
        dedupKey: 'srv01/mysql',
        context: {},
        signal: {
          fingerprint: 'srv01/mysql',
          status: 'acknowledged',
          summary: '',
          details: '',
          severity: 'unknown',
          labels: {},
          annotations: {},
          startsAt: null,
          endsAt: null,
          generatorUrl: null,
          links: [],
          custom: {},
        },
      },
    ],
    [
      'resolve.json',
      {
        dedupKey: 'srv01/mysql',
        context: {},
        signal: {
          fingerprint: 'srv01/mysql',
          status: 'resolved',
          summary: '',
          details: '',
          severity: 'unknown',
          labels: {},
          annotations: {},
          startsAt: null,
          endsAt: null,
          generatorUrl: null,
          links: [],
          custom: {},
        },
      },
    ],
    [
      // Alertmanager's PagerDuty integration sends the whole payload with resolve too.
      'alertmanager-resolve.json',
      {
        dedupKey: '4d0b3f3c2b1a6c2e9e0f5d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c',
        context: { client: 'Alertmanager', client_url: 'http://alertmanager:9093/#/alerts?receiver=pagerduty' },
        signal: {
          fingerprint: '4d0b3f3c2b1a6c2e9e0f5d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c',
          status: 'resolved',
          summary: '[RESOLVED] HighErrorRate (api production)',
          details: '',
          severity: 'error',
          labels: {
            source: 'alertmanager',
            firing: '',
            num_firing: '0',
            num_resolved: '1',
            resolved:
              'Labels:\n - alertname = HighErrorRate\n - env = production\n - job = api\nAnnotations:\n - summary = 5xx above 5%\nSource: http://prometheus:9090/graph?g0.expr=...\n',
          },
          annotations: { summary: '[RESOLVED] HighErrorRate (api production)' },
          startsAt: null,
          endsAt: null,
          generatorUrl: 'http://alertmanager:9093/#/alerts?receiver=pagerduty',
          links: [],
          custom: {
            custom_details: {
              firing: '',
              num_firing: '0',
              num_resolved: '1',
              resolved:
                'Labels:\n - alertname = HighErrorRate\n - env = production\n - job = api\nAnnotations:\n - summary = 5xx above 5%\nSource: http://prometheus:9090/graph?g0.expr=...\n',
            },
          },
        },
      },
    ],
  ])('%s normalises to the expected signal', (name, expected) => {
    const { signals, context, dedupKey } = normalise(fixture(name));
    expect({ signals, context, dedupKey }).toStrictEqual({
      signals: [expected.signal],
      context: expected.context,
      dedupKey: expected.dedupKey,
    });
    expect(Signal.safeParse(signals[0]).success).toBe(true);
  });

  it('the routing key never leaves the parser: not in the signal, not in the context', () => {
    const out = normalise(fixture('trigger.json'));
    expect(JSON.stringify(out)).not.toContain('e93facc04764012d7bfb002500d5d1a6');
  });
});

describe('pagerduty normalisation', () => {
  it.each<[string, Event, string, string]>([
    ['a trigger with a dedup_key keeps it', trigger(), 'other-fallback', 'srv01/mysql'],
    ['a trigger without one takes the fallback', trigger({ dedup_key: undefined }), 'other-fallback', 'other-fallback'],
    ['acknowledge ignores the fallback', fixture('acknowledge.json'), 'other-fallback', 'srv01/mysql'],
  ])('dedup key: %s', (_, event, fallback, dedupKey) => {
    const out = normalise(event, fallback);
    expect([out.dedupKey, out.signals[0]?.fingerprint]).toStrictEqual([dedupKey, dedupKey]);
  });

  it.each(['', 'x'.repeat(513)])('a fallback dedup key that cannot be a fingerprint (%#) is a programming error', (fallback) => {
    expect(() => normalise(fixture('trigger-minimal.json'), fallback)).toThrow(RangeError);
  });

  it.each<[string, Signal['status']]>([
    ['trigger', 'firing'],
    ['acknowledge', 'acknowledged'],
    ['resolve', 'resolved'],
  ])('event_action %s → status %s', (event_action, status) => {
    expect(one(trigger({ event_action })).status).toBe(status);
  });

  it.each(['critical', 'error', 'warning', 'info'] as const)('severity %s is kept', (severity) => {
    expect(one(trigger({}, { severity })).severity).toBe(severity);
  });

  it.each<[string, string[], Record<string, string>]>([
    ['all four', [], { source: 'prod-datapipe03.example.com', component: 'mysql', group: 'prod-datapipe', class: 'disk' }],
    ['only the present ones', ['component', 'class'], { source: 'prod-datapipe03.example.com', group: 'prod-datapipe' }],
    ['source alone', ['component', 'group', 'class'], { source: 'prod-datapipe03.example.com' }],
  ])('labels: %s', (_, drop, labels) => {
    expect(one(trigger({}, {}, [...drop, 'custom_details'])).labels).toStrictEqual(labels);
  });

  const BASE = { source: 'prod-datapipe03.example.com', component: 'mysql', group: 'prod-datapipe', class: 'disk' };
  it.each<[string, unknown, Record<string, string>]>([
    ['a string is kept as it is', { carrier: 'lumen' }, { ...BASE, carrier: 'lumen' }],
    ['an empty string is a label too', { note: '' }, { ...BASE, note: '' }],
    [
      'numbers become text',
      { 'load avg': 0.75, port: 179, big: 1e21, neg: -2 },
      { ...BASE, 'load avg': '0.75', port: '179', big: '1e+21', neg: '-2' },
    ],
    ['booleans become text', { primary: true, drained: false }, { ...BASE, primary: 'true', drained: 'false' }],
    ['nested objects, arrays and nulls stay only in custom', { nested: { a: 1 }, list: ['x'], gone: null, ok: 'y' }, { ...BASE, ok: 'y' }],
    [
      'the payload fields win over custom_details',
      { class: 'cpu', source: 'elsewhere', group: 'x', component: 'y', site: 'fra1' },
      { ...BASE, site: 'fra1' },
    ],
    ['an empty key is no label', { '': 'x', site: 'fra1' }, { ...BASE, site: 'fra1' }],
    [
      'an over-long key or value is no label',
      { ['k'.repeat(1025)]: 'x', long: 'v'.repeat(64 * 1024 + 1), site: 'fra1' },
      { ...BASE, site: 'fra1' },
    ],
    ['entries keep their order after the payload fields', { b: '2', a: '1' }, { ...BASE, b: '2', a: '1' }],
    ['empty custom_details: only the payload fields', {}, BASE],
  ])('custom_details → labels: %s', (_, custom_details, labels) => {
    const signal = one(trigger({}, { custom_details }));
    expect(signal.labels).toStrictEqual(labels);
    expect(Object.keys(signal.labels)).toStrictEqual(Object.keys(labels));
    expect(signal.custom).toStrictEqual({ custom_details });
  });

  it('a custom_details entry named like an absent payload field becomes that label', () => {
    expect(one(trigger({}, { custom_details: { class: 'cpu' } }, ['class'])).labels).toMatchObject({ class: 'cpu' });
  });

  it.each<[string, Json, Signal['links']]>([
    ['none', { links: undefined, images: undefined }, []],
    ['empty lists', { links: [], images: [] }, []],
    [
      'link text defaults to the href',
      { links: [{ href: 'https://a.example/1' }], images: [] },
      [{ href: 'https://a.example/1', text: 'https://a.example/1' }],
    ],
    [
      'an image links to its href',
      { links: [], images: [{ src: 'https://img.example/1.png', href: 'https://a.example/2', alt: 'Graph' }] },
      [{ href: 'https://a.example/2', text: 'Graph' }],
    ],
    [
      'an image without href links to its src, without alt is "Image"',
      { links: [], images: [{ src: 'https://img.example/1.png' }] },
      [{ href: 'https://img.example/1.png', text: 'Image' }],
    ],
    [
      'links come before images, each in order',
      {
        images: [{ src: 'https://img.example/1.png' }, { src: 'https://img.example/2.png', alt: 'Two' }],
        links: [{ href: 'https://a.example/1', text: 'One' }, { href: 'https://a.example/2' }],
      },
      [
        { href: 'https://a.example/1', text: 'One' },
        { href: 'https://a.example/2', text: 'https://a.example/2' },
        { href: 'https://img.example/1.png', text: 'Image' },
        { href: 'https://img.example/2.png', text: 'Two' },
      ],
    ],
  ])('links: %s', (_, patch, links) => {
    expect(one(trigger(patch)).links).toStrictEqual(links);
  });

  it.each<[string, string | undefined, string | null]>([
    ['ISO with a colon offset', '2026-03-14T10:00:00.5+01:00', '2026-03-14T09:00:00.500Z'],
    ["PagerDuty's documented form without the colon", '2015-07-17T08:42:58.315+0000', '2015-07-17T08:42:58.315Z'],
    ['UTC', '2026-03-14T09:00:00Z', '2026-03-14T09:00:00.000Z'],
    ['absent', undefined, null],
  ])('timestamp %s → startsAt', (_, timestamp, startsAt) => {
    expect(one(trigger({}, { timestamp })).startsAt).toBe(startsAt);
  });

  it.each<[string, Json, Json]>([
    ['both', {}, { client: 'Sample Monitoring Service', client_url: 'https://monitoring.example.com' }],
    ['client only', { client_url: undefined }, { client: 'Sample Monitoring Service' }],
    ['neither', { client: undefined, client_url: undefined }, {}],
  ])('context: %s', (_, patch, context) => {
    expect(normalise(trigger(patch)).context).toStrictEqual(context);
  });

  it.each<[string, Json, string | null]>([
    ['client_url', {}, 'https://monitoring.example.com'],
    ['no client_url', { client_url: undefined }, null],
    ['an empty client_url', { client_url: '' }, null],
  ])('generatorUrl from %s', (_, patch, url) => {
    expect(one(trigger(patch)).generatorUrl).toBe(url);
  });

  it.each<[string, Json, Json]>([
    [
      'custom_details kept as sent',
      { custom_details: { nested: { a: [1, 'two', null] }, n: 3 } },
      { custom_details: { nested: { a: [1, 'two', null] }, n: 3 } },
    ],
    ['empty custom_details kept', { custom_details: {} }, { custom_details: {} }],
    ['no custom_details', { custom_details: undefined }, {}],
  ])('custom: %s', (_, payloadPatch, custom) => {
    expect(one(trigger({}, payloadPatch)).custom).toStrictEqual(custom);
  });

  it('unknown keys are ignored, in the event and in its payload', () => {
    const e = fixture('trigger.json');
    const extended = {
      ...e,
      payload: { ...e.payload, priority: 'P1', tags: ['db'] },
      images: [
        {
          src: 'https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png',
          href: 'https://example.com/',
          alt: 'Example text',
          width: 200,
        },
      ],
      links: [{ href: 'https://example.com/', text: 'Link text', rel: 'x' }],
      event_type: 'trigger',
      service_key: 'legacy-v1-field',
    };
    expect(normalise(extended)).toStrictEqual(normalise(e));
  });
});

describe('PagerDutyEvent rejects bad events, naming the field', () => {
  const ack = (patch: Json = {}): Event => ({ ...fixture('acknowledge.json'), ...patch });

  it.each<[string, unknown, Array<string | number>]>([
    ['a body that is an array', [fixture('trigger.json')], []],
    ['missing routing_key', trigger({ routing_key: undefined }), ['routing_key']],
    ['an empty routing_key', trigger({ routing_key: '' }), ['routing_key']],
    ['a routing_key over 256 characters', trigger({ routing_key: 'r'.repeat(257) }), ['routing_key']],
    ['missing event_action', trigger({ event_action: undefined }), ['event_action']],
    ['an Events API v1 event_type instead', { ...trigger({ event_action: undefined }), event_type: 'trigger' }, ['event_action']],
    ['an unknown event_action', trigger({ event_action: 'escalate' }), ['event_action']],
    ['a dedup_key over 255 characters', trigger({ dedup_key: 'd'.repeat(256) }), ['dedup_key']],
    ['an empty dedup_key', trigger({ dedup_key: '' }), ['dedup_key']],
    ['a numeric dedup_key', trigger({ dedup_key: 42 }), ['dedup_key']],
    ['a trigger without payload', trigger({ payload: undefined }), ['payload']],
    ['acknowledge without dedup_key', ack({ dedup_key: undefined }), ['dedup_key']],
    ['resolve without dedup_key', ack({ event_action: 'resolve', dedup_key: undefined }), ['dedup_key']],
    ['payload not an object', trigger({ payload: 'disk full' }), ['payload']],
    ['missing summary', trigger({}, {}, ['summary']), ['payload', 'summary']],
    ['an empty summary', trigger({}, { summary: '' }), ['payload', 'summary']],
    ['a summary over 1024 characters', trigger({}, { summary: 's'.repeat(1025) }), ['payload', 'summary']],
    ['missing source', trigger({}, {}, ['source']), ['payload', 'source']],
    ['an empty source', trigger({}, { source: '' }), ['payload', 'source']],
    ['missing severity', trigger({}, {}, ['severity']), ['payload', 'severity']],
    ["a severity outside PagerDuty's four", trigger({}, { severity: 'high' }), ['payload', 'severity']],
    ['a capitalised severity', trigger({}, { severity: 'Critical' }), ['payload', 'severity']],
    ['a timestamp that is not ISO 8601', trigger({}, { timestamp: '17/07/2015 08:42' }), ['payload', 'timestamp']],
    ['a timestamp in epoch seconds', trigger({}, { timestamp: 1437122578 }), ['payload', 'timestamp']],
    ['a numeric component', trigger({}, { component: 3 }), ['payload', 'component']],
    ['a numeric group', trigger({}, { group: 3 }), ['payload', 'group']],
    ['a numeric class', trigger({}, { class: 3 }), ['payload', 'class']],
    ['custom_details as a string', trigger({}, { custom_details: 'free space 1%' }), ['payload', 'custom_details']],
    ['custom_details as an array', trigger({}, { custom_details: ['a'] }), ['payload', 'custom_details']],
    [
      'a bad payload with resolve is still checked',
      ack({ event_action: 'resolve', payload: { summary: 'x', source: 'y', severity: 'fatal' } }),
      ['payload', 'severity'],
    ],
    ['images not an array', trigger({ images: { src: 'https://img.example/1.png' } }), ['images']],
    ['an image without src', trigger({ images: [{ href: 'https://a.example' }] }), ['images', 0, 'src']],
    [
      'an image alt that is a number',
      trigger({ images: [{ src: 'https://img.example/1.png' }, { src: 'https://img.example/2.png', alt: 2 }] }),
      ['images', 1, 'alt'],
    ],
    ['a link without href', trigger({ links: [{ text: 'x' }] }), ['links', 0, 'href']],
    ['a link text that is a number', trigger({ links: [{ href: 'https://a.example', text: 1 }] }), ['links', 0, 'text']],
    ['client not a string', trigger({ client: { name: 'x' } }), ['client']],
    ['client_url not a string', trigger({ client_url: 1 }), ['client_url']],
  ])('%s', (_, payload, path) => {
    const result = PagerDutyEvent.safeParse(payload);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toStrictEqual([path]);
  });

  it('the refinements name the action in their message', () => {
    const result = PagerDutyEvent.safeParse(ack({ event_action: 'resolve', dedup_key: undefined }));
    expect(result.error?.issues[0]?.message).toBe('Required to resolve');
  });
});
