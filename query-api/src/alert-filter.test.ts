import { describe, expect, it } from 'vitest';
import { alertingV1 } from '@oncall/contracts/grpc';
import { toAlertList } from './alert-filter.js';
import { InvalidArgument } from './errors.js';
import { encodePageToken } from './page-token.js';

const { AlertStatus, Severity } = alertingV1;
type Partial = Parameters<typeof alertingV1.ListAlertsRequest.fromPartial>[0];
const request = (r: Partial) => alertingV1.ListAlertsRequest.fromPartial(r);

/** The field named by the InvalidArgument that toAlertList throws for `r`. */
function invalidField(r: alertingV1.ListAlertsRequest): string {
  let caught: unknown;
  try {
    toAlertList(r);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidArgument);
  return (caught as InvalidArgument).field;
}

const id = '0b49c0f2-5a7e-4e8c-abd4-bbea11dfa803';
/** A token for the next page after (created_at, id), made for the filters of `r`. */
const tokenFor = (r: Partial, key: string[] = ['2026-11-23T10:00:00.123456+00:00', id]) =>
  encodePageToken(key, toAlertList(request(r)).digest);

describe('toAlertList', () => {
  it('an empty request is an open query, the default page, from the start', () => {
    expect(toAlertList(request({}))).toMatchObject({
      query: {
        serviceIds: [],
        statuses: [],
        severities: [],
        labelSelector: {},
        createdAfter: undefined,
        createdBefore: undefined,
        updatedAfter: undefined,
        updatedBefore: undefined,
      },
      pageSize: 100,
      after: null,
    });
  });

  it.each<[number, number]>([
    [0, 100],
    [1, 1],
    [250, 250],
    [100_000, 100_000],
  ])('page_size %i → %i', (pageSize, expected) => {
    expect(toAlertList(request({ pageSize })).pageSize).toBe(expected);
  });

  it('passes service ids, labels and time bounds through, lists sorted and deduplicated', () => {
    const after = new Date('2026-01-01T00:00:00Z');
    const before = new Date('2026-02-01T00:00:00Z');
    const { query } = toAlertList(
      request({
        serviceIds: ['b', 'a', 'b'],
        labelSelector: { site: 'ams2', env: 'prod' },
        createdAfter: after,
        createdBefore: before,
        updatedAfter: after,
        updatedBefore: before,
      }),
    );
    expect(query).toMatchObject({
      serviceIds: ['a', 'b'],
      createdAfter: after,
      createdBefore: before,
      updatedAfter: after,
      updatedBefore: before,
    });
    expect(Object.entries(query.labelSelector)).toStrictEqual([
      ['env', 'prod'],
      ['site', 'ams2'],
    ]);
  });

  it('maps statuses and severities to read-model words', () => {
    const { query } = toAlertList(
      request({
        statuses: [AlertStatus.ALERT_STATUS_TRIGGERED, AlertStatus.ALERT_STATUS_SNOOZED, AlertStatus.ALERT_STATUS_RESOLVED],
        severities: [Severity.SEVERITY_CRITICAL, Severity.SEVERITY_WARNING, Severity.SEVERITY_UNSPECIFIED],
      }),
    );
    expect(query.statuses).toStrictEqual(['resolved', 'snoozed', 'triggered']);
    expect(query.severities).toStrictEqual(['critical', 'unknown', 'warning']);
  });

  it('the same filters in another order make the same digest, other filters another', () => {
    const a = toAlertList(request({ serviceIds: ['x', 'y'], labelSelector: { a: '1', b: '2' } })).digest;
    expect(toAlertList(request({ serviceIds: ['y', 'x'], labelSelector: { b: '2', a: '1' } })).digest).toBe(a);
    expect(toAlertList(request({ serviceIds: ['x'], labelSelector: { a: '1', b: '2' } })).digest).not.toBe(a);
    expect(toAlertList(request({ serviceIds: ['x', 'y'], labelSelector: { a: '1', b: '3' } })).digest).not.toBe(a);
    // The page size is not a filter: pages of a list may differ in size.
    expect(toAlertList(request({ serviceIds: ['x', 'y'], labelSelector: { a: '1', b: '2' }, pageSize: 5 })).digest).toBe(a);
  });

  it('continues after the cursor a token holds', () => {
    const filters = { statuses: [AlertStatus.ALERT_STATUS_TRIGGERED], labelSelector: { site: 'ams2' } };
    expect(toAlertList(request({ ...filters, pageToken: tokenFor(filters) })).after).toStrictEqual({
      createdAt: '2026-11-23T10:00:00.123456+00:00',
      id,
    });
  });

  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
  it.each<[string, Partial, string]>([
    ['a negative page size', { pageSize: -1 }, 'page_size'],
    ['a page size over 100000', { pageSize: 100_001 }, 'page_size'],
    ['a huge page size', { pageSize: 2 ** 31 - 1 }, 'page_size'],
    ['an unspecified status', { statuses: [AlertStatus.ALERT_STATUS_UNSPECIFIED] }, 'statuses[0]'],
    ['an unrecognised status', { statuses: [AlertStatus.ALERT_STATUS_TRIGGERED, AlertStatus.UNRECOGNIZED] }, 'statuses[1]'],
    ['a status number out of range', { statuses: [99 as alertingV1.AlertStatus] }, 'statuses[0]'],
    ['an unrecognised severity', { severities: [Severity.SEVERITY_INFO, Severity.UNRECOGNIZED] }, 'severities[1]'],
    ['an empty service id', { serviceIds: ['a', ''] }, 'service_ids[1]'],
    ['a long service id', { serviceIds: ['s'.repeat(257)] }, 'service_ids[0]'],
    ['101 service ids', { serviceIds: Array.from({ length: 101 }, (_, i) => `s${i}`) }, 'service_ids'],
    ['21 labels', { labelSelector: many(21) }, 'label_selector'],
    ['an empty label name', { labelSelector: { '': 'x' } }, 'label_selector'],
    ['a long label name', { labelSelector: { ['n'.repeat(257)]: 'x' } }, 'label_selector'],
    ['a long label value', { labelSelector: { site: 'v'.repeat(1025) } }, 'label_selector[site]'],
    ['created_after after created_before', { createdAfter: new Date(2000), createdBefore: new Date(1000) }, 'created_after'],
    ['an empty created range', { createdAfter: new Date(1000), createdBefore: new Date(1000) }, 'created_after'],
    ['updated_after after updated_before', { updatedAfter: new Date(2000), updatedBefore: new Date(1000) }, 'updated_after'],
    ['an invalid time', { createdBefore: new Date(Number.NaN) }, 'created_before'],
    ['a time past the year 9999', { updatedAfter: new Date(Date.parse('9999-12-31T23:59:59.999Z') + 1) }, 'updated_after'],
    ['a time before the year 1', { createdAfter: new Date(-62_135_596_800_001) }, 'created_after'],
    ['garbage as a token', { pageToken: 'garbage' }, 'page_token'],
    ['a token that is not base64url', { pageToken: 'a+b/c=' }, 'page_token'],
    ['a long token', { pageToken: 'a'.repeat(1025) }, 'page_token'],
  ])('rejects %s naming the field %s', (_, r, field) => {
    expect(invalidField(request(r))).toBe(field);
  });

  it.each<[string, () => string]>([
    ['a token for other filters', () => tokenFor({ statuses: [AlertStatus.ALERT_STATUS_RESOLVED] })],
    ['a token whose time is not PostgreSQL’s', () => tokenFor({}, ['yesterday', id])],
    ['a token whose id is not a UUID', () => tokenFor({}, ['2026-11-23T10:00:00+00:00', 'alert-1'])],
    ['a token with one key part', () => tokenFor({}, [id])],
    ['a token of another list', () => encodePageToken(['primary'], 'x')],
    ['JSON that is not a token', () => Buffer.from('{"k":"x"}').toString('base64url')],
  ])('rejects %s as page_token', (_, token) => {
    expect(invalidField(request({ pageToken: token() }))).toBe('page_token');
  });
});
