import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlertmanagerPayload, normaliseAlertmanager, parseAlertmanager } from './alertmanager.js';
import { GrafanaPayload, normaliseGrafana, parseGrafana } from './grafana.js';
import type { CheckedParse } from './compiled.js';
import type { z } from 'zod';

/** What the server sees: parsed JSON (no undefined, no functions); `undefined` fields are left out. */
const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v) ?? 'null') as unknown;

/** Mostly the valid value, sometimes any JSON value or nothing: bodies near the edge of the schema. */
const maybeBroken = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 12, arbitrary: valid },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );

/** Strings whose UTF-16 length and code-point count differ, around the schema's limits. */
const text = (max: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'grapheme', maxLength: 6 }),
    fc.constantFrom('', '\u{1F525}'.repeat(max / 2), '\u{1F525}'.repeat(max / 2 + 1), 'x'.repeat(max), 'x'.repeat(max + 1)),
  );

const labels = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(fc.oneof(text(1024), fc.constantFrom('alertname', 'severity')), text(64 * 1024), { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }) },
);

const time = fc.oneof(
  fc
    .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '0001-01-01T00:00:00Z',
    '2026-11-23t10:00:00z',
    '2026-11-23T10:00:00+0200',
    '2026-11-23T10:00:00.123456789-05:30',
    '2026-11-23T10:00:60Z',
    '2026-11-23 10:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-11-23T10:00:00',
    '',
  ),
);

const amAlert = fc.record({
  status: maybeBroken(fc.constantFrom('firing', 'resolved')),
  labels: maybeBroken(labels),
  annotations: maybeBroken(labels),
  startsAt: maybeBroken(time),
  endsAt: maybeBroken(time),
  generatorURL: maybeBroken(fc.string({ maxLength: 8 })),
  fingerprint: maybeBroken(text(512)),
  unknownKey: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }),
});

const count = fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, -0, 2 ** 53));

const amBody = fc.record({
  version: maybeBroken(fc.constant('4')),
  groupKey: maybeBroken(fc.string({ maxLength: 8 })),
  truncatedAlerts: maybeBroken(count),
  status: maybeBroken(fc.constantFrom('firing', 'resolved')),
  receiver: maybeBroken(fc.string({ maxLength: 8 })),
  groupLabels: maybeBroken(labels),
  commonLabels: maybeBroken(labels),
  commonAnnotations: maybeBroken(labels),
  externalURL: maybeBroken(fc.string({ maxLength: 8 })),
  alerts: maybeBroken(fc.array(amAlert, { maxLength: 3 })),
  extra: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }),
});

const grafanaAlert = amAlert.chain((a) =>
  fc.record({
    ...Object.fromEntries(Object.entries(a).map(([k, v]) => [k, fc.constant(v)])),
    silenceURL: maybeBroken(fc.string({ maxLength: 8 })),
    dashboardURL: maybeBroken(fc.string({ maxLength: 8 })),
    panelURL: maybeBroken(fc.string({ maxLength: 8 })),
    values: maybeBroken(fc.option(fc.dictionary(fc.string({ maxLength: 3 }), fc.double({ noNaN: true, noDefaultInfinity: true })))),
    valueString: maybeBroken(fc.string({ maxLength: 8 })),
    imageURL: maybeBroken(fc.string({ maxLength: 8 })),
  }),
);

const grafanaBody = fc.record({
  version: maybeBroken(fc.constant('1')),
  receiver: maybeBroken(fc.string({ maxLength: 8 })),
  status: maybeBroken(fc.constantFrom('firing', 'resolved')),
  orgId: maybeBroken(fc.oneof(fc.integer(), fc.constant(0.5))),
  groupKey: maybeBroken(fc.string({ maxLength: 8 })),
  truncatedAlerts: maybeBroken(count),
  groupLabels: maybeBroken(labels),
  commonLabels: maybeBroken(labels),
  commonAnnotations: maybeBroken(labels),
  externalURL: maybeBroken(fc.string({ maxLength: 8 })),
  title: maybeBroken(fc.string({ maxLength: 8 })),
  state: maybeBroken(fc.string({ maxLength: 8 })),
  message: maybeBroken(fc.string({ maxLength: 8 })),
  alerts: maybeBroken(fc.array(grafanaAlert, { maxLength: 3 })),
});

/**
 * The compiled check and zod accept exactly the same bodies; what is accepted normalises to the
 * same signals and context both ways; what is refused gets zod's own issues.
 */
function agree<S extends z.ZodTypeAny>(parse: CheckedParse<z.output<S>>, zod: S, normalise: (p: z.output<S>) => unknown, body: unknown) {
  const byZod = zod.safeParse(body);
  expect(parse.compiledAccepts(body)).toBe(byZod.success);
  const parsed = parse(structuredClone(body));
  expect(parsed.success).toBe(byZod.success);
  if (parsed.success && byZod.success) expect(normalise(parsed.data)).toStrictEqual(normalise(byZod.data as z.output<S>));
  if (!parsed.success && !byZod.success) expect(parsed.error.issues).toStrictEqual(byZod.error.issues);
}

const validAm = {
  version: '4',
  groupKey: '{}:{alertname="X"}',
  status: 'firing',
  receiver: 'hook',
  alerts: [{ status: 'firing', labels: { alertname: 'X' }, startsAt: '2026-11-23T10:00:00Z' }],
};
const withAlert = (patch: Record<string, unknown>) => ({ ...validAm, alerts: [{ ...validAm.alerts[0], ...patch }] });

describe('the compiled check agrees with zod', () => {
  it('on generated Alertmanager bodies, valid and broken', () => {
    fc.assert(
      fc.property(amBody.map(asJson), (body) => agree(parseAlertmanager, AlertmanagerPayload, normaliseAlertmanager, body)),
      { numRuns: 800 },
    );
  }, 30_000);

  it('on generated Grafana bodies, valid and broken', () => {
    fc.assert(
      fc.property(grafanaBody.map(asJson), (body) => agree(parseGrafana, GrafanaPayload, normaliseGrafana, body)),
      { numRuns: 800 },
    );
  }, 30_000);

  it.each([
    ['the minimal body', validAm, true],
    ['unknown keys everywhere (ignored)', { ...withAlert({ foo: [1] }), bar: { baz: null } }, true],
    ['version as a number', { ...validAm, version: 4 }, false],
    ['alerts as an object', { ...validAm, alerts: {} }, false],
    ['alerts missing', { ...validAm, alerts: undefined }, false],
    ['receiver missing', { ...validAm, receiver: undefined }, false],
    ['a body that is an array', [validAm], false],
    ['a body that is null', null, false],
    ['a body that is a string', 'alerts', false],
    ['truncatedAlerts negative', { ...validAm, truncatedAlerts: -1 }, false],
    ['truncatedAlerts fractional', { ...validAm, truncatedAlerts: 1.5 }, false],
    ['truncatedAlerts as a string', { ...validAm, truncatedAlerts: '0' }, false],
    ['commonLabels null', { ...validAm, commonLabels: null }, false],
    ['labels as an array', withAlert({ labels: ['a'] }), false],
    ['a label value that is a number', withAlert({ labels: { alertname: 'X', severity: 3 } }), false],
    ['an empty label name', withAlert({ labels: { '': 'x' } }), false],
    ['a label name of 1024 units', withAlert({ labels: { ['k'.repeat(1024)]: 'x' } }), true],
    ['a label name of 1025 units', withAlert({ labels: { ['k'.repeat(1025)]: 'x' } }), false],
    ['a label value of 64 Ki units', withAlert({ labels: { a: 'v'.repeat(65536) } }), true],
    ['a label value of 64 Ki + 1 units', withAlert({ labels: { a: 'v'.repeat(65537) } }), false],
    ['a 1 MB annotation', withAlert({ annotations: { description: 'd'.repeat(1 << 20) } }), false],
    ['a fingerprint of 256 emoji (512 units)', withAlert({ fingerprint: '\u{1F525}'.repeat(256) }), true],
    ['a fingerprint of 257 emoji (514 units, 257 code points)', withAlert({ fingerprint: '\u{1F525}'.repeat(257) }), false],
    ['startsAt missing', withAlert({ startsAt: undefined }), false],
    ['startsAt in lower case', withAlert({ startsAt: '2026-11-23t10:00:00z' }), true],
    ['startsAt with +0200', withAlert({ startsAt: '2026-11-23T10:00:00+0200' }), true],
    ['startsAt without an offset', withAlert({ startsAt: '2026-11-23T10:00:00' }), false],
    ['startsAt with a newline after it', withAlert({ startsAt: '2026-11-23T10:00:00Z\n' }), false],
    ['endsAt null', withAlert({ endsAt: null }), false],
    ['status unknown', withAlert({ status: 'pending' }), false],
    ['generatorURL as a number', withAlert({ generatorURL: 1 }), false],
  ])('%s', (_name, raw, accepted) => {
    const body = asJson(raw);
    expect(AlertmanagerPayload.safeParse(body).success).toBe(accepted);
    agree(parseAlertmanager, AlertmanagerPayload, normaliseAlertmanager, body);
  });

  it('1e400 (Infinity after JSON.parse) is not an integer for either', () => {
    const body = JSON.parse(JSON.stringify(validAm).replace('{', '{"truncatedAlerts":1e400,')) as unknown;
    expect(AlertmanagerPayload.safeParse(body).success).toBe(false);
    agree(parseAlertmanager, AlertmanagerPayload, normaliseAlertmanager, body);
  });

  it('a Grafana value of 1e400: refused by the check, accepted by zod, which decides', () => {
    const body = JSON.parse(
      JSON.stringify({ ...validAm, version: '1', orgId: 1, alerts: [{ ...validAm.alerts[0], values: { A: 0 } }] }).replace(
        '"A":0',
        '"A":1e400',
      ),
    ) as unknown;
    expect(parseGrafana.compiledAccepts(body)).toBe(false);
    const parsed = parseGrafana(body);
    expect(parsed.success && parsed.data.alerts[0]?.values).toStrictEqual({ A: Infinity });
  });

  it('fills in the defaults zod would', () => {
    const parsed = parseAlertmanager(structuredClone(validAm));
    expect(parsed.success && normaliseAlertmanager(parsed.data)).toStrictEqual(normaliseAlertmanager(AlertmanagerPayload.parse(validAm)));
    expect(parsed.success && parsed.data).toMatchObject({
      truncatedAlerts: 0,
      groupLabels: {},
      externalURL: '',
      alerts: [{ annotations: {}, generatorURL: '' }],
    });
  });
});
