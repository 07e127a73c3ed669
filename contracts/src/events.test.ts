import { describe, expect, it } from 'vitest';
import { z, ZodError } from 'zod';
import {
  decodeEvent,
  encodeEvent,
  EVENT_TYPES,
  EventDecodeError,
  makeEvent,
  stableUuid,
  type EventData,
  type EventType,
} from './events.js';

const ALERT = { alertId: '11111111-1111-4111-8111-111111111111', serviceId: 'svc', fingerprint: 'fp-1' };
const CONTENT = { summary: 's', details: 'd', severity: 'critical', labels: { a: '1' }, annotations: {} } as const;
const LINKS = [{ href: 'http://grafana/d/1', text: 'Dashboard' }];
const CUSTOM = { values: { B: 99.5 }, tags: ['db'] };
const SEEN_AT = '2026-01-01T00:05:00.000Z';
const HASH = 'a'.repeat(64);
const META = {
  id: '22222222-2222-4222-8222-222222222222',
  occurredAt: '2026-01-01T00:00:00.000Z',
  causationId: null,
  correlationId: 'corr-1',
};

/** One valid `data` per event type; the table below fails to compile when a type is added. */
const SAMPLES: { [T in EventType]: EventData<T> } = {
  SignalsReceived: {
    serviceId: 'svc',
    source: 'alertmanager',
    requestId: 'req-1',
    signals: [
      {
        fingerprint: 'fp-1',
        status: 'firing',
        ...CONTENT,
        labels: { a: '1' },
        annotations: {},
        startsAt: null,
        endsAt: null,
        generatorUrl: null,
        links: LINKS,
        custom: CUSTOM,
      },
      { fingerprint: 'fp-2', status: 'acknowledged', ...CONTENT, startsAt: null, endsAt: null, generatorUrl: null, links: [], custom: {} },
    ],
    context: { groupKey: 'g' },
  },
  AlertTriggered: {
    ...ALERT,
    ...CONTENT,
    labels: { a: '1' },
    annotations: {},
    links: LINKS,
    custom: CUSTOM,
    source: 'grafana',
    startsAt: '2026-01-01T00:00:00Z',
    generatorUrl: null,
    seenAt: SEEN_AT,
  },
  AlertUpdated: {
    ...ALERT,
    ...CONTENT,
    labels: { a: '2' },
    annotations: {},
    links: [],
    custom: {},
    changed: ['labels', 'links', 'custom'],
    repeatCount: 0,
    seenAt: SEEN_AT,
  },
  AlertRepeated: { ...ALERT, repeatCount: 3, seenAt: SEEN_AT, links: [], custom: { values: { B: 1 } } },
  AlertAcknowledged: { ...ALERT, by: 'user', userId: 'u1', note: '' },
  AlertResolved: { ...ALERT, by: 'source', userId: null, note: '', endsAt: '2026-01-01T01:00:00Z' },
  ServiceConfigured: { serviceId: 'svc', name: 'Svc', description: '', integrationKeys: [{ name: 'am', keyHash: HASH }] },
  ServiceRemoved: { serviceId: 'svc' },
  HeartbeatMonitorConfigured: { monitorId: 'hb-1', serviceId: 'svc', name: 'nightly backup', intervalSeconds: 300 },
  HeartbeatMonitorRemoved: { monitorId: 'hb-1' },
  HeartbeatReceived: { monitorId: 'hb-1', serviceId: 'svc', receivedAt: SEEN_AT },
};

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('makeEvent / encodeEvent / decodeEvent', () => {
  it.each(EVENT_TYPES)('%s round-trips', (type) => {
    const event = makeEvent(type, SAMPLES[type] as never, { ...META, causationSeq: 7 });
    expect(event).toMatchObject({ type, v: 1, data: SAMPLES[type], ...META, causationSeq: 7 });
    expect(decodeEvent(encodeEvent(event))).toStrictEqual(event);
  });

  it.each<[string, EventType, unknown]>([
    ['alertId not a UUID', 'AlertAcknowledged', { ...SAMPLES.AlertAcknowledged, alertId: 'x' }],
    ['keyHash not sha256 hex', 'ServiceConfigured', { ...SAMPLES.ServiceConfigured, integrationKeys: [{ name: 'k', keyHash: 'secret' }] }],
    ['no signals', 'SignalsReceived', { ...SAMPLES.SignalsReceived, signals: [] }],
    ['an empty changed list', 'AlertUpdated', { ...SAMPLES.AlertUpdated, changed: [] }],
    ['an unknown severity', 'AlertTriggered', { ...SAMPLES.AlertTriggered, severity: 'high' }],
    ['an unknown signal status', 'SignalsReceived', { ...SAMPLES.SignalsReceived, signals: [{ ...SAMPLES.SignalsReceived.signals[0], status: 'snoozed' }] }],
    ['a signal without links', 'SignalsReceived', { ...SAMPLES.SignalsReceived, signals: [{ ...SAMPLES.SignalsReceived.signals[0], links: undefined }] }],
    ['a signal without custom', 'SignalsReceived', { ...SAMPLES.SignalsReceived, signals: [{ ...SAMPLES.SignalsReceived.signals[0], custom: undefined }] }],
    ['a link without text', 'AlertTriggered', { ...SAMPLES.AlertTriggered, links: [{ href: 'http://x' }] }],
    ['custom that is an array', 'AlertTriggered', { ...SAMPLES.AlertTriggered, custom: [1, 2] }],
    ['a triggered alert without seenAt', 'AlertTriggered', { ...SAMPLES.AlertTriggered, seenAt: undefined }],
    ['seenAt not a time', 'AlertTriggered', { ...SAMPLES.AlertTriggered, seenAt: 'yesterday' }],
    ['an update without repeatCount', 'AlertUpdated', { ...SAMPLES.AlertUpdated, repeatCount: undefined }],
    ['a negative update repeatCount', 'AlertUpdated', { ...SAMPLES.AlertUpdated, repeatCount: -1 }],
    ['an update without links', 'AlertUpdated', { ...SAMPLES.AlertUpdated, links: undefined }],
    ['a repeatCount of 0', 'AlertRepeated', { ...SAMPLES.AlertRepeated, repeatCount: 0 }],
    ['a fractional repeatCount', 'AlertRepeated', { ...SAMPLES.AlertRepeated, repeatCount: 1.5 }],
    ['a repeat without seenAt', 'AlertRepeated', { ...SAMPLES.AlertRepeated, seenAt: undefined }],
    ['an acknowledgement without by', 'AlertAcknowledged', { ...SAMPLES.AlertAcknowledged, by: undefined }],
    ['an acknowledgement by a robot', 'AlertAcknowledged', { ...SAMPLES.AlertAcknowledged, by: 'robot' }],
  ])('makeEvent throws a ZodError for %s', (_, type, data) => {
    expect(() => makeEvent(type, data as never, META)).toThrow(ZodError);
  });

  it('accepts an acknowledgement by the source with no user', () => {
    const data = { ...ALERT, by: 'source', userId: null, note: '' } as const;
    expect(makeEvent('AlertAcknowledged', data, META).data).toStrictEqual(data);
  });

  it('keeps nested custom data as-is through a round trip', () => {
    const event = makeEvent('AlertTriggered', SAMPLES.AlertTriggered, META);
    expect(decodeEvent(encodeEvent(event)).data).toMatchObject({ links: LINKS, custom: CUSTOM });
  });
});

describe('decodeEvent rejects', () => {
  const valid = { type: 'ServiceRemoved', v: 1, data: { serviceId: 'svc' }, ...META };

  it.each<[string, Uint8Array, RegExp]>([
    ['non-JSON bytes', bytes('{not json'), /^event is not JSON$/],
    ['invalid UTF-8 / binary', new Uint8Array([0xff, 0x00, 0x7b]), /^event is not JSON$/],
    ['a JSON array', bytes([valid]), /^bad envelope/],
    ['an id that is not a UUID', bytes({ ...valid, id: 'nope' }), /^bad envelope/],
    ['a missing correlationId', bytes({ ...valid, correlationId: undefined }), /^bad envelope/],
    ['version 0', bytes({ ...valid, v: 0 }), /^bad envelope/],
    ['occurredAt not a time', bytes({ ...valid, occurredAt: 'now' }), /^bad envelope/],
    ['an unknown type', bytes({ ...valid, type: 'AlertExploded' }), /^unknown event AlertExploded v1$/],
    ['a prototype key as type', bytes({ ...valid, type: 'constructor' }), /^unknown event constructor v1$/],
    ['an unknown version', bytes({ ...valid, v: 2 }), /^unknown event ServiceRemoved v2$/],
    ['data failing its schema', bytes({ ...valid, data: { serviceId: 42 } }), /^bad ServiceRemoved v1: /],
  ])('%s', (_, input, message) => {
    let caught: unknown;
    try {
      decodeEvent(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EventDecodeError);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('stableUuid', () => {
  const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const names = ['', 'a', 'b', 'intake.0:req-1', 'intake.1:req-1', 'ünïcødé ✓'];

  it.each(names)('%j gives the same v4-layout UUID every time', (name) => {
    const id = stableUuid(name);
    expect(id).toMatch(V4);
    expect(z.string().uuid().safeParse(id).success).toBe(true);
    expect(stableUuid(name)).toBe(id);
  });

  it('gives different ids for different names', () => {
    expect(new Set(names.map(stableUuid)).size).toBe(names.length);
  });
});
