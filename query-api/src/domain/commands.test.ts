import { describe, expect, it } from 'vitest';
import { commandKey } from './commands.js';

describe('commandKey', () => {
  const base = {
    alertId: 'a1',
    command: 'escalate' as const,
    userId: 'alice',
    note: '',
    requestId: '',
    snoozeSeconds: null,
    lastEventSeq: 7,
  };

  it('is the same for a retry against the same alert state', () => {
    expect(commandKey(base)).toBe(commandKey({ ...base }));
  });

  it.each<[string, Partial<typeof base>]>([
    ['another user', { userId: 'bob' }],
    ['another note', { note: 'x' }],
    ['a later alert state', { lastEventSeq: 8 }],
    ['another command', { command: 'resolve' as never }],
    ['another alert', { alertId: 'a2' }],
  ])('differs for %s', (_, change) => {
    expect(commandKey({ ...base, ...change })).not.toBe(commandKey(base));
  });

  it('uses the request id alone when there is one', () => {
    expect(commandKey({ ...base, requestId: 'r1' })).toBe(commandKey({ ...base, requestId: 'r1', note: 'other', lastEventSeq: 99 }));
    expect(commandKey({ ...base, requestId: 'r1' })).not.toBe(commandKey({ ...base, requestId: 'r2' }));
  });
});
