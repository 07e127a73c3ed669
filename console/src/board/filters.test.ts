import { describe, expect, it } from 'vitest';
import type { BoardAlert } from '@oncall/contracts/console-api';
import { filterText, matches, parseFilterText, parseView, viewQuery } from './filters';
import { layoutBoard } from './groups';
import { boardAlert } from './testing';

const alert = (id: string, over: Partial<BoardAlert> = {}): BoardAlert =>
  boardAlert(id, { summary: 'Disk full on db-1', labels: { site: 'ams2', tier: 'enterprise' }, ...over });

describe('the board view in the URL', () => {
  it('round-trips through the query string, defaults left out', () => {
    const q = '?status=triggered%2Cacknowledged&severity=critical&q=disk&site=ams2&tier=enterprise%2Cgold&group=site&wall=1';
    const view = parseView(new URLSearchParams(q));
    expect(view).toEqual({
      statuses: ['triggered', 'acknowledged'],
      severities: ['critical'],
      text: 'disk',
      labels: [
        { key: 'site', values: ['ams2'] },
        { key: 'tier', values: ['enterprise', 'gold'] },
      ],
      group: 'site',
      wall: true,
    });
    expect(viewQuery(view)).toBe(q);
    expect(viewQuery(parseView(new URLSearchParams('')))).toBe('');
    expect(parseView(new URLSearchParams('group=bogus&site=')).group).toBe('service');
    expect(parseView(new URLSearchParams('site=')).labels).toEqual([]);
  });

  it('reads the filter box: key=value words are labels, the rest free text', () => {
    expect(parseFilterText('site=ams2  disk tier=a,b full = x= status=acked')).toEqual({
      labels: [
        { key: 'site', values: ['ams2'] },
        { key: 'tier', values: ['a', 'b'] },
      ],
      text: 'disk full = x= status=acked',
    });
    expect(filterText(parseFilterText('site=ams2 disk'))).toBe('site=ams2 disk');
  });

  const cases: [string, string, Partial<BoardAlert>, boolean][] = [
    ['no filter', '', {}, true],
    ['site by placement', 'site=ams2', {}, true],
    ['site by placement beats the label', 'site=fra1', { site: 'ams2', labels: { site: 'fra1' } }, false],
    ['site label when not placed', 'site=fra1', { site: null, labels: { site: 'fra1' } }, true],
    ['another site', 'site=fra1', {}, false],
    ['any of a list', 'site=fra1,ams2', {}, true],
    ['a missing label', 'carrier=kpn', {}, false],
    ['service', 'service=checkout', {}, true],
    ['status', 'status=acknowledged', {}, false],
    ['severity', 'severity=critical,error', {}, true],
    ['free text, any case, every word', 'q=DISK db', {}, true],
    ['free text not there', 'q=cpu', {}, false],
  ];
  it.each(cases)('%s', (_name, q, over, expected) => {
    expect(matches(alert('a', over), parseView(new URLSearchParams(q)))).toBe(expected);
  });
});

describe('the board layout', () => {
  it('groups with counts, most urgent group and alert first', () => {
    const alerts = [
      alert('w', { serviceId: 'api', severity: 'warning' }),
      alert('c-old', { serviceId: 'web', createdAt: '2026-12-06T05:00:00.000Z' }),
      alert('c-new', { serviceId: 'web' }),
      alert('c-acked', { serviceId: 'web', status: 'acknowledged', createdAt: '2026-12-06T07:00:00.000Z' }),
      alert('i', { serviceId: 'api', severity: 'info' }),
    ];
    const layout = layoutBoard(alerts, 'service');
    expect(layout.lines.map((l) => (l.kind === 'group' ? `[${l.key} ${l.total}]` : l.id))).toEqual([
      '[web 3]',
      'c-new',
      'c-old',
      'c-acked',
      '[api 2]',
      'w',
      'i',
    ]);
    expect(layout.lines[4]).toMatchObject({ bySeverity: { warning: 1, info: 1 } });
    expect(layout.bySeverity).toEqual({ critical: 3, warning: 1, info: 1 });
    expect(
      layoutBoard(alerts, 'severity')
        .lines.filter((l) => l.kind === 'group')
        .map((l) => l.kind === 'group' && l.key),
    ).toEqual(['critical', 'warning', 'info']);
    expect(layoutBoard([alert('x', { site: null, labels: {} })], 'site').lines[0]).toMatchObject({ label: '(no site)' });
    expect(layoutBoard(alerts, 'none').lines).toHaveLength(5);
  });
});
