import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { evolveConfig, initialConfigState, type ConfigState } from '@oncall/shared';
import { planApply, type PlannedEvent } from './apply.js';
import type { ConfigFile } from './config-file.js';

type FileService = ConfigFile['services'][number];

const KEY_1 = 'key-one-0123456789abcdef';
const KEY_2 = 'key-two-0123456789abcdef';
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const svc = (id: string, over: Partial<FileService> = {}): FileService => ({
  id,
  name: `Service ${id}`,
  description: '',
  integrationKeys: [{ name: 'am', key: KEY_1 }],
  ...over,
});
const file = (...services: FileService[]): ConfigFile => ({ services, heartbeats: [] });

/** Appends planned events to a state as the log would, with made-up metadata. */
function applied(state: ConfigState, planned: PlannedEvent[]): ConfigState {
  return planned.reduce(
    (s, p, i) =>
      evolveConfig(s, { ...p, id: `id-${i}`, v: 1, occurredAt: '2026-01-01T00:00:00.000Z', causationId: null, correlationId: 't' }),
    state,
  );
}
const stateOf = (f: ConfigFile): ConfigState => applied(initialConfigState(), planApply(initialConfigState(), f, false));

describe('planApply', () => {
  it('on an empty state plans one ServiceConfigured per service, with key hashes only', () => {
    const f = file(svc('a'), svc('b', { description: 'd', integrationKeys: [{ name: 'x', key: KEY_2 }] }));
    const planned = planApply(initialConfigState(), f, false);
    expect(planned).toStrictEqual([
      { type: 'ServiceConfigured', data: { serviceId: 'a', name: 'Service a', description: '', integrationKeys: [{ name: 'am', keyHash: sha256(KEY_1) }] } },
      { type: 'ServiceConfigured', data: { serviceId: 'b', name: 'Service b', description: 'd', integrationKeys: [{ name: 'x', keyHash: sha256(KEY_2) }] } },
    ]);
    expect(JSON.stringify(planned)).not.toContain(KEY_1);
    expect(JSON.stringify(planned)).not.toContain(KEY_2);
  });

  it('plans nothing once the plan is applied', () => {
    const f = file(svc('a'), svc('b', { integrationKeys: [] }));
    expect(planApply(stateOf(f), f, true)).toStrictEqual([]);
  });

  it('does not care about the order of keys in the file', () => {
    const keys = [{ name: 'k1', key: KEY_1 }, { name: 'k2', key: KEY_2 }];
    const current = stateOf(file(svc('a', { integrationKeys: keys })));
    expect(planApply(current, file(svc('a', { integrationKeys: [...keys].reverse() })), false)).toStrictEqual([]);
  });

  it.each<[string, Partial<FileService>]>([
    ['a new name', { name: 'Renamed' }],
    ['a new description', { description: 'now described' }],
    ['an added key', { integrationKeys: [{ name: 'am', key: KEY_1 }, { name: 'new', key: KEY_2 }] }],
    ['a replaced key', { integrationKeys: [{ name: 'am', key: KEY_2 }] }],
    ['a renamed key', { integrationKeys: [{ name: 'renamed', key: KEY_1 }] }],
    ['no keys', { integrationKeys: [] }],
  ])('plans exactly one ServiceConfigured for %s', (_, change) => {
    const current = stateOf(file(svc('a'), svc('b', { integrationKeys: [] })));
    const planned = planApply(current, file(svc('a', change), svc('b', { integrationKeys: [] })), false);
    expect(planned).toHaveLength(1);
    expect(planned[0]).toMatchObject({ type: 'ServiceConfigured', data: { serviceId: 'a' } });
    expect(planApply(applied(current, planned), file(svc('a', change), svc('b', { integrationKeys: [] })), false)).toStrictEqual([]);
  });

  it.each<[boolean, PlannedEvent[]]>([
    [false, []],
    [true, [{ type: 'ServiceRemoved', data: { serviceId: 'b' } }]],
  ])('with prune=%s, a service missing from the file plans %j', (prune, expected) => {
    const current = stateOf(file(svc('a'), svc('b', { integrationKeys: [] })));
    expect(planApply(current, file(svc('a')), prune)).toStrictEqual(expected);
  });

  it('with prune, an empty file removes every service', () => {
    const current = stateOf(file(svc('a'), svc('b', { integrationKeys: [] })));
    const planned = planApply(current, file(), true);
    expect(planned).toStrictEqual([
      { type: 'ServiceRemoved', data: { serviceId: 'a' } },
      { type: 'ServiceRemoved', data: { serviceId: 'b' } },
    ]);
    expect(applied(current, planned).services.size).toBe(0);
  });
});
