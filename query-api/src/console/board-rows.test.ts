import { describe, expect, it } from 'vitest';
import { boardRowOf, pagedUsers } from './board-rows.js';

describe('board rows', () => {
  it('reads a row of PostgreSQL text', () => {
    const row = boardRowOf([
      '5b1f8a52-3c1e-4f0a-9a57-1f0c2d9e7a41',
      'checkout',
      'acknowledged',
      'critical',
      'Disk full',
      null,
      '{"site": "ams1", "pop": "ams"}',
      '2026-12-06 07:00:00.123+00',
      '2026-12-06 08:00:00+01',
      '1',
      '[{"type": "user", "userId": "alice", "via": "primary"}, {"type": "slack", "channel": "#noc"}]',
      'alice',
      null,
      null,
      't',
      'flapped',
      '3',
      '42',
      '7',
    ]);
    expect(row).toStrictEqual({
      alert: {
        id: '5b1f8a52-3c1e-4f0a-9a57-1f0c2d9e7a41',
        serviceId: 'checkout',
        status: 'acknowledged',
        severity: 'critical',
        summary: 'Disk full',
        site: 'ams1',
        labels: { site: 'ams1', pop: 'ams' },
        createdAt: '2026-12-06T07:00:00.123Z',
        updatedAt: '2026-12-06T07:00:00.000Z',
        step: 1,
        paged: ['alice'],
        acknowledgedBy: 'alice',
        snoozedUntil: null,
        incidentId: null,
        inhibited: true,
        flapping: true,
        repeatCount: 3,
      },
      alertSeq: 42,
      escalationSeq: 7,
    });
  });

  it('prefers the storm-sense site, and reads an alert not routed yet', () => {
    const row = boardRowOf([
      'id',
      's',
      'triggered',
      'info',
      'x',
      'fra2',
      '{"site": "ams1"}',
      '2026-12-06 07:00:00+00',
      '2026-12-06 07:00:00+00',
      null,
      null,
      null,
      null,
      null,
      null,
      'ended',
      '0',
      '5',
      null,
    ]);
    expect(row.alert).toMatchObject({ site: 'fra2', step: null, paged: [], inhibited: false, flapping: false });
    expect(row.escalationSeq).toBe(0);
  });

  it.each([
    [null, []],
    ['[]', []],
    ['{}', []],
    ['[{"type":"user","userId":"bob"},{"type":"user","userId":"bob"},{"type":"webhook","url":"x"}]', ['bob']],
  ])('paged users of %s', (json, users) => {
    expect(pagedUsers(json)).toStrictEqual(users);
  });
});
