import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { STREAMS } from '@oncall/contracts';
import { loadConfig, sha256Hex } from '@oncall/shared';
import { applyConfig, parseConfigFile } from '@oncall/infra';
import { prepareTopology, startTestNats, streamLastSeq, type TestNats } from './harness.js';

const file = (name: string, keys: string[]) =>
  parseConfigFile(
    `services:\n  - id: payments\n    name: ${name}\n    integrationKeys:\n${keys.map((k, i) => `      - { name: k${i}, key: ${k} }`).join('\n')}\n`,
    'payments.yaml',
  );

describe('oncall apply', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    await prepareTopology(nc);
  });
  afterAll(async () => nats?.stop());

  it('appends the configuration once; the same file again changes nothing', async () => {
    const f = file('Payments', ['payments-key-aaaaaaaa']);
    expect(await applyConfig(nc, f)).toHaveLength(1);
    expect(await applyConfig(nc, f)).toEqual([]);
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(1);
    const { state } = await loadConfig(nc);
    expect(state.serviceByKeyHash.get(sha256Hex('payments-key-aaaaaaaa'))).toBe('payments');
  });

  it('appends one event for a change, and the log never holds the key itself', async () => {
    const applied = await applyConfig(nc, file('Payments', ['payments-key-aaaaaaaa', 'payments-key-bbbbbbbb']));
    expect(applied).toHaveLength(1);
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(2);
    expect(JSON.stringify(applied)).not.toContain('payments-key-bbbbbbbb');
    const { state } = await loadConfig(nc);
    expect(state.services.get('payments')?.integrationKeys).toHaveLength(2);
  });

  it('removes services missing from the file only with prune', async () => {
    const empty = parseConfigFile('services: []', 'empty.yaml');
    expect(await applyConfig(nc, empty)).toEqual([]);
    expect(await applyConfig(nc, empty, { prune: true })).toEqual([{ type: 'ServiceRemoved', data: { serviceId: 'payments' } }]);
    expect((await loadConfig(nc)).state.services.size).toBe(0);
  });
});
