import { describe, expect, it } from 'vitest';
import type { ConfigEvent, EventData } from '@oncall/contracts';
import { destinationKey, evolveConfig, initialConfigState, type ConfigState } from './config.js';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const H3 = '3'.repeat(64);
const META = { id: 'e', v: 1, occurredAt: '2026-01-01T00:00:00.000Z', causationId: null, correlationId: 't' };

const configured = (serviceId: string, ...hashes: string[]): ConfigEvent => ({
  type: 'ServiceConfigured',
  data: { serviceId, name: serviceId, description: '', integrationKeys: hashes.map((keyHash, i) => ({ name: `k${i}`, keyHash })) },
  ...META,
});
const removed = (serviceId: string): ConfigEvent => ({ type: 'ServiceRemoved', data: { serviceId }, ...META });
const fold = (...events: ConfigEvent[]): ConfigState => events.reduce(evolveConfig, initialConfigState());
const index = (s: ConfigState): Record<string, string> => Object.fromEntries(s.serviceByKeyHash);

describe('evolveConfig', () => {
  it('starts empty', () => {
    expect(initialConfigState().services.size).toBe(0);
    expect(initialConfigState().serviceByKeyHash.size).toBe(0);
  });

  it.each<[string, ConfigEvent[], string[], Record<string, string>]>([
    ['ServiceConfigured stores the service and indexes its keys', [configured('a', H1, H2)], ['a'], { [H1]: 'a', [H2]: 'a' }],
    ['a second service is indexed beside the first', [configured('a', H1), configured('b', H2)], ['a', 'b'], { [H1]: 'a', [H2]: 'b' }],
    ['reconfiguring with a new key drops the old hash', [configured('a', H1), configured('a', H3)], ['a'], { [H3]: 'a' }],
    ['reconfiguring with no keys drops every hash', [configured('a', H1, H2), configured('a')], ['a'], {}],
    ['ServiceRemoved drops the service and its keys', [configured('a', H1), configured('b', H2), removed('a')], ['b'], { [H2]: 'b' }],
    ['removing an unknown service changes nothing', [configured('a', H1), removed('zzz')], ['a'], { [H1]: 'a' }],
  ])('%s', (_, events, services, keys) => {
    const state = fold(...events);
    expect([...state.services.keys()]).toStrictEqual(services);
    expect(index(state)).toStrictEqual(keys);
  });

  it('keeps the latest configuration of a service', () => {
    const latest = configured('a', H3);
    expect(fold(configured('a', H1), latest).services.get('a')).toStrictEqual(latest.data as EventData<'ServiceConfigured'>);
  });

  it('keeps the latest registered destination per owner and channel', () => {
    const registered = (ownerId: string, channel: 'slack' | 'webhook', address: string): ConfigEvent => ({
      type: 'DestinationRegistered',
      data: { ownerId, channel, address, registeredBy: null },
      ...META,
    });
    const state = fold(
      registered('noc', 'slack', 'C0OLD0001'),
      registered('noc', 'webhook', 'https://a.example.com'),
      registered('noc', 'slack', 'C0NEW0001'),
    );
    expect(state.destinations.get(destinationKey('noc', 'slack'))?.address).toBe('C0NEW0001');
    expect(state.destinations.get(destinationKey('noc', 'webhook'))?.address).toBe('https://a.example.com');
    expect(state.destinations.size).toBe(2);
  });

  it('does not change the state it is given', () => {
    const before = fold(configured('a', H1));
    evolveConfig(before, configured('a', H2));
    evolveConfig(before, removed('a'));
    expect([...before.services.keys()]).toStrictEqual(['a']);
    expect(index(before)).toStrictEqual({ [H1]: 'a' });
  });
});

describe('evolveConfig: integration key expiry and API tokens', () => {
  it('indexes the end of a key being rotated out, and forgets it with the key', () => {
    const rotating: ConfigEvent = {
      type: 'ServiceConfigured',
      data: {
        serviceId: 'a',
        name: 'a',
        description: '',
        integrationKeys: [
          { name: 'old', keyHash: H1, notAfter: '2026-02-01T00:00:00.000Z' },
          { name: 'new', keyHash: H2 },
        ],
      },
      ...META,
    };
    expect(Object.fromEntries(fold(rotating).keyNotAfter)).toStrictEqual({ [H1]: '2026-02-01T00:00:00.000Z' });
    expect(index(fold(rotating))).toStrictEqual({ [H1]: 'a', [H2]: 'a' });
    expect(fold(rotating, configured('a', H2)).keyNotAfter.size).toBe(0);
  });

  const created: ConfigEvent = {
    type: 'ApiTokenCreated',
    data: {
      tokenId: 'abc123def456',
      name: 'ci',
      scopes: ['read'],
      userId: null,
      tokenHash: H1,
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: null,
    },
    ...META,
  };
  const revoked = (tokenId: string): ConfigEvent => ({ type: 'ApiTokenRevoked', data: { tokenId }, ...META });

  it.each<[string, ConfigEvent[], boolean | undefined]>([
    ['a created token is live', [created], false],
    ['a revoked token is kept, marked', [created, revoked('abc123def456')], true],
    ['revoking another id leaves it live', [created, revoked('ffffffffffff')], false],
    ['revoking before creation records nothing', [revoked('abc123def456')], undefined],
  ])('%s', (_, events, isRevoked) => {
    expect(fold(...events).apiTokens.get('abc123def456')?.revoked).toBe(isRevoked);
  });
});
