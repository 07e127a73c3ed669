import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { createLogger, initialConfigState, type ConfigView } from '@oncall/shared';
import { webhookProvider } from '../providers/webhook/index.js';
import { ConfiguredProviders, resolveSecret, SecretMissing } from './providers.js';

const base: TicketProviderConfig = {
  providerId: 'hooks',
  type: 'webhook',
  name: 'Hooks',
  settings: { url: 'http://127.0.0.1:1/tickets' },
  auth: { kind: 'none' },
  fields: { title: 'alert.summary' },
  sync: {
    onAcknowledge: { transition: null, comment: false },
    onResolve: { transition: null, comment: false },
    onReopen: { transition: null, comment: false },
    resolveAlertOn: [],
    mirrorComments: false,
    pollSeconds: null,
  },
  inboundSecret: null,
};

const providersWith = (config: TicketProviderConfig, env: Record<string, string> = {}) => {
  Object.assign(process.env, env);
  const view = {
    state: () => ({ ...initialConfigState(), ticketProviders: new Map([[config.providerId, config]]) }),
  } as unknown as ConfigView;
  // A build with the webhook provider only (every type ships now: this one stands for a build that lacks one).
  const registry = { webhook: webhookProvider };
  return new ConfiguredProviders(view, { fetch, timeoutMs: 1000, now: () => new Date(), log: createLogger('test', 'silent'), registry });
};

describe('configured providers', () => {
  it.each([
    ['a type this build lacks', { ...base, type: 'jira' as const }, /jira is not available/, false],
    ['settings the provider refuses', { ...base, settings: {} }, /settings\.url/, false],
    ['a field that does not compile', { ...base, fields: { title: 'alert.nope' } }, /field title/, false],
    ['a secret that is not set', { ...base, inboundSecret: { env: 'PROVIDERS_TEST_UNSET' } }, /PROVIDERS_TEST_UNSET is not set/, true],
  ])('%s: unusable, with the reason', (_, config, error, retryable) => {
    const got = providersWith(config).get('hooks');
    if (!got || !('error' in got)) throw new Error('expected an unusable provider');
    expect(got.error).toMatch(error);
    expect(got.retryable).toBe(retryable);
  });

  it('builds a usable provider, and nothing for an id not configured', () => {
    const providers = providersWith({ ...base, inboundSecret: { env: 'PROVIDERS_TEST_SET' } }, { PROVIDERS_TEST_SET: 'x' });
    const got = providers.get('hooks');
    expect(got && !('error' in got) && got.fields.fields).toEqual(['title']);
    expect(providers.get('other')).toBeUndefined();
  });
});

describe('resolveSecret', () => {
  it('reads env and files (trimmed), and names what is missing without a value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secret-'));
    await writeFile(join(dir, 'token'), 's3cret\n');
    expect(resolveSecret({ env: 'A' }, { A: 'v' })).toBe('v');
    expect(resolveSecret({ file: join(dir, 'token') })).toBe('s3cret');
    expect(() => resolveSecret({ env: 'B' }, {})).toThrow(SecretMissing);
    expect(() => resolveSecret({ file: join(dir, 'none') })).toThrow(`secret file ${join(dir, 'none')} cannot be read (ENOENT)`);
  });
});
