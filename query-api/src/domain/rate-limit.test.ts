import { describe, expect, it } from 'vitest';
import { blocked, peerAddress, recordFailure, type Failures } from './rate-limit.js';

const LIMIT = { max: 3, windowMs: 60_000 };

describe('failed-authentication limit', () => {
  it.each<[string, number[], number, boolean]>([
    ['no failures', [], 0, false],
    ['fewer failures than the limit', [0, 1000], 2000, false],
    ['the limit reached within the window', [0, 1000, 2000], 3000, true],
    ['still blocked just before the window ends', [0, 1000, 2000], 59_999, true],
    ['free again when the window ends', [0, 1000, 2000], 60_000, false],
    ['failures spread over two windows do not add up', [0, 1000, 60_500], 61_000, false],
    ['the limit reached in a later window', [0, 60_000, 60_001, 60_002], 60_003, true],
  ])('%s', (_, failuresAt, now, expected) => {
    const failures = failuresAt.reduce<Failures | undefined>((f, at) => recordFailure(f, at, LIMIT), undefined);
    expect(blocked(failures, now, LIMIT)).toBe(expected);
  });

  it.each([
    ['ipv4:127.0.0.1:50123', '127.0.0.1'],
    ['10.0.0.7:443', '10.0.0.7'],
    ['ipv6:[::1]:50123', '::1'],
    ['[2001:db8::1]:8080', '2001:db8::1'],
    ['unix:/tmp/sock', 'unix:/tmp/sock'],
  ])('the address of peer %s is %s', (peer, address) => {
    expect(peerAddress(peer)).toBe(address);
  });
});
