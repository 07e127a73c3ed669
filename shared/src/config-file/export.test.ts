import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { evolveConfig, initialConfigState, sha256Hex, type ConfigState } from '../index.js';
import { planApply, type PlannedEvent } from './apply.js';
import { exportConfig, fileInput, formatDuration } from './export.js';
import { checkConfigFile, checkConfigValue, readConfigFile } from './file.js';
import { validateTemplate } from './template-check.js';

const example = (name: string) => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));

function applied(state: ConfigState, planned: readonly PlannedEvent[]): ConfigState {
  return planned.reduce(
    (s, p, i) =>
      evolveConfig(s, { ...p, id: `id-${i}`, v: 1, occurredAt: '2026-01-01T00:00:00.000Z', causationId: null, correlationId: 't' }),
    state,
  );
}

describe('exportConfig', () => {
  it.each(['oncall.yaml', 'isp-noc.yaml', 'notification-rules.yaml'])(
    '%s: applied, exported and checked again, plans nothing',
    async (name) => {
      const file = await readConfigFile(example(name));
      const state = applied(initialConfigState(), planApply(initialConfigState(), file, false));
      const exported = exportConfig(state);
      const checked = await checkConfigValue(fileInput(exported), { validateTemplate });
      expect(checked.issues).toStrictEqual([]);
      expect(planApply(state, checked.file, false)).toStrictEqual([]);
      expect(planApply(state, checked.file, true)).toStrictEqual([]);
      // And as YAML text, as `oncall export` writes it.
      const again = await checkConfigFile(stringify(fileInput(exported)), `exported-${name}`, { validateTemplate });
      expect(planApply(state, again.file, true)).toStrictEqual([]);
    },
  );

  it('writes integration keys as their hashes, never the keys', async () => {
    const file = await readConfigFile(example('oncall.yaml'));
    const keys = file.services.flatMap((s) => s.integrationKeys.map((k) => ('key' in k ? k.key : '')));
    expect(keys.length).toBeGreaterThan(0);
    const state = applied(initialConfigState(), planApply(initialConfigState(), file, false));
    const text = stringify(fileInput(exportConfig(state)));
    for (const key of keys) expect(text).not.toContain(key);
    expect(text).toMatch(/keyHash: [0-9a-f]{64}/);
  });

  it.each([
    [
      { name: 'am', key: 'key-one-0123456789abcdef', keyHash: 'a'.repeat(64) },
      'services[0].integrationKeys[0]: give exactly one of key or keyHash',
    ],
    [{ name: 'am' }, 'services[0].integrationKeys[0]: give exactly one of key or keyHash'],
    [{ name: 'am', keyHash: 'ABC' }, 'services[0].integrationKeys[0].keyHash: use the hex SHA-256 of the key'],
  ])('checks an integration key given as %j', async (key, problem) => {
    const text = stringify({ services: [{ id: 'a', name: 'A', integrationKeys: [key] }] });
    await expect(checkConfigFile(text, 'f.yaml')).rejects.toThrow(`f.yaml: ${problem}`);
  });

  it('finds a key given once as a key and once as its hash', async () => {
    const key = 'key-one-0123456789abcdef';
    const keyHash = sha256Hex(key);
    const text = stringify({
      services: [
        { id: 'a', name: 'A', integrationKeys: [{ name: 'x', key }] },
        { id: 'b', name: 'B', integrationKeys: [{ name: 'y', keyHash }] },
      ],
    });
    await expect(checkConfigFile(text, 'f.yaml')).rejects.toThrow(
      'f.yaml: services[1].integrationKeys[0].keyHash: the same key is used by services[0].integrationKeys[0]',
    );
  });

  it('exports an empty state as an empty file', () => {
    expect(fileInput(exportConfig(initialConfigState()))).toStrictEqual({});
  });

  it.each([
    [0, '0s'],
    [90, '90s'],
    [300, '5m'],
    [7200, '2h'],
    [86400, '1d'],
    [90000, '25h'],
  ])('formats %i seconds as %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text));
});
