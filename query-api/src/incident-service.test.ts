import { describe, expect, it } from 'vitest';
import { alertingV1 } from '@oncall/contracts/grpc';
import { InvalidArgument } from './errors.js';
import { pageToken, toIncidentFilter } from './incident-service.js';
import type { IncidentRow } from './read-model/incidents.js';

const { IncidentStatus } = alertingV1;
const request = (r: Parameters<typeof alertingV1.ListIncidentsRequest.fromPartial>[0]) => alertingV1.ListIncidentsRequest.fromPartial(r);

const row: IncidentRow = {
  incident_id: '3f1c7f5e-5b1e-4c59-9a53-0c3f6f9b7a10',
  service_id: 'checkout',
  group_key: 'checkout|site=fra1',
  group_labels: { site: 'fra1' },
  first_alert_id: '7d3c0b8e-2b9a-4a55-8b0c-1f1e4a9c2d33',
  summary: 'fra1 is down',
  opened_at: Date.parse('2026-11-23T10:00:00.123Z'),
  resolved_at: null,
  alert_count: 3,
  last_alert_at: null,
  updated_at: Date.parse('2026-11-23T10:00:00.123Z'),
  opened_key: '2026-11-23T10:00:00.123456+00:00',
};

function invalidField(r: alertingV1.ListIncidentsRequest): string {
  try {
    toIncidentFilter(r);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgument);
    return (err as InvalidArgument).field;
  }
  throw new Error('expected InvalidArgument');
}

describe('toIncidentFilter', () => {
  it('an empty request: both statuses, every service, the default page, from the start', () => {
    expect(toIncidentFilter(request({}))).toStrictEqual({ status: null, serviceIds: [], pageSize: 100, after: null });
  });

  it('statuses and page sizes', () => {
    expect(toIncidentFilter(request({ status: IncidentStatus.INCIDENT_STATUS_OPEN })).status).toBe('open');
    expect(toIncidentFilter(request({ status: IncidentStatus.INCIDENT_STATUS_RESOLVED })).status).toBe('resolved');
    expect(toIncidentFilter(request({ pageSize: 1000 })).pageSize).toBe(1000);
    expect(invalidField(request({ pageSize: 1001 }))).toBe('page_size');
    expect(invalidField(request({ status: 9 as alertingV1.IncidentStatus }))).toBe('status');
    expect(invalidField(request({ serviceIds: ['a', ' '] }))).toBe('service_ids[1]');
  });

  it('a page token continues after its incident (microseconds kept) for the same filters, services in any order', () => {
    const token = pageToken(row, 'open', ['b', 'a']);
    const f = toIncidentFilter(request({ status: IncidentStatus.INCIDENT_STATUS_OPEN, serviceIds: ['a', 'b'], pageToken: token }));
    expect(f.after).toStrictEqual({ openedAt: '2026-11-23T10:00:00.123456+00:00', incidentId: row.incident_id });
    expect(invalidField(request({ serviceIds: ['a', 'b'], pageToken: token }))).toBe('page_token');
    expect(invalidField(request({ pageToken: 'not a token' }))).toBe('page_token');
    expect(invalidField(request({ pageToken: Buffer.from('{"at":"x","id":"y","f":"z"}').toString('base64url') }))).toBe('page_token');
  });
});
