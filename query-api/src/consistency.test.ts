import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@oncall/shared';
import { Consistency } from './consistency.js';
import { InvalidArgument } from './errors.js';
import type { CallContext } from './handlers.js';

const log = createLogger('test', 'silent');

function context(peer: string, headers: Record<string, string> = {}): CallContext & { sent: Metadata[] } {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  const sent: Metadata[] = [];
  return { signal: new AbortController().signal, deadline: null, peer, metadata, sendMetadata: (md) => sent.push(md), sent };
}

describe('Consistency', () => {
  it('sends the sequence a write produced as x-oncall-log-sequence', () => {
    const ctx = context('ipv4:10.0.0.1:1');
    new Consistency(null, log).wrote(ctx, 42);
    expect(ctx.sent.map((md) => md.get('x-oncall-log-sequence'))).toStrictEqual([['config:42']]);
  });

  it.each(['42', 'config:', 'config:-1', 'alerts:4', 'config:1e3'])('refuses x-oncall-min-sequence %j naming the header', async (value) => {
    const err: unknown = await new Consistency(null, log).before(context('p', { 'x-oncall-min-sequence': value })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgument);
    expect((err as InvalidArgument).field).toBe('x-oncall-min-sequence');
  });

  it('accepts config:<seq>; without a projection feed it does not wait', async () => {
    await expect(new Consistency(null, log).before(context('p', { 'x-oncall-min-sequence': 'config:7' }))).resolves.toBeUndefined();
  });
});
