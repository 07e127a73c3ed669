import { describe, expect, it } from 'vitest';
import { ConfigFileError, parseConfigFile } from './config-file.js';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';

/** Message of the ConfigFileError that parsing `text` as f.yaml throws. */
function errorOf(text: string): string {
  let caught: unknown;
  try {
    parseConfigFile(text, 'f.yaml');
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigFileError);
  return (caught as ConfigFileError).message;
}

const service = (id: string, key = KEY_A) => `  - id: ${id}\n    name: N\n    integrationKeys:\n      - name: k\n        key: ${key}\n`;

describe('parseConfigFile', () => {
  it('parses a valid file and applies defaults', () => {
    const text = ['services:', '  - id: payments', '    name: Payments', '    integrationKeys:', '      - name: am', `        key: ${KEY_A}`, '  - id: web-2', '    name: Web', '    description: front end', ''].join('\n');
    expect(parseConfigFile(text, 'f.yaml')).toStrictEqual({
      services: [
        { id: 'payments', name: 'Payments', description: '', integrationKeys: [{ name: 'am', key: KEY_A }] },
        { id: 'web-2', name: 'Web', description: 'front end', integrationKeys: [] },
      ],
      heartbeats: [],
    });
  });

  it.each<[string, number]>([
    ['10s', 10],
    ['5m', 300],
    ['25h', 90_000],
    ['7d', 604_800],
  ])('reads a heartbeat interval of %s as %i seconds', (interval, seconds) => {
    const text = `services:\n  - { id: jobs, name: Jobs }\nheartbeats:\n  - { id: backup, name: Backup, service: jobs, interval: ${interval} }\n`;
    expect(parseConfigFile(text, 'f.yaml').heartbeats).toStrictEqual([{ id: 'backup', name: 'Backup', service: 'jobs', interval: seconds }]);
  });

  it.each<[string, string, string]>([
    ['an interval without unit', '{ id: b, name: B, service: jobs, interval: 30 }', 'heartbeats[0].interval: Expected string'],
    ['an interval in weeks', '{ id: b, name: B, service: jobs, interval: 2w }', 'heartbeats[0].interval: use a number and a unit'],
    ['an interval under 10 s', '{ id: b, name: B, service: jobs, interval: 5s }', 'heartbeats[0].interval: must be between 10s and 30d'],
    ['a service not in the file', '{ id: b, name: B, service: nope, interval: 5m }', 'heartbeats[0].service: no service "nope" in this file'],
  ])('rejects a heartbeat with %s', (_, monitor, message) => {
    const text = `services:\n  - { id: jobs, name: Jobs }\nheartbeats:\n  - ${monitor}\n`;
    expect(() => parseConfigFile(text, 'f.yaml')).toThrow(`f.yaml: ${message}`);
  });

  it.each(['', '\n', '# only a comment\n', 'services:\n'])('an empty file %j gives no services', (text) => {
    expect(parseConfigFile(text, 'f.yaml')).toStrictEqual({ services: [], heartbeats: [] });
  });

  it.each<[string, string, string]>([
    ['an unknown top-level key', 'servics: []\n', "f.yaml: (root): Unrecognized key(s) in object: 'servics'"],
    ['an unknown key in a service (typo)', 'services:\n  - id: a\n    name: A\n    descripton: x\n', "f.yaml: services[0]: Unrecognized key(s) in object: 'descripton'"],
    ['an upper-case id', 'services:\n  - id: Payments\n    name: A\n', 'f.yaml: services[0].id: use 1-63 lower-case letters, digits and dashes'],
    ['an id starting with a dash', 'services:\n  - id: -a\n    name: A\n', 'f.yaml: services[0].id: use 1-63'],
    ['a missing name', 'services:\n  - id: a\n', 'f.yaml: services[0].name: Required'],
    ['a key shorter than 16 characters', `services:\n${service('a', 'short-key')}`, 'f.yaml: services[0].integrationKeys[0].key: integration keys need at least 16 characters'],
    ['a key with white space', `services:\n${service('a', '"0123456789abcdef ghi"')}`, 'f.yaml: services[0].integrationKeys[0].key: no white space'],
    ['a duplicate service id', `services:\n${service('a', KEY_A)}${service('a', KEY_B)}`, 'f.yaml: services[1].id: duplicate service id "a" (also services[0])'],
    ['the same key used twice', `services:\n${service('a', KEY_A)}${service('b', KEY_A)}`, 'f.yaml: services[1].integrationKeys[0].key: the same key is used by services[0].integrationKeys[0]'],
    ['services that is not a list', 'services: {}\n', 'f.yaml: services: Expected array, received object'],
  ])('rejects %s', (_, text, expected) => {
    expect(errorOf(text)).toContain(expected);
  });

  it('reports every problem, one per line', () => {
    const lines = errorOf('services:\n  - id: A\n    name: ""\n').split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^f\.yaml: services\[0\]\.id: /);
    expect(lines[1]).toMatch(/^f\.yaml: services\[0\]\.name: /);
  });

  it.each<[string, string, number]>([
    ['a block inside a flow list', 'services: [\n  - id: a\n', 2],
    ['a bad indentation', 'services:\n  - id: a\n    name: b\n   x: : y\n', 4],
    ['a duplicate map key', 'services: []\nservices: []\n', 2],
  ])('rejects invalid YAML (%s) naming the line', (_, text, line) => {
    expect(errorOf(text)).toMatch(new RegExp(`^f\\.yaml: not valid YAML \\(line ${line}, column \\d+\\): `));
  });
});
