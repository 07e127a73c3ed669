import { describe, expect, it } from 'vitest';
import { ConfigError } from '@oncall/shared';
import { cliSettings, connectionFailure } from './settings.js';

describe('the CLI reads where the servers are as oncall up does', () => {
  it.each<[string, NodeJS.ProcessEnv, string | undefined, Record<string, unknown>]>([
    [
      'nothing set: the defaults of oncall up',
      {},
      undefined,
      {
        nats: expect.objectContaining({ address: 'nats://127.0.0.1:4222', from: 'the default, NATS_PORT 4222' }),
        database: expect.objectContaining({
          address: 'postgres://postgres:***@127.0.0.1:54329/oncall',
          from: 'the default, PG_PORT 54329',
        }),
        databaseUrl: 'postgres://postgres:postgres@127.0.0.1:54329/oncall',
        grpc: expect.objectContaining({ address: '127.0.0.1:50051', from: 'the default, GRPC_PORT 50051' }),
      },
    ],
    [
      'the ports of oncall up',
      { NATS_PORT: '14222', PG_PORT: '15432', GRPC_PORT: '15051' },
      undefined,
      {
        nats: expect.objectContaining({ address: 'nats://127.0.0.1:14222', from: 'NATS_PORT=14222' }),
        databaseUrl: 'postgres://postgres:postgres@127.0.0.1:15432/oncall',
        database: expect.objectContaining({ from: 'PG_PORT=15432' }),
        grpc: expect.objectContaining({ address: '127.0.0.1:15051', from: 'GRPC_PORT=15051' }),
      },
    ],
    [
      'URLs win over ports, as in oncall up',
      { NATS_URL: 'nats://n:1', NATS_PORT: '14222', DATABASE_URL: 'postgres://u:secret@db:5/x', PG_PORT: '15432' },
      undefined,
      {
        nats: expect.objectContaining({ address: 'nats://n:1', from: 'NATS_URL=nats://n:1' }),
        databaseUrl: 'postgres://u:secret@db:5/x',
        database: expect.objectContaining({ address: 'postgres://u:***@db:5/x' }),
      },
    ],
    [
      'empty URLs count as unset',
      { NATS_URL: '', DATABASE_URL: '', ONCALL_GRPC: '', NATS_PORT: '1' },
      undefined,
      { nats: expect.objectContaining({ address: 'nats://127.0.0.1:1' }), grpc: expect.objectContaining({ address: '127.0.0.1:50051' }) },
    ],
    [
      'a GRPC_HOST naming one address',
      { GRPC_HOST: '10.0.0.5', GRPC_PORT: '6' },
      undefined,
      { grpc: expect.objectContaining({ address: '10.0.0.5:6' }) },
    ],
    [
      'a wildcard GRPC_HOST: loopback',
      { GRPC_HOST: '0.0.0.0' },
      undefined,
      { grpc: expect.objectContaining({ address: '127.0.0.1:50051' }) },
    ],
    [
      'ONCALL_GRPC over GRPC_PORT',
      { ONCALL_GRPC: 'q:7', GRPC_PORT: '6' },
      undefined,
      { grpc: expect.objectContaining({ address: 'q:7', from: 'ONCALL_GRPC=q:7' }) },
    ],
    ['--grpc over everything', { ONCALL_GRPC: 'q:7' }, 'f:8', { grpc: expect.objectContaining({ address: 'f:8', from: '--grpc' }) }],
    [
      'the schema and topology settings',
      { READ_MODEL_SCHEMA: 'alt', ONCALL_PARTITIONS: '4' },
      undefined,
      { schema: 'alt', partitions: 4, replicas: 1 },
    ],
  ])('%s', (_name, env, flag, expected) => {
    expect(cliSettings(env, flag)).toMatchObject(expected);
  });

  it('a malformed setting is a ConfigError naming it', () => {
    expect(() => cliSettings({ GRPC_PORT: 'fifty' })).toThrow(ConfigError);
    expect(() => cliSettings({ PG_PORT: '70000' })).toThrow(/PG_PORT/);
  });

  it('finds the network failure inside an error', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(connectionFailure(new Error('connection refused', { cause: refused }))).toBe(refused);
    expect(connectionFailure(new AggregateError([new Error('x'), refused]))).toBe(refused);
    expect(connectionFailure(new Error('syntax error'))).toBeUndefined();
  });
});
